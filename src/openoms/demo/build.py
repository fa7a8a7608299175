"""The whole demo data set, from a seed and a moment: no database, no clock, no global random.

Each part draws from its own stream (network, catalogue, one per location for stock), so asking
for more SKUs does not move the stores, and a snapshot can be generated again row for row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from openoms.db.repositories.stock import SnapshotRow
from openoms.demo.catalog import build_catalog
from openoms.demo.channels import DemoChannel, demo_channels
from openoms.demo.geography import french_towns
from openoms.demo.network import TIMEZONE, build_network
from openoms.demo.seeding import stream
from openoms.demo.stock import full_snapshot, recount
from openoms.domain.catalog import Sku
from openoms.domain.network import Location

_RECOUNT_DELAY = timedelta(hours=1)


@dataclass(frozen=True)
class DemoData:
    """Stock is not held here but generated on demand: 300,000 rows are cheap to make again."""

    seed: int
    now: datetime
    locations: list[Location]
    skus: list[Sku]
    channels: list[DemoChannel]
    popularity: dict[str, float]
    """Each SKU's share of demand (the shares sum to 1): draw benchmark baskets from it."""

    def snapshot(self, as_of: datetime | None = None) -> Iterator[SnapshotRow]:
        """Every SKU at every location, counted at `as_of` (default `now`); the same each call."""
        counted = _aware(as_of or self.now)
        return full_snapshot(self.locations, self.skus, self.popularity, self.seed, counted)

    def changed_snapshot(
        self, as_of: datetime | None = None, share: float = 0.5
    ) -> Iterator[SnapshotRow]:
        """Every position counted again at `as_of` (default an hour after `now`), `share` changed.

        The changes are against `snapshot()`; `recount` chains recounts that each differ from the
        one before. `as_of` must be later than `now`, when `snapshot()` counts by default: an
        older or equally old snapshot of a position is ignored as stale, and would measure nothing.
        """
        recounted = _aware(as_of or self.now + _RECOUNT_DELAY)
        if recounted <= self.now:
            raise ValueError(f"as_of ({recounted.isoformat()}) must be after now")
        return recount(self.snapshot(), seed=self.seed, as_of=recounted, share=share)


def build_demo(
    seed: int = 42, *, now: datetime, store_count: int = 150, sku_count: int = 2_000
) -> DemoData:
    """`now` sets the holiday horizon (its next 365 days) and the snapshots' default as_of."""
    towns = french_towns()
    if not 0 < store_count <= len(towns):
        raise ValueError(f"store count must be within 1..{len(towns)}, not {store_count}")
    today = _aware(now).astimezone(ZoneInfo(TIMEZONE)).date()
    locations = build_network(stream(seed, "network"), towns[:store_count], today)
    skus, popularity = build_catalog(stream(seed, "catalog"), sku_count)
    return DemoData(seed, now, locations, skus, demo_channels(), popularity)


def _aware(moment: datetime) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no time zone offset")
    return moment
