"""Stock snapshots of the demo network: every SKU at every location, as WMSs and tills send them.

Depth looks like retail stock: a warehouse holds hundreds of most SKUs, in proportion to its
throughput, and has a few out of stock; a store holds a few units of part of the range, more in a
big store and of popular SKUs, and many zeros; a dropship supplier holds plenty of its own
categories and nothing else; the second-hand hub holds a unit or two of a few SKUs. Each location
draws from its own random stream (seeded by the demo seed and its code), so a snapshot can be
generated again, row for row, instead of being kept in memory.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from openoms.db.repositories.stock import SnapshotRow
from openoms.demo.assortment import Category
from openoms.demo.network import assortment_of
from openoms.demo.seeding import stream
from openoms.demo.sizes import StoreSize, size_of
from openoms.domain.catalog import Sku
from openoms.domain.network import Location, LocationKind

_WAREHOUSE_OUT_OF_STOCK = 0.03
_WAREHOUSE_UNITS = 300
"""On hand of an average SKU in a warehouse that ships 10,000 orders a day."""
_WAREHOUSE_REFERENCE_CAPACITY = 10_000
_WAREHOUSE_SPREAD = 0.5
_WAREHOUSE_MAX = 20_000
# Share of the range a store carries, and the mean units beyond the first of an average SKU.
_STORE_RANGE = {StoreSize.LARGE: 0.85, StoreSize.MEDIUM: 0.7, StoreSize.SMALL: 0.55}
_STORE_UNITS = {StoreSize.LARGE: 3.0, StoreSize.MEDIUM: 2.0, StoreSize.SMALL: 1.2}
_STORE_SOLD_OUT = 0.15
"""Of the SKUs a store carries, the share it has just sold out of."""
_STORE_MAX = 60


class _Holding(NamedTuple):
    """Share of its categories' SKUs a site holds, and the median and log-normal spread held."""

    share: float
    median: float
    spread: float


_HOLDINGS = {
    LocationKind.SUPPLIER: _Holding(0.9, 800.0, 0.7),
    LocationKind.RESELLER: _Holding(0.5, 25.0, 0.6),
    LocationKind.SECOND_HAND: _Holding(0.06, 1.5, 0.5),
}
_SALE_SHARE = 0.7
"""Of the changed positions in a later snapshot: the rest took a delivery or a return."""


class _Demand:
    """Per-SKU figures every location's draw needs, computed once per snapshot."""

    def __init__(self, skus: Sequence[Sku], popularity: Mapping[str, float]) -> None:
        self.codes = [sku.code for sku in skus]
        self.categories = [Category(sku.category) for sku in skus]
        index = [popularity[code] * len(skus) for code in self.codes]
        self.root = [math.sqrt(d) for d in index]
        # A store carries popular SKUs more often, and more of them, but far from in proportion.
        self.store = {
            size: (
                [min(0.95, _STORE_RANGE[size] * d**0.3) for d in index],
                [_STORE_UNITS[size] * r for r in self.root],
            )
            for size in StoreSize
        }


def full_snapshot(
    locations: Sequence[Location],
    skus: Sequence[Sku],
    popularity: Mapping[str, float],
    seed: int,
    as_of: datetime,
) -> Iterator[SnapshotRow]:
    demand = _Demand(skus, popularity)
    for location in locations:
        code = location.code
        quantities = _quantities(location, demand, stream(seed, f"stock:{code}"))
        for sku, on_hand in zip(demand.codes, quantities, strict=True):
            yield SnapshotRow(code, sku, on_hand, as_of)


def recount(
    rows: Iterable[SnapshotRow], *, seed: int, as_of: datetime, share: float = 0.5
) -> Iterator[SnapshotRow]:
    """`rows` counted again at `as_of`, about `share` of them with another on_hand.

    The changes are drawn from a stream named after `as_of`, so recounts at different times change
    different positions; to have each recount differ from the one before by `share`, recount the
    previous recount rather than the first snapshot.
    """
    rng = stream(seed, f"recount:{as_of.isoformat()}")
    for row in rows:
        on_hand = _changed(row.on_hand, rng) if rng.random() < share else row.on_hand
        yield SnapshotRow(row.location, row.sku, on_hand, as_of)


def write_snapshot_csv(rows: Iterable[SnapshotRow], path: Path) -> int:
    """Writes `location,sku,on_hand,as_of` (ISO 8601 with offset); returns the rows written."""
    written = 0
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(SnapshotRow._fields)
        for row, stamp in _stamped(rows):
            writer.writerow((row.location, row.sku, row.on_hand, stamp))
            written += 1
    return written


def _stamped(rows: Iterable[SnapshotRow]) -> Iterator[tuple[SnapshotRow, str]]:
    """Formats each as_of once: a snapshot's rows share it, and formatting is half the writing."""
    last: datetime | None = None
    stamp = ""
    for row in rows:
        if row.as_of != last:
            last, stamp = row.as_of, row.as_of.isoformat()
        yield row, stamp


def _quantities(location: Location, demand: _Demand, rng: random.Random) -> Iterator[int]:
    if location.kind is LocationKind.WAREHOUSE:
        depth = location.daily_capacity / _WAREHOUSE_REFERENCE_CAPACITY
        return _warehouse(rng, demand.root, depth)
    if location.kind is LocationKind.STORE:
        return _store(rng, *demand.store[size_of(location)])
    holding = _HOLDINGS[location.kind]
    return _assorted(rng, demand.categories, assortment_of(location), holding)


def _warehouse(rng: random.Random, root_demand: Sequence[float], depth: float) -> Iterator[int]:
    for root in root_demand:
        if rng.random() < _WAREHOUSE_OUT_OF_STOCK:
            yield 0
        else:
            units = depth * _WAREHOUSE_UNITS * root * math.exp(rng.gauss(0, _WAREHOUSE_SPREAD))
            yield min(_WAREHOUSE_MAX, round(units))


def _store(
    rng: random.Random, carried: Sequence[float], extra_units: Sequence[float]
) -> Iterator[int]:
    """One draw says carried or not, and sold out or not; a second, how many beyond the first.

    Nearly all rows are store rows: this loop sets the snapshot's speed.
    """
    random, log = rng.random, math.log
    for chance, extra in zip(carried, extra_units, strict=True):
        draw = random()
        if draw >= chance or draw < chance * _STORE_SOLD_OUT:
            yield 0
        else:
            yield min(_STORE_MAX, 1 + int(-log(1.0 - random()) * extra))


def _assorted(
    rng: random.Random,
    categories: Sequence[Category],
    assortment: frozenset[Category],
    holding: _Holding,
) -> Iterator[int]:
    mu = math.log(holding.median)
    for category in categories:
        if category in assortment and rng.random() < holding.share:
            yield max(1, round(math.exp(rng.gauss(mu, holding.spread))))
        else:
            yield 0


def _changed(on_hand: int, rng: random.Random) -> int:
    """Mostly a few sales, sometimes a delivery or a return: never the same figure."""
    if on_hand > 0 and rng.random() < _SALE_SHARE:
        sold = 1 + int(rng.expovariate(1 / (1 + on_hand * 0.05)))
        return max(0, on_hand - sold)
    return on_hand + 1 + int(rng.expovariate(1 / (2 + on_hand * 0.5)))
