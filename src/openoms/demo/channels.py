"""The demo's sales channels and what each may sell.

- `web` and `app` are the retailer's own shop: they sell warehouse, store and dropship stock.
  A store keeps one unit back (the last one on a shelf is often shop-soiled, mislaid or already
  in a customer's hands), and a supplier five (its feed is a daily file, hours old). Franchise
  stores own their stock and do not publish it online. The second-hand hub and the wholesale
  partner are left out: pre-owned units and a partner's stock are not the new item the page sells.
  A store publishes nothing under 2 units left after its buffer (a lone unit is the one most
  likely missing at picking); a warehouse's last unit is the most reliable there is, so
  warehouses have no minimum.
- `marketplace:amazon` sells warehouse stock only, two units back and nothing under five: a
  marketplace cancellation costs the seller account more than the sale earns.
"""

from __future__ import annotations

from dataclasses import dataclass

from openoms.demo.network import FRANCHISE_TAG
from openoms.domain.availability import PublicationRule
from openoms.domain.network import LocationKind


@dataclass(frozen=True, slots=True)
class DemoChannel:
    code: str
    name: str
    rule: PublicationRule


def demo_channels() -> list[DemoChannel]:
    own_shop = PublicationRule(
        kinds=frozenset({LocationKind.WAREHOUSE, LocationKind.STORE, LocationKind.SUPPLIER}),
        excluded_tags=frozenset({FRANCHISE_TAG}),
        buffers={LocationKind.STORE: 1, LocationKind.SUPPLIER: 5},
        minimums={LocationKind.STORE: 2},
    )
    marketplace = PublicationRule(
        kinds=frozenset({LocationKind.WAREHOUSE}),
        buffers={LocationKind.WAREHOUSE: 2},
        minimums={LocationKind.WAREHOUSE: 5},
    )
    return [
        DemoChannel("web", "Web shop", own_shop),
        DemoChannel("app", "Mobile app", own_shop),
        DemoChannel("marketplace:amazon", "Amazon marketplace", marketplace),
    ]
