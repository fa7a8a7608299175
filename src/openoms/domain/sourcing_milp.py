"""The sourcing problem as a mixed-integer program for HiGHS: the reference for the search.

The one domain module that imports something outside the standard library: it states the
problem independently of the search (same basket, candidates, linear cost model, policy and
objective) so that tests and benchmarks can hold the search to a solver's proven optimum, and
so a basket too large for the search has somewhere to go.

Per location: `used` (binary) and `parcels` (integer, at least `used`, and at least the
shipment's size over the parcel capacity); per line and location: the units sent (integer; a
binary "whole line" when lines may not split), tied to `used`; per sku and location the units
split into those above the protected stock and those in it, which cost the protection weight.
Days are one continuous variable at least each used location's days: the slowest shipment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import highspy

from openoms.domain.sourcing import (
    Allocation,
    Candidate,
    Line,
    LinearCostModel,
    Objective,
    ShippingTerms,
    SplitMode,
    SplitPolicy,
)


@dataclass(frozen=True, slots=True)
class MilpResult:
    """`objective` is None when no plan serves the whole basket; `optimal` is HiGHS's word."""

    objective: float | None
    allocations: tuple[Allocation, ...]
    optimal: bool


@dataclass(slots=True)
class _Program:
    costs: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[int] = field(default_factory=list)
    rows: list[tuple[float, float, dict[int, float]]] = field(default_factory=list)

    def column(self, cost: float, upper: float, *, integer: bool) -> int:
        self.costs.append(cost)
        self.lower.append(0.0)
        self.upper.append(upper)
        self.integer.append(int(integer))
        return len(self.costs) - 1

    def row(self, lower: float, upper: float, terms: dict[int, float]) -> None:
        self.rows.append((lower, upper, terms))


@dataclass(frozen=True, slots=True)
class _Units:
    """A column of units sent: `per_value` units per unit of the column (q when whole)."""

    line: Line
    location: str
    column: int
    per_value: int


def solve(
    basket: Sequence[Line],
    candidates: Sequence[Candidate],
    cost: LinearCostModel,
    *,
    policy: SplitPolicy,
    objective: Objective,
    time_limit_s: float | None = None,
) -> MilpResult:
    builder = _Builder(basket, cost, policy, objective)
    for candidate in sorted(candidates, key=lambda c: c.location):
        builder.location(candidate)
    for line in basket:
        builder.program.row(line.quantity, line.quantity, builder.demand[line.line_id])
    _limits(builder.program, policy, builder.used, builder.parcels)
    return _run(builder.program, builder.units, time_limit_s)


class _Builder:
    def __init__(
        self,
        basket: Sequence[Line],
        cost: LinearCostModel,
        policy: SplitPolicy,
        objective: Objective,
    ) -> None:
        self.lines = sorted(basket, key=lambda line: line.line_id)
        self.cost = cost
        self.policy = policy
        self.objective = objective
        self.program = _Program()
        self.days = self.program.column(objective.days, highspy.kHighsInf, integer=False)
        self.demand: dict[str, dict[int, float]] = {line.line_id: {} for line in basket}
        self.used: dict[int, float] = {}
        self.parcels: dict[int, float] = {}
        self.units: list[_Units] = []

    def location(self, candidate: Candidate) -> None:
        terms = self.cost.terms.get(candidate.location)
        if terms is None:
            return
        sent = [u for line in self.lines if (u := self._units(candidate, line, terms)) is not None]
        if not sent:
            return
        inf, program, weights = highspy.kHighsInf, self.program, self.objective
        per_parcel = (
            weights.cost * terms.parcel_cost
            + weights.carbon * terms.carbon_per_parcel_g
            + weights.parcels
        )
        y = program.column(0.0, 1.0, integer=True)
        p = program.column(per_parcel, inf, integer=True)
        self.used[y] = 1.0
        self.parcels[p] = 1.0
        program.row(0.0, inf, {self.days: 1.0, y: -float(terms.days)})
        for u in sent:
            self.demand[u.line.line_id][u.column] = float(u.per_value)
            program.row(-inf, 0.0, {u.column: float(u.per_value), y: -float(u.line.quantity)})
        if terms.parcel_capacity is None:
            program.row(0.0, 0.0, {p: 1.0, y: -1.0})
        else:
            program.row(0.0, inf, {p: 1.0, y: -1.0})
            sizes = {u.column: -float(self.cost.size(u.line.sku) * u.per_value) for u in sent}
            program.row(0.0, inf, {p: float(terms.parcel_capacity), **sizes})
        _protection(program, candidate, sent, weights)
        self.units += sent

    def _units(self, candidate: Candidate, line: Line, terms: ShippingTerms) -> _Units | None:
        stock = candidate.stock.get(line.sku, 0)
        whole = self.policy.mode is not SplitMode.PER_UNIT
        per_value = line.quantity if whole else 1
        if stock < per_value:
            return None
        weights = self.objective
        per_unit = (
            weights.cost * terms.unit_cost(line.sku) + weights.carbon * terms.carbon_per_unit_g
        )
        upper = 1.0 if whole else float(min(stock, line.quantity))
        column = self.program.column(per_unit * per_value, upper, integer=True)
        return _Units(line, candidate.location, column, per_value)


def _protection(
    program: _Program, candidate: Candidate, sent: Sequence[_Units], objective: Objective
) -> None:
    """Units of a sku come first from above the protected stock (free), then from within it."""
    for sku in sorted({u.line.sku for u in sent}):
        stock = candidate.stock.get(sku, 0)
        free = program.column(0.0, float(max(0, stock - candidate.protect_below)), integer=False)
        kept = program.column(
            objective.protection, float(min(stock, candidate.protect_below)), integer=False
        )
        terms = {u.column: float(u.per_value) for u in sent if u.line.sku == sku}
        program.row(0.0, 0.0, {**terms, free: -1.0, kept: -1.0})


def _limits(
    program: _Program, policy: SplitPolicy, used: dict[int, float], parcels: dict[int, float]
) -> None:
    locations = 1 if policy.mode is SplitMode.NEVER else policy.max_locations
    if locations is not None:
        program.row(-highspy.kHighsInf, float(locations), used)
    if policy.max_parcels is not None:
        program.row(-highspy.kHighsInf, float(policy.max_parcels), parcels)


def _run(program: _Program, units: Sequence[_Units], time_limit_s: float | None) -> MilpResult:
    h = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy leaves __init__ untyped
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 1e-9)
    if time_limit_s is not None:
        h.setOptionValue("time_limit", time_limit_s)
    starts: list[int] = []
    index: list[int] = []
    values: list[float] = []
    for _, _, terms in program.rows:
        starts.append(len(index))
        for column in sorted(terms):
            index.append(column)
            values.append(terms[column])
    h.passModel(
        len(program.costs),
        len(program.rows),
        len(index),
        int(highspy.MatrixFormat.kRowwise),
        int(highspy.ObjSense.kMinimize),
        0.0,
        program.costs,
        program.lower,
        program.upper,
        [r[0] for r in program.rows],
        [r[1] for r in program.rows],
        starts,
        index,
        values,
        program.integer,
    )
    h.run()
    status = h.getModelStatus()
    solution = h.getSolution()
    if status == highspy.HighsModelStatus.kInfeasible:
        return MilpResult(None, (), optimal=True)
    if not solution.value_valid:
        return MilpResult(None, (), optimal=False)
    values_ = solution.col_value
    allocations = tuple(
        Allocation(u.line.line_id, u.location, round(values_[u.column]) * u.per_value)
        for u in units
        if round(values_[u.column])
    )
    optimal = status == highspy.HighsModelStatus.kOptimal
    return MilpResult(h.getObjectiveValue(), allocations, optimal)
