"""Plans from allocations, and the check of a plan against stock and the split policy.

The optimizer and `score` build plans with the same function, so a plan given from outside is
weighed exactly as the optimizer weighs its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from openoms.domain.sourcing.model import (
    Allocation,
    Breakdown,
    Candidate,
    CostModel,
    InvalidProblem,
    Line,
    Objective,
    Plan,
    PlanBreakdown,
    Rule,
    Scored,
    Shipment,
    SplitMode,
    SplitPolicy,
    Violation,
)


def protected_units(stock: int, protect_below: int, taken: int) -> int:
    """Units taken out of the last `protect_below` of a shelf: the ones a store would keep.

    (Comparisons rather than `max`: the search calls this for every candidate store.)"""
    spare = stock - protect_below if stock > protect_below else 0
    return taken - spare if taken > spare else 0


def validate(
    basket: Sequence[Line],
    candidates: Sequence[Candidate],
    policy: SplitPolicy,
    objective: Objective,
) -> None:
    """Refuse what would make the search's bounds wrong (negative weights) or its answer moot."""
    if not basket:
        raise InvalidProblem("the basket has no lines")
    if len({line.line_id for line in basket}) != len(basket):
        raise InvalidProblem("line ids must be unique")
    if any(line.quantity < 1 for line in basket):
        raise InvalidProblem("every line needs a quantity of at least 1")
    if len({c.location for c in candidates}) != len(candidates):
        raise InvalidProblem("candidate locations must be unique")
    if any(c.protect_below < 0 or min(c.stock.values(), default=0) < 0 for c in candidates):
        raise InvalidProblem("stock and protect_below cannot be negative")
    weights = (objective.cost, objective.days, objective.carbon, objective.parcels)
    if min(*weights, objective.protection) < 0:
        raise InvalidProblem("objective weights cannot be negative")
    limits = (policy.max_locations, policy.max_parcels)
    if any(limit is not None and limit < 1 for limit in limits):
        raise InvalidProblem("max_locations and max_parcels must be at least 1")


def build_plan(
    allocations: Iterable[Allocation],
    basket: Sequence[Line],
    candidates: Mapping[str, Candidate],
    cost: CostModel,
    objective: Objective,
) -> Plan:
    """Allocations must name known lines and candidates; a line's units at a location merge."""
    sku_of = {line.line_id: line.sku for line in basket}
    merged: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for allocation in allocations:
        merged[allocation.location][allocation.line_id] += allocation.units
    shipments = tuple(
        _shipment(code, merged[code], sku_of, candidates[code], cost) for code in sorted(merged)
    )
    return Plan(shipments, _totals(shipments, objective))


def _shipment(
    code: str,
    units_by_line: Mapping[str, int],
    sku_of: Mapping[str, str],
    candidate: Candidate,
    cost: CostModel,
) -> Shipment:
    units: dict[str, int] = defaultdict(int)
    for line_id, n in units_by_line.items():
        units[sku_of[line_id]] += n
    protected = sum(
        protected_units(candidate.stock.get(sku, 0), candidate.protect_below, n)
        for sku, n in units.items()
    )
    allocations = tuple(
        Allocation(line_id, code, units_by_line[line_id]) for line_id in sorted(units_by_line)
    )
    return Shipment(code, allocations, cost(code, dict(units)), protected)


def _totals(shipments: Sequence[Shipment], objective: Objective) -> PlanBreakdown:
    parts = [s.breakdown for s in shipments] or [Breakdown(0, 0, 0, 0)]
    figures = (
        sum(b.cost for b in parts),
        max(b.days for b in parts),
        sum(b.carbon_g for b in parts),
        sum(b.parcels for b in parts),
        sum(s.protected_units for s in shipments),
    )
    return PlanBreakdown(*figures, objective=objective.value(*figures))


def score(
    allocations: Sequence[Allocation],
    basket: Sequence[Line],
    candidates: Sequence[Candidate],
    cost: CostModel,
    *,
    policy: SplitPolicy,
    objective: Objective,
) -> Scored:
    """Weigh a plan given from outside and name every rule it breaks.

    Allocations to unknown lines or to locations that are not candidates are reported and left
    out of the figures (the cost model may know nothing of such a location).
    """
    validate(basket, candidates, policy, objective)
    if any(a.units < 1 for a in allocations):
        raise InvalidProblem("every allocation needs at least 1 unit")
    lines = {line.line_id: line for line in basket}
    by_code = {c.location: c for c in candidates}
    violations = [
        Violation(Rule.UNKNOWN_LINE, a.line_id, f"{a.line_id} is not a line of the basket")
        for a in allocations
        if a.line_id not in lines
    ] + [
        Violation(Rule.NOT_A_CANDIDATE, a.location, f"{a.location} may not serve this basket")
        for a in allocations
        if a.line_id in lines and a.location not in by_code
    ]
    kept = [a for a in allocations if a.line_id in lines and a.location in by_code]
    plan = build_plan(kept, basket, by_code, cost, objective)
    violations += _quantity_violations(kept, basket)
    violations += _stock_violations(plan, basket, by_code)
    violations += _policy_violations(plan, policy)
    return Scored(plan, tuple(violations))


def _quantity_violations(kept: Sequence[Allocation], basket: Sequence[Line]) -> list[Violation]:
    served: dict[str, int] = defaultdict(int)
    for a in kept:
        served[a.line_id] += a.units
    return [
        Violation(
            Rule.QUANTITY, line.line_id, f"{served[line.line_id]} of {line.quantity} units planned"
        )
        for line in sorted(basket, key=lambda line: line.line_id)
        if served[line.line_id] != line.quantity
    ]


def _stock_violations(
    plan: Plan, basket: Sequence[Line], candidates: Mapping[str, Candidate]
) -> list[Violation]:
    sku_of = {line.line_id: line.sku for line in basket}
    violations = []
    for shipment in plan.shipments:
        taken: dict[str, int] = defaultdict(int)
        for a in shipment.allocations:
            taken[sku_of[a.line_id]] += a.units
        stock = candidates[shipment.location].stock
        violations += [
            Violation(
                Rule.STOCK,
                shipment.location,
                f"{n} x {sku} planned, {stock.get(sku, 0)} available",
            )
            for sku, n in sorted(taken.items())
            if n > stock.get(sku, 0)
        ]
    return violations


def _policy_violations(plan: Plan, policy: SplitPolicy) -> list[Violation]:
    violations = []
    locations = len(plan.shipments)
    if policy.mode is SplitMode.NEVER and locations > 1:
        violations.append(Violation(Rule.SPLIT_NEVER, "plan", f"{locations} locations"))
    if policy.mode is not SplitMode.PER_UNIT:
        sources: dict[str, set[str]] = defaultdict(set)
        for a in plan.allocations:
            sources[a.line_id].add(a.location)
        violations += [
            Violation(Rule.SPLIT_PER_LINE, line_id, f"from {', '.join(sorted(codes))}")
            for line_id, codes in sorted(sources.items())
            if len(codes) > 1
        ]
    if policy.max_locations is not None and locations > policy.max_locations:
        detail = f"{locations} locations, at most {policy.max_locations}"
        violations.append(Violation(Rule.MAX_LOCATIONS, "plan", detail))
    parcels = plan.breakdown.parcels
    if policy.max_parcels is not None and parcels > policy.max_parcels:
        detail = f"{parcels} parcels, at most {policy.max_parcels}"
        violations.append(Violation(Rule.MAX_PARCELS, "plan", detail))
    return violations
