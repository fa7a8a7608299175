"""The decision record an order keeps, built by hand (`decision_record`), is `DecisionBody`'s
document: the same fields with the same values of the same JSON types."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from openoms.api.schemas.orders_record import decision_record
from openoms.api.schemas.sourcing import DecisionBody
from openoms.domain.sourcing import (
    Candidate,
    Line,
    LinearCostModel,
    ShippingTerms,
    SplitMode,
    SplitPolicy,
    optimize,
)
from openoms.services.sourcing import Attempt, SourcingResult
from openoms.services.sourcing_view import ExcludedLocation


def _typed(value: Any) -> Any:
    """The value with each leaf's type beside it: 1 and 1.0, or 0 and False, differ."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, value)


def _same(result: SourcingResult) -> None:
    expected = DecisionBody.of(result).model_dump(mode="json")
    assert _typed(decision_record(result)) == _typed(expected)


EXCLUDED = (
    ExcludedLocation("S9", "stores", "distance", "1,204 km away, beyond 300 km"),
    ExcludedLocation("W3", "warehouses", "no_stock", "no unit of any line of the basket"),
)


@settings(max_examples=60, deadline=None)
@given(
    stock=st.lists(
        st.dictionaries(st.sampled_from("ABC"), st.integers(0, 4), min_size=1),
        min_size=1,
        max_size=5,
    ),
    wanted=st.lists(st.integers(1, 3), min_size=1, max_size=3),
    split=st.sampled_from(list(SplitMode)),
    parcel_cost=st.integers(0, 900),
)
def test_a_record_with_or_without_a_plan_is_the_models_document(
    stock: list[dict[str, int]], wanted: list[int], split: SplitMode, parcel_cost: int
) -> None:
    basket = [Line(str(i + 1), "ABC"[i], units) for i, units in enumerate(wanted)]
    candidates = [Candidate(f"L{i}", units) for i, units in enumerate(stock)]
    terms = ShippingTerms(parcel_cost=parcel_cost, days=2, default_unit_cost=7)
    cost = LinearCostModel({c.location: terms for c in candidates})
    first = optimize(basket, candidates, cost, policy=SplitPolicy(split), runners_up=3)
    attempts = (Attempt("stores", first),)
    if first.plan is None:
        _same(SourcingResult("web-home", None, None, attempts, EXCLUDED))
    else:
        _same(SourcingResult("web-home", "stores", first, attempts, EXCLUDED))


def test_a_record_of_two_rules_tried_and_none_that_served() -> None:
    basket = [Line("1", "A", 5)]
    terms = ShippingTerms(parcel_cost=500, days=2)
    empty = optimize(basket, [Candidate("W1", {"A": 2})], LinearCostModel({"W1": terms}))
    assert empty.plan is None
    assert empty.shortfall
    attempts = (Attempt("warehouses", empty), Attempt("stores", empty))
    _same(SourcingResult("web-home", None, None, attempts, ()))
