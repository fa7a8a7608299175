"""The sourcing optimizer: rules of the objective and split policies, and the search held to
HiGHS's proven optimum on random small instances."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openoms.domain.sourcing import (
    Allocation,
    Breakdown,
    Candidate,
    ExclusionReason,
    InvalidProblem,
    Line,
    LinearCostModel,
    Objective,
    Rule,
    ShippingTerms,
    Shortfall,
    SplitMode,
    SplitPolicy,
    optimize,
    out_of_reach,
    protected_units,
    score,
)
from openoms.domain.sourcing_milp import solve

PER_UNIT = SplitPolicy(SplitMode.PER_UNIT)
PER_LINE = SplitPolicy(SplitMode.PER_LINE)
NEVER = SplitPolicy(SplitMode.NEVER)


def terms(
    parcel_cost: int = 500, days: int = 2, unit: int = 0, parcel_capacity: int | None = None
) -> ShippingTerms:
    return ShippingTerms(
        parcel_cost=parcel_cost, days=days, default_unit_cost=unit, parcel_capacity=parcel_capacity
    )


def model(**by_location: ShippingTerms) -> LinearCostModel:
    return LinearCostModel(by_location)


def units_by_location(allocations: tuple[Allocation, ...]) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {}
    for a in allocations:
        found.setdefault(a.location, {})[a.line_id] = a.units
    return found


def test_fixed_parcel_cost_keeps_basket_in_one_location():
    basket = [Line("1", "A", 1), Line("2", "B", 1)]
    candidates = [
        Candidate("WH", {"A": 50, "B": 50}),
        Candidate("S1", {"A": 1}),
        Candidate("S2", {"B": 1}),
    ]
    cost = model(WH=terms(600, unit=90), S1=terms(500, unit=10), S2=terms(500, unit=10))
    decision = optimize(basket, candidates, cost)
    assert decision.plan is not None
    assert decision.plan.locations == ("WH",)
    assert decision.plan.breakdown.cost == 780
    assert decision.exact


def test_splits_a_line_when_no_location_holds_it_all():
    basket = [Line("1", "A", 5)]
    candidates = [Candidate("S1", {"A": 3}), Candidate("S2", {"A": 4})]
    cost = model(S1=terms(500, unit=10), S2=terms(500, unit=20))
    decision = optimize(basket, candidates, cost, policy=PER_UNIT)
    assert decision.plan is not None
    assert units_by_location(decision.plan.allocations) == {"S1": {"1": 3}, "S2": {"1": 2}}
    assert decision.plan.breakdown.cost == 1070


def test_never_splits_when_policy_is_never():
    basket = [Line("1", "A", 1), Line("2", "B", 1)]
    candidates = [
        Candidate("S1", {"A": 1}),
        Candidate("S2", {"B": 1}),
        Candidate("WH", {"A": 9, "B": 9}),
    ]
    cost = model(S1=terms(100), S2=terms(100), WH=terms(900))
    split = optimize(basket, candidates, cost)
    assert split.plan is not None
    assert split.plan.locations == ("S1", "S2")
    decision = optimize(basket, candidates, cost, policy=NEVER)
    assert decision.plan is not None
    assert decision.plan.locations == ("WH",)


def test_per_line_keeps_each_line_whole():
    basket = [Line("1", "A", 4), Line("2", "B", 1)]
    candidates = [
        Candidate("S1", {"A": 2, "B": 1}),
        Candidate("S2", {"A": 2}),
        Candidate("S3", {"A": 4}),
    ]
    cost = model(S1=terms(100), S2=terms(100), S3=terms(400))
    split = optimize(basket, candidates, cost, policy=PER_UNIT)
    assert split.plan is not None
    assert split.plan.locations == ("S1", "S2")
    whole = optimize(basket, candidates, cost, policy=PER_LINE)
    assert whole.plan is not None
    assert units_by_location(whole.plan.allocations) == {"S1": {"2": 1}, "S3": {"1": 4}}


def test_max_locations_caps_the_locations_of_a_plan():
    basket = [Line("1", "A", 1), Line("2", "B", 1), Line("3", "C", 1)]
    candidates = [
        Candidate("S1", {"A": 1}),
        Candidate("S2", {"B": 1}),
        Candidate("S3", {"C": 1}),
        Candidate("S4", {"B": 1, "C": 1}),
    ]
    cost = model(S1=terms(100), S2=terms(100), S3=terms(100), S4=terms(300))
    free = optimize(basket, candidates, cost)
    assert free.plan is not None
    assert free.plan.locations == ("S1", "S2", "S3")
    capped = optimize(basket, candidates, cost, policy=SplitPolicy(max_locations=2))
    assert capped.plan is not None
    assert capped.plan.locations == ("S1", "S4")


def test_parcel_capacity_sets_the_parcels_and_max_parcels_counts_them():
    basket = [Line("1", "A", 5)]
    candidates = [Candidate("WH", {"A": 5}), Candidate("S1", {"A": 5})]
    cost = LinearCostModel(
        {"WH": terms(250, parcel_capacity=4), "S1": terms(800, parcel_capacity=10)},
        sizes={"A": 2},
    )
    cheap = optimize(basket, candidates, cost)
    assert cheap.plan is not None
    assert cheap.plan.locations == ("WH",)
    assert cheap.plan.breakdown.parcels == 3
    one_parcel = optimize(basket, candidates, cost, policy=SplitPolicy(max_parcels=2))
    assert one_parcel.plan is not None
    assert one_parcel.plan.locations == ("S1",)
    assert one_parcel.plan.breakdown.parcels == 1


def test_store_protection_moves_the_last_units_elsewhere():
    basket = [Line("1", "A", 1)]
    candidates = [Candidate("S1", {"A": 1}, protect_below=2), Candidate("S2", {"A": 5})]
    cost = model(S1=terms(500), S2=terms(550))
    unprotected = optimize(basket, candidates, cost)
    assert unprotected.plan is not None
    assert unprotected.plan.locations == ("S1",)
    assert unprotected.plan.breakdown.protected_units == 1
    protected = optimize(basket, candidates, cost, objective=Objective(protection=100))
    assert protected.plan is not None
    assert protected.plan.locations == ("S2",)


def test_protected_units_are_the_units_taken_below_the_threshold():
    assert protected_units(stock=10, protect_below=2, taken=8) == 0
    assert protected_units(stock=10, protect_below=2, taken=9) == 1
    assert protected_units(stock=1, protect_below=3, taken=1) == 1
    assert protected_units(stock=5, protect_below=0, taken=5) == 0


def test_days_count_the_slowest_shipment_once():
    basket = [Line("1", "A", 1), Line("2", "B", 1)]
    candidates = [
        Candidate("S1", {"A": 1}),
        Candidate("S2", {"B": 1}),
        Candidate("WH", {"A": 1, "B": 1}),
    ]
    cost = model(S1=terms(100, days=1), S2=terms(100, days=3), WH=terms(150, days=5))
    decision = optimize(basket, candidates, cost, objective=Objective(days=30))
    assert decision.plan is not None
    assert decision.plan.locations == ("S1", "S2")
    assert decision.plan.breakdown.days == 3
    assert decision.plan.objective == 200 + 3 * 30


def test_ties_go_to_the_lowest_location_code_whatever_the_input_order():
    basket = [Line("1", "A", 2)]
    codes = ["S7", "S2", "S9", "S4"]
    cost = model(**{code: terms(500) for code in codes})
    chosen = set()
    for order in itertools.permutations(codes):
        decision = optimize(basket, [Candidate(c, {"A": 2}) for c in order], cost)
        assert decision.plan is not None
        chosen.add((decision.plan.locations, tuple(p.locations for p in decision.runners_up)))
    assert chosen == {(("S2",), (("S4",), ("S7",), ("S9",)))}


def test_lines_sharing_a_sku_share_its_stock():
    basket = [Line("1", "A", 2), Line("2", "A", 2)]
    candidates = [Candidate("S1", {"A": 3}), Candidate("S2", {"A": 3})]
    cost = model(S1=terms(100), S2=terms(200))
    decision = optimize(basket, candidates, cost, policy=PER_LINE)
    assert decision.plan is not None
    assert units_by_location(decision.plan.allocations) == {"S1": {"1": 2}, "S2": {"2": 2}}


def test_candidates_that_cannot_contribute_are_excluded_with_the_reason():
    basket = [Line("1", "A", 2), Line("2", "B", 1)]
    candidates = [
        Candidate("S1", {"C": 4}),
        Candidate("S2", {"A": 1}),
        Candidate("S3", {"A": 2}),
        Candidate("WH", {"A": 5, "B": 5}),
    ]
    cost = model(S1=terms(), S2=terms(), S3=terms(), WH=terms())
    reasons = {
        mode: {
            (e.location, e.reason)
            for e in optimize(basket, candidates, cost, policy=SplitPolicy(mode)).excluded
        }
        for mode in SplitMode
    }
    assert reasons[SplitMode.PER_UNIT] == {("S1", ExclusionReason.NO_STOCK)}
    assert reasons[SplitMode.PER_LINE] == {
        ("S1", ExclusionReason.NO_STOCK),
        ("S2", ExclusionReason.NO_WHOLE_LINE),
    }
    assert reasons[SplitMode.NEVER] == {
        ("S1", ExclusionReason.NO_STOCK),
        ("S2", ExclusionReason.NOT_THE_WHOLE_BASKET),
        ("S3", ExclusionReason.NOT_THE_WHOLE_BASKET),
    }


def test_no_plan_names_the_lines_short_of_stock():
    basket = [Line("1", "A", 3), Line("2", "A", 2), Line("3", "B", 1)]
    candidates = [Candidate("S1", {"A": 2, "B": 1}), Candidate("S2", {"A": 1})]
    cost = model(S1=terms(), S2=terms())
    decision = optimize(basket, candidates, cost)
    assert decision.plan is None
    assert decision.exact
    assert decision.shortfall == (Shortfall("2", 2),)


def test_no_plan_when_the_split_policy_forbids_what_the_stock_needs():
    basket = [Line("1", "A", 3)]
    candidates = [Candidate("S1", {"A": 2}), Candidate("S2", {"A": 1})]
    cost = model(S1=terms(), S2=terms())
    assert optimize(basket, candidates, cost).plan is not None
    decision = optimize(basket, candidates, cost, policy=PER_LINE)
    assert decision.plan is None
    assert decision.exact
    assert decision.shortfall == ()


def test_spent_budget_returns_the_best_plan_so_far_as_not_exact():
    ticks = itertools.count()

    def clock() -> float:
        """A second passes at every look: the first look in the search finds the budget spent."""
        return float(next(ticks))

    basket = [Line("1", "A", 1), Line("2", "B", 1), Line("3", "C", 1)]
    candidates = [Candidate(f"S{i:02d}", {"A": 1, "B": 1, "C": 1}) for i in range(100)]
    cost = model(**{c.location: terms(500 + i) for i, c in enumerate(candidates)})
    decision = optimize(basket, candidates, cost, budget_ms=1, clock=clock)
    assert not decision.exact
    assert decision.plan is not None
    assert decision.plan.locations == ("S00",)
    assert decision.elapsed_ms > 1
    assert optimize(basket, candidates, cost, budget_ms=1, clock=lambda: 0.0).exact


def test_runners_up_are_other_location_sets_ranked_by_objective():
    basket = [Line("1", "A", 1)]
    cost = model(S1=terms(300), S2=terms(100), S3=terms(200), S4=terms(400))
    candidates = [Candidate(code, {"A": 1}) for code in ("S1", "S2", "S3", "S4")]
    decision = optimize(basket, candidates, cost, runners_up=2)
    assert decision.plan is not None
    assert decision.plan.locations == ("S2",)
    assert [(p.locations, p.objective) for p in decision.runners_up] == [
        (("S3",), 200.0),
        (("S1",), 300.0),
    ]


def test_linear_model_adds_fixed_parcels_and_per_unit_figures():
    cost = LinearCostModel(
        {
            "WH": ShippingTerms(
                parcel_cost=400,
                days=2,
                unit_costs={"A": 30},
                default_unit_cost=10,
                carbon_per_parcel_g=200,
                carbon_per_unit_g=50,
                parcel_capacity=1000,
            )
        },
        sizes={"A": 600, "B": 300},
    )
    assert cost("WH", {"A": 2, "B": 1}) == Breakdown(
        cost=2 * 400 + 2 * 30 + 10, days=2, carbon_g=2 * 200 + 3 * 50, parcels=2
    )


def test_score_weighs_the_optimizers_plan_as_the_optimizer_does():
    basket = [Line("1", "A", 3), Line("2", "B", 1)]
    candidates = [Candidate("S1", {"A": 2, "B": 1}, protect_below=1), Candidate("S2", {"A": 3})]
    cost = model(S1=terms(100, unit=5), S2=terms(150, days=3, unit=7))
    objective = Objective(days=10, parcels=20, protection=15)
    decision = optimize(basket, candidates, cost, objective=objective)
    assert decision.plan is not None
    scored = score(
        decision.plan.allocations, basket, candidates, cost, policy=PER_UNIT, objective=objective
    )
    assert scored.valid
    assert scored.plan == decision.plan


def test_score_names_the_stock_and_split_rules_a_plan_breaks():
    basket = [Line("1", "A", 3), Line("2", "B", 1)]
    candidates = [Candidate("S1", {"A": 2, "B": 1}), Candidate("S2", {"A": 1})]
    cost = model(S1=terms(), S2=terms())
    plan = [Allocation("1", "S1", 2), Allocation("1", "S2", 2), Allocation("2", "S1", 1)]
    scored = score(
        plan,
        basket,
        candidates,
        cost,
        policy=SplitPolicy(SplitMode.NEVER, max_parcels=1),
        objective=Objective(),
    )
    assert [(v.rule, v.subject) for v in scored.violations] == [
        (Rule.QUANTITY, "1"),
        (Rule.STOCK, "S2"),
        (Rule.SPLIT_NEVER, "plan"),
        (Rule.SPLIT_PER_LINE, "1"),
        (Rule.MAX_PARCELS, "plan"),
    ]
    assert scored.plan.breakdown.cost == 1000


def test_score_leaves_unknown_lines_and_locations_out_of_the_figures():
    basket = [Line("1", "A", 1)]
    candidates = [Candidate("S1", {"A": 1})]
    cost = model(S1=terms(100))
    plan = [Allocation("1", "S1", 1), Allocation("9", "S1", 1), Allocation("1", "XX", 1)]
    scored = score(plan, basket, candidates, cost, policy=PER_UNIT, objective=Objective())
    assert [(v.rule, v.subject) for v in scored.violations] == [
        (Rule.UNKNOWN_LINE, "9"),
        (Rule.NOT_A_CANDIDATE, "XX"),
    ]
    assert scored.plan.objective == 100


@pytest.mark.parametrize(
    ("basket", "candidates", "policy", "objective"),
    [
        ([], [Candidate("S1", {})], PER_UNIT, Objective()),
        ([Line("1", "A", 1), Line("1", "B", 1)], [], PER_UNIT, Objective()),
        ([Line("1", "A", 0)], [], PER_UNIT, Objective()),
        ([Line("1", "A", 1)], [Candidate("S1", {}), Candidate("S1", {})], PER_UNIT, Objective()),
        ([Line("1", "A", 1)], [Candidate("S1", {"A": -1})], PER_UNIT, Objective()),
        ([Line("1", "A", 1)], [], PER_UNIT, Objective(days=-1)),
        ([Line("1", "A", 1)], [], SplitPolicy(max_locations=0), Objective()),
    ],
)
def test_a_problem_the_bounds_cannot_hold_for_is_refused(basket, candidates, policy, objective):
    with pytest.raises(InvalidProblem):
        optimize(basket, candidates, model(), policy=policy, objective=objective)


SKUS = ("A", "B", "C", "D")
Instance = tuple[list[Line], list[Candidate], LinearCostModel, SplitPolicy, Objective]


@st.composite
def instances(draw: st.DrawFn) -> Instance:
    skus = SKUS[: draw(st.integers(1, 4))]
    basket = [
        Line(f"L{i}", draw(st.sampled_from(skus)), draw(st.integers(1, 4)))
        for i in range(draw(st.integers(1, 5)))
    ]
    candidates: list[Candidate] = []
    by_location: dict[str, ShippingTerms] = {}
    for j in range(draw(st.integers(2, 12))):
        code = f"C{j:02d}"
        stock = {sku: draw(st.sampled_from((0, 0, 1, 2, 3, 6, 12))) for sku in skus}
        candidates.append(Candidate(code, stock, protect_below=draw(st.integers(0, 2))))
        by_location[code] = ShippingTerms(
            parcel_cost=draw(st.integers(200, 900)),
            days=draw(st.integers(1, 5)),
            unit_costs={sku: draw(st.integers(0, 300)) for sku in skus},
            carbon_per_parcel_g=draw(st.integers(0, 800)),
            carbon_per_unit_g=draw(st.integers(0, 200)),
            parcel_capacity=draw(st.none() | st.integers(2, 8)),
        )
    cost = LinearCostModel(by_location, sizes={sku: draw(st.integers(1, 3)) for sku in skus})
    policy = SplitPolicy(
        draw(st.sampled_from(SplitMode)),
        max_locations=draw(st.none() | st.integers(1, 3)),
        max_parcels=draw(st.none() | st.integers(1, 5)),
    )
    objective = Objective(
        cost=1.0,
        days=draw(st.sampled_from((0.0, 25.0, 120.0))),
        carbon=draw(st.sampled_from((0.0, 0.05))),
        parcels=draw(st.sampled_from((0.0, 90.0))),
        protection=draw(st.sampled_from((0.0, 150.0))),
    )
    return basket, candidates, cost, policy, objective


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_search_finds_the_optimum_highs_proves_and_keeps_every_rule(instance: Instance) -> None:
    basket, candidates, cost, policy, objective = instance
    decision = optimize(basket, candidates, cost, policy=policy, objective=objective, budget_ms=1e6)
    reference = solve(basket, candidates, cost, policy=policy, objective=objective)
    assert decision.exact
    assert reference.optimal
    if reference.objective is None:
        assert decision.plan is None
        return
    assert decision.plan is not None
    assert decision.plan.objective == pytest.approx(reference.objective, rel=1e-6, abs=1e-6)
    for plan in (decision.plan, *decision.runners_up):
        checked = score(
            plan.allocations, basket, candidates, cost, policy=policy, objective=objective
        )
        assert checked.violations == ()
        assert checked.plan == plan
    milp_plan = score(
        reference.allocations, basket, candidates, cost, policy=policy, objective=objective
    )
    assert milp_plan.violations == ()
    assert milp_plan.plan.objective == pytest.approx(reference.objective, rel=1e-6, abs=1e-6)


@settings(max_examples=30, deadline=None)
@given(instances(), st.randoms(use_true_random=False))
def test_decision_does_not_depend_on_the_order_of_lines_or_candidates(
    instance: Instance, rng: random.Random
) -> None:
    basket, candidates, cost, policy, objective = instance
    first = optimize(basket, candidates, cost, policy=policy, objective=objective, budget_ms=1e6)
    shuffled_basket, shuffled_candidates = list(basket), list(candidates)
    rng.shuffle(shuffled_basket)
    rng.shuffle(shuffled_candidates)
    again = optimize(
        shuffled_basket,
        shuffled_candidates,
        cost,
        policy=policy,
        objective=objective,
        budget_ms=1e6,
    )
    assert (again.plan, again.runners_up, again.excluded, again.shortfall) == (
        first.plan,
        first.runners_up,
        first.excluded,
        first.shortfall,
    )


@dataclass(frozen=True, slots=True)
class RateCard:
    """A carrier-like model the MILP cannot state: a price per parcel by weight band."""

    bands: dict[str, tuple[int, int, int]]
    days: dict[str, int]

    def __call__(self, location: str, units: Mapping[str, int], /) -> Breakdown:
        weight = sum(units.values())
        light, medium, heavy = self.bands[location]
        price = light if weight <= 2 else medium if weight <= 4 else heavy
        return Breakdown(cost=price, days=self.days[location], carbon_g=40 * weight, parcels=1)


def every_plan(basket: list[Line], codes: list[str]) -> Iterator[list[Allocation]]:
    per_line = [
        [
            [Allocation(line.line_id, code, n) for code, n in zip(codes, split, strict=True) if n]
            for split in itertools.product(range(line.quantity + 1), repeat=len(codes))
            if sum(split) == line.quantity
        ]
        for line in basket
    ]
    for choice in itertools.product(*per_line):
        yield [a for line_allocations in choice for a in line_allocations]


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_no_plan_found_by_brute_force_beats_the_search_with_a_rate_card(
    data: st.DataObject,
) -> None:
    codes = [f"S{j}" for j in range(data.draw(st.integers(2, 4)))]
    basket = [
        Line(f"L{i}", data.draw(st.sampled_from("AB")), data.draw(st.integers(1, 2)))
        for i in range(data.draw(st.integers(1, 3)))
    ]
    candidates = [
        Candidate(code, {"A": data.draw(st.integers(0, 3)), "B": data.draw(st.integers(0, 3))}, 1)
        for code in codes
    ]
    prices = st.tuples(st.integers(100, 400), st.integers(0, 300), st.integers(0, 300))
    bands = {code: data.draw(prices) for code in codes}
    cost = RateCard(
        bands={code: (a, a + b, a + b + c) for code, (a, b, c) in bands.items()},
        days={code: data.draw(st.integers(1, 4)) for code in codes},
    )
    policy = SplitPolicy(data.draw(st.sampled_from(SplitMode)))
    objective = Objective(days=50, carbon=0.5, parcels=20, protection=60)
    decision = optimize(basket, candidates, cost, policy=policy, objective=objective, budget_ms=1e6)
    valid = [
        scored.plan.objective
        for plan in every_plan(basket, codes)
        if (
            scored := score(plan, basket, candidates, cost, policy=policy, objective=objective)
        ).valid
    ]
    assert decision.exact
    if not valid:
        assert decision.plan is None
        return
    assert decision.plan is not None
    assert decision.plan.objective == pytest.approx(min(valid))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_a_basket_out_of_reach_of_the_stock_has_no_plan(instance: Instance) -> None:
    """`out_of_reach` is a necessary condition only: when it says so, the search finds nothing."""
    basket, candidates, cost, policy, objective = instance
    if not out_of_reach(basket, [c.stock for c in candidates], policy):
        return
    decision = optimize(basket, candidates, cost, policy=policy, objective=objective, budget_ms=1e6)
    assert decision.plan is None


def test_out_of_reach_asks_each_split_for_what_it_needs():
    basket = [Line("1", "A", 2), Line("2", "B", 1)]
    apart = [{"A": 2}, {"B": 1}]
    together = [{"A": 2, "B": 1}]
    halves = [{"A": 1, "B": 1}, {"A": 1}]
    assert out_of_reach(basket, apart, SplitPolicy(SplitMode.NEVER))
    assert not out_of_reach(basket, together, SplitPolicy(SplitMode.NEVER))
    assert not out_of_reach(basket, apart, SplitPolicy(SplitMode.PER_LINE))
    assert out_of_reach(basket, halves, SplitPolicy(SplitMode.PER_LINE))
    assert not out_of_reach(basket, halves, SplitPolicy(SplitMode.PER_UNIT))
    assert out_of_reach(basket, [{"A": 1, "B": 1}], SplitPolicy(SplitMode.PER_UNIT))
    assert out_of_reach(basket, [], SplitPolicy(SplitMode.PER_UNIT))
