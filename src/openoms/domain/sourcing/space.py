"""The basket and candidates indexed for the search: skus by position, stock as tuples.

Everything here is sorted by code (skus, line ids, locations) so the search never sees the
order in which the caller listed things, and memoises the cost model, which it calls on the
same shipments again and again.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from openoms.domain.sourcing.model import (
    Candidate,
    CostModel,
    Excluded,
    ExclusionReason,
    Line,
    Objective,
    Shortfall,
    SplitMode,
    SplitPolicy,
)
from openoms.domain.sourcing.plans import protected_units

Units = tuple[int, ...]
"""Units per sku of the basket, in the order of `Space.skus`."""


class Figures(NamedTuple):
    cost: int
    days: int
    carbon_g: int
    parcels: int
    protected: int


class Site(NamedTuple):
    """A candidate that can take part, with lower bounds on any shipment it could send (a
    NamedTuple: one per candidate, ~150 per basket)."""

    candidate: Candidate
    stock: Units
    entry: float
    min_days: int
    min_parcels: int
    cover: Units
    """What the site brings towards the basket: units per sku, or per line 1 if it holds the
    line whole (per-line policy). Sets whose covers fall short of the basket are not solved."""

    @property
    def code(self) -> str:
        return self.candidate.location


class Space:
    def __init__(
        self,
        basket: Sequence[Line],
        cost: CostModel,
        objective: Objective,
        policy: SplitPolicy,
    ) -> None:
        self.lines = tuple(sorted(basket, key=lambda line: line.line_id))
        self.skus = tuple(sorted({line.sku for line in basket}))
        index = {sku: k for k, sku in enumerate(self.skus)}
        self.line_sku = tuple(index[line.sku] for line in self.lines)
        self.demand = tuple(
            sum(line.quantity for line in basket if line.sku == sku) for sku in self.skus
        )
        self.cost = cost
        self.objective = objective
        self.policy = policy
        self._zeros = (0,) * len(self.skus)
        self._memo: dict[tuple[str, Units], Figures] = {}
        self._shipments: dict[Units, dict[str, int]] = {}
        """The cost model's argument per units vector: the same few vectors (one unit of a
        sku, the whole basket) come back for every candidate."""
        self._one_units = tuple(_one_sku(len(self.skus), k, 1) for k in range(len(self.skus)))
        self._whole_lines = tuple(
            _one_sku(len(self.skus), k, line.quantity)
            for line, k in zip(self.lines, self.line_sku, strict=True)
        )

    def stock(self, candidate: Candidate) -> Units:
        return tuple(map(candidate.stock.get, self.skus, self._zeros))

    def figures(self, candidate: Candidate, units: Units) -> Figures:
        key = (candidate.location, units)
        found = self._memo.get(key)
        if found is None:
            found = self._evaluate(candidate, units)
            self._memo[key] = found
        return found

    def _evaluate(self, candidate: Candidate, units: Units) -> Figures:
        shipment = self._shipments.get(units)
        if shipment is None:
            shipment = {sku: n for sku, n in zip(self.skus, units) if n}  # noqa: B905
            self._shipments[units] = shipment
        b = self.cost(candidate.location, shipment)
        keep = candidate.protect_below
        if not keep:
            return Figures(b.cost, b.days, b.carbon_g, b.parcels, 0)
        held = candidate.stock
        protected = sum(protected_units(held.get(sku, 0), keep, n) for sku, n in shipment.items())
        return Figures(b.cost, b.days, b.carbon_g, b.parcels, protected)

    def value(self, f: Figures, days: int) -> float:
        return self.objective.value(f.cost, days, f.carbon_g, f.parcels, f.protected)

    def smallest_shipments(self, candidate: Candidate, stock: Units) -> list[Units]:
        """The least a site can send under the policy; by monotony, any shipment costs more."""
        mode = self.policy.mode
        if mode is SplitMode.NEVER:
            return [self.demand] if covers(stock, self.demand) else []
        if mode is SplitMode.PER_LINE:
            return [
                whole
                for whole, k in zip(self._whole_lines, self.line_sku, strict=True)
                if stock[k] >= whole[k]
            ]
        return [one for one, n in zip(self._one_units, stock, strict=True) if n]

    def site(self, candidate: Candidate) -> Site | Excluded:
        stock = self.stock(candidate)
        if not any(stock):
            return Excluded(candidate.location, ExclusionReason.NO_STOCK)
        smallest = self.smallest_shipments(candidate, stock)
        if not smallest:
            return Excluded(candidate.location, self._reason())
        value = self.objective.value
        entry, min_days, min_parcels = math.inf, math.inf, math.inf
        for units in smallest:
            f = self.figures(candidate, units)
            entry = min(entry, value(f.cost, 0, f.carbon_g, f.parcels, f.protected))
            min_days = min(min_days, f.days)
            min_parcels = min(min_parcels, f.parcels)
        return Site(candidate, stock, entry, int(min_days), int(min_parcels), self.cover(stock))

    def cover(self, stock: Units) -> Units:
        if self.policy.mode is SplitMode.PER_LINE:
            return tuple(
                int(stock[k] >= line.quantity)
                for line, k in zip(self.lines, self.line_sku, strict=True)
            )
        return stock

    @property
    def needed(self) -> Units:
        """What the covers of a set must add up to; the counterpart of `Site.cover`."""
        if self.policy.mode is SplitMode.PER_LINE:
            return tuple(1 for _ in self.lines)
        return self.demand

    def _reason(self) -> ExclusionReason:
        if self.policy.mode is SplitMode.PER_LINE:
            return ExclusionReason.NO_WHOLE_LINE
        return ExclusionReason.NOT_THE_WHOLE_BASKET

    def shortfall(self, candidates: Sequence[Candidate]) -> tuple[Shortfall, ...]:
        """Units beyond all candidates' stock together."""
        together = [sum(self.stock(c)[k] for c in candidates) for k in range(len(self.skus))]
        return shortfall(self.lines, dict(zip(self.skus, together, strict=True)))


def shortfall(lines: Sequence[Line], available: Mapping[str, int]) -> tuple[Shortfall, ...]:
    """Units of `lines` beyond `available` (sku -> units); a sku's units go to its lines by id."""
    left = dict(available)
    short = []
    for line in sorted(lines, key=_line_id):
        served = min(line.quantity, left.get(line.sku, 0))
        left[line.sku] = left.get(line.sku, 0) - served
        if served < line.quantity:
            short.append(Shortfall(line.line_id, line.quantity - served))
    return tuple(short)


def _line_id(line: Line) -> str:
    return line.line_id


def covers(stock: Units, demand: Units) -> bool:
    """Vectors of one width (a `Space`'s skus or lines): compared pairwise, in C."""
    return all(map(operator.ge, stock, demand))


def _one_sku(width: int, k: int, n: int) -> Units:
    units = [0] * width
    units[k] = n
    return tuple(units)
