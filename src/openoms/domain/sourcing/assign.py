"""The best placement of the basket's units on a given set of locations.

Per unit, the units of each sku are split over the set (most on the first location first);
per line, each line goes whole to one location of the set. Each partial placement is bounded
from below by its partial shipments' figures (the cost model is monotone, so shipments only
cost more as units are added) plus the entry of every location still empty, and dropped when
that bound exceeds the best plan found. Every location of the set must send something: a plan
that leaves one empty belongs to a smaller set, which the search weighs on its own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from openoms.domain.sourcing.model import Allocation, SplitMode
from openoms.domain.sourcing.space import Figures, Site, Space, Units


class SearchState(Protocol):
    """The search as the placement sees it: a node counter, the bound to beat, a plan sink."""

    def tick(self) -> None: ...

    @property
    def limit(self) -> float: ...

    def consider(self, total: Figures, allocations: Callable[[], Iterator[Allocation]]) -> None: ...


class Assigner:
    def __init__(self, space: Space, search: SearchState) -> None:
        self.space = space
        self.search = search

    def solve(self, members: tuple[Site, ...]) -> None:
        width = len(self.space.skus)
        vectors = [[0] * width for _ in members]
        if self.space.policy.mode is SplitMode.PER_LINE:
            left = [list(site.stock) for site in members]
            self._place_line(members, vectors, left, [], 0)
        else:
            self._place_sku(members, vectors, 0)

    def _place_sku(self, members: tuple[Site, ...], vectors: list[list[int]], k: int) -> None:
        if k == len(self.space.skus):
            self._leaf(members, vectors, lambda: _pour(self.space, members, vectors))
            return
        for split in _splits(self.space.demand[k], [site.stock[k] for site in members]):
            self.search.tick()
            for vector, n in zip(vectors, split, strict=True):
                vector[k] = n
            if self._bound(members, vectors, k + 1) <= self.search.limit:
                self._place_sku(members, vectors, k + 1)
        for vector in vectors:
            vector[k] = 0

    def _place_line(
        self,
        members: tuple[Site, ...],
        vectors: list[list[int]],
        left: list[list[int]],
        chosen: list[int],
        i: int,
    ) -> None:
        space = self.space
        if i == len(space.lines):
            self._leaf(members, vectors, lambda: _whole_lines(space, members, chosen))
            return
        k, quantity = space.line_sku[i], space.lines[i].quantity
        for m in range(len(members)):
            if left[m][k] < quantity:
                continue
            self.search.tick()
            vectors[m][k] += quantity
            left[m][k] -= quantity
            chosen.append(m)
            if self._bound(members, vectors, i + 1) <= self.search.limit:
                self._place_line(members, vectors, left, chosen, i + 1)
            chosen.pop()
            vectors[m][k] -= quantity
            left[m][k] += quantity

    def _bound(self, members: tuple[Site, ...], vectors: list[list[int]], after: int) -> float:
        """`after`: the first sku (per unit) or line (per line) not placed yet."""
        shipped = []
        entries, slowest, parcels = 0.0, 0, 0
        for site, vector in zip(members, vectors, strict=True):
            if any(vector):
                shipped.append(self.space.figures(site.candidate, tuple(vector)))
            elif not any(site.cover[after:]):
                return math.inf
            else:
                entries += site.entry
                slowest = max(slowest, site.min_days)
                parcels += site.min_parcels
        total = _total(shipped)
        cap = self.space.policy.max_parcels
        if cap is not None and total.parcels + parcels > cap:
            return math.inf
        return self.space.value(total, max(total.days, slowest)) + entries

    def _leaf(
        self,
        members: tuple[Site, ...],
        vectors: list[list[int]],
        allocations: Callable[[], Iterator[Allocation]],
    ) -> None:
        if not all(any(vector) for vector in vectors):
            return
        shipped = [
            self.space.figures(site.candidate, tuple(vector))
            for site, vector in zip(members, vectors, strict=True)
        ]
        self.search.consider(_total(shipped), allocations)


def _total(shipped: Sequence[Figures]) -> Figures:
    return Figures(
        sum(f.cost for f in shipped),
        max((f.days for f in shipped), default=0),
        sum(f.carbon_g for f in shipped),
        sum(f.parcels for f in shipped),
        sum(f.protected for f in shipped),
    )


def _splits(total: int, caps: Sequence[int]) -> Iterator[Units]:
    """Every way to take `total` units from places holding `caps`, most from the first first."""
    if len(caps) == 1:
        if total <= caps[0]:
            yield (total,)
        return
    rest = sum(caps[1:])
    for n in range(min(total, caps[0]), max(0, total - rest) - 1, -1):
        for tail in _splits(total - n, caps[1:]):
            yield (n, *tail)


def _pour(
    space: Space, members: tuple[Site, ...], vectors: list[list[int]]
) -> Iterator[Allocation]:
    """Units of a sku go to its lines in line-id order from locations in code order, so the
    same figures always make the same allocations."""
    order = sorted(range(len(members)), key=lambda m: members[m].code)
    for k in range(len(space.skus)):
        sources = iter([(members[m].code, vectors[m][k]) for m in order if vectors[m][k]])
        code, have = "", 0
        for line, sku in zip(space.lines, space.line_sku, strict=True):
            need = line.quantity if sku == k else 0
            while need:
                if not have:
                    code, have = next(sources)
                take = min(need, have)
                yield Allocation(line.line_id, code, take)
                need -= take
                have -= take


def _whole_lines(
    space: Space, members: tuple[Site, ...], chosen: Sequence[int]
) -> Iterator[Allocation]:
    for line, m in zip(space.lines, chosen, strict=True):
        yield Allocation(line.line_id, members[m].code, line.quantity)
