"""The return rules: what may be returned and until when, the refund, the inspection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openoms.domain.network import Capability, GeoPoint, Location, LocationKind
from openoms.domain.returns import (
    Grade,
    InspectedUnits,
    Inspection,
    InspectionMismatch,
    OrderNotDelivered,
    ReturnableLine,
    ReturnMethod,
    ReturnPolicy,
    ReturnWindowClosed,
    TooManyUnits,
    UnknownLine,
    carrier_return_destination,
    check_inspection,
    check_return,
    refund,
)

DELIVERED = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
POLICY = ReturnPolicy(days=30, carrier_fee=495)


def line(received: int = 3, pending: int = 0) -> ReturnableLine:
    return ReturnableLine("1", "A", 2999, "EUR", received, pending)


def check(asked: dict[str, int], *, now: datetime = DELIVERED, **extra: object) -> None:
    fields: dict[str, object] = {
        "status": "delivered",
        "finished": True,
        "delivered_at": DELIVERED,
        "lines": {"1": line()},
        "asked": asked,
        "policy": POLICY,
        "now": now,
    }
    fields.update(extra)
    check_return(**fields)  # type: ignore[arg-type]


def test_units_delivered_and_not_returned_may_be_returned() -> None:
    check({"1": 3})


def test_more_units_than_delivered_are_refused_naming_the_line() -> None:
    with pytest.raises(TooManyUnits) as refused:
        check({"1": 4})
    assert (refused.value.line_id, refused.value.asked, refused.value.returnable) == ("1", 4, 3)
    assert refused.value.reason == "too_many_units"


def test_units_of_a_return_under_way_cannot_be_returned_again() -> None:
    with pytest.raises(TooManyUnits):
        check({"1": 2}, lines={"1": line(received=3, pending=2)})
    check({"1": 1}, lines={"1": line(received=3, pending=2)})


def test_returns_close_at_the_end_of_the_time_limit() -> None:
    deadline = DELIVERED + timedelta(days=30)
    check({"1": 1}, now=deadline)
    with pytest.raises(ReturnWindowClosed) as refused:
        check({"1": 1}, now=deadline + timedelta(microseconds=1))
    assert refused.value.deadline == deadline


def test_an_order_not_delivered_is_refused_with_its_status() -> None:
    with pytest.raises(OrderNotDelivered, match="shipped"):
        check({"1": 1}, status="shipped", finished=False, delivered_at=None)


def test_a_line_the_order_does_not_have_is_refused() -> None:
    with pytest.raises(UnknownLine):
        check({"9": 1})


def test_a_carrier_return_pays_the_fee_never_below_zero() -> None:
    assert refund([(2, 2999)], "EUR", ReturnMethod.IN_STORE, POLICY).amount == 5998
    by_carrier = refund([(2, 2999), (1, 100)], "EUR", ReturnMethod.CARRIER, POLICY)
    assert (by_carrier.amount, by_carrier.gross, by_carrier.fee) == (6098 - 495, 6098, 495)
    cheap = refund([(1, 300)], "EUR", ReturnMethod.CARRIER, POLICY)
    assert (cheap.amount, cheap.fee) == (0, 300)


@given(
    st.lists(st.tuples(st.integers(1, 20), st.integers(0, 100_000)), min_size=1, max_size=5),
    st.sampled_from(list(ReturnMethod)),
    st.integers(0, 10_000),
)
def test_the_refund_and_the_fee_add_up_to_what_was_paid(
    lines: list[tuple[int, int]], method: ReturnMethod, fee: int
) -> None:
    paid = refund(lines, "EUR", method, ReturnPolicy(carrier_fee=fee))
    assert paid.amount + paid.fee == sum(units * price for units, price in lines)
    assert paid.amount >= 0
    assert paid.fee == 0 or method is ReturnMethod.CARRIER


def test_every_returned_unit_is_inspected_once() -> None:
    items = [
        InspectedUnits("1", Inspection.RESELL, 1),
        InspectedUnits("1", Inspection.SECOND_HAND, 1, Grade.GOOD),
    ]
    check_inspection({"1": 2}, items)
    with pytest.raises(InspectionMismatch) as mismatch:
        check_inspection({"1": 3}, items)
    assert (mismatch.value.expected, mismatch.value.inspected) == (3, 2)
    with pytest.raises(InspectionMismatch):
        check_inspection({"1": 2}, [*items, InspectedUnits("2", Inspection.DAMAGED, 1)])


def test_a_grade_goes_with_second_hand_units_only() -> None:
    with pytest.raises(ValueError, match="grade"):
        InspectedUnits("1", Inspection.SECOND_HAND, 1)
    with pytest.raises(ValueError, match="grade"):
        InspectedUnits("1", Inspection.RESELL, 1, Grade.FAIR)


def _warehouse(
    code: str, latitude: float, *capabilities: Capability, active: bool = True
) -> Location:
    return Location(
        code=code,
        name=code,
        kind=LocationKind.WAREHOUSE,
        point=GeoPoint(latitude, 2.35),
        timezone="Europe/Paris",
        capabilities=frozenset(capabilities),
        active=active,
    )


def test_a_carrier_return_goes_to_the_nearest_warehouse_that_takes_returns() -> None:
    north = _warehouse("WH-N", 50.6, Capability.RETURNS)
    south = _warehouse("WH-S", 43.6, Capability.RETURNS)
    near_south = _warehouse("WH-X", 43.7)  # nearer, but takes no returns
    closed = _warehouse("WH-C", 43.6, Capability.RETURNS, active=False)
    network = [north, south, near_south, closed]
    assert carrier_return_destination(network, GeoPoint(43.7, 2.35)) == south
    assert carrier_return_destination(network, GeoPoint(50.0, 2.35)) == north
    assert carrier_return_destination(network, None) == north  # the first by code


def test_without_a_warehouse_taking_returns_any_warehouse_will_do_and_none_is_none() -> None:
    plain = _warehouse("WH-P", 45.0)
    assert carrier_return_destination([plain], GeoPoint(43.7, 2.35)) == plain
    assert carrier_return_destination([], GeoPoint(43.7, 2.35)) is None
