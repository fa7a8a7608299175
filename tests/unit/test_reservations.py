"""The e-reservation rules: its state machine, expiry as a matter of time, the hoarding limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openoms.domain.reservations import (
    TRANSITIONS,
    IllegalReservationTransition,
    ReservationAction,
    ReservationLimitExceeded,
    ReservationLimits,
    ReservationStatus,
    check_limits,
    expiry,
    holds_units,
    next_status,
    status_at,
)

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=48)
S, A = ReservationStatus, ReservationAction


def test_a_reservation_whose_expiry_is_now_is_expired() -> None:
    assert status_at(S.OPEN, NOW, NOW) is S.EXPIRED
    assert status_at(S.SET_ASIDE, NOW, NOW) is S.EXPIRED
    assert status_at(S.OPEN, NOW, NOW - timedelta(microseconds=1)) is S.OPEN


def test_an_ended_reservation_stays_as_it_ended_after_its_expiry() -> None:
    assert status_at(S.CONVERTED, NOW, LATER) is S.CONVERTED
    assert status_at(S.CANCELLED, NOW, LATER) is S.CANCELLED


def test_an_open_reservation_is_set_aside_then_converted() -> None:
    assert next_status(S.OPEN, A.SET_ASIDE, LATER, NOW) is S.SET_ASIDE
    assert next_status(S.SET_ASIDE, A.CONVERT, LATER, NOW) is S.CONVERTED


def test_an_expired_reservation_cannot_be_converted_set_aside_or_cancelled() -> None:
    for action in (A.CONVERT, A.SET_ASIDE, A.CANCEL):
        with pytest.raises(IllegalReservationTransition) as refused:
            next_status(S.OPEN, action, NOW, NOW)
        assert refused.value.status is S.EXPIRED


def test_expiry_is_written_down_only_once_the_time_has_come() -> None:
    assert next_status(S.SET_ASIDE, A.EXPIRE, NOW, NOW) is S.EXPIRED
    with pytest.raises(IllegalReservationTransition):
        next_status(S.OPEN, A.EXPIRE, LATER, NOW)
    with pytest.raises(IllegalReservationTransition):
        next_status(S.CONVERTED, A.EXPIRE, NOW, LATER)


@given(st.sampled_from(list(S)), st.sampled_from(list(A)))
def test_only_the_listed_transitions_are_allowed(
    status: ReservationStatus, action: ReservationAction
) -> None:
    allowed = TRANSITIONS[status].get(action)
    try:
        assert next_status(status, action, LATER if action is not A.EXPIRE else NOW, NOW) is allowed
    except IllegalReservationTransition:
        assert allowed is None


def test_only_open_and_set_aside_reservations_hold_units() -> None:
    assert {s for s in S if holds_units(s)} == {S.OPEN, S.SET_ASIDE}


def test_the_holding_time_sets_the_expiry() -> None:
    assert expiry(NOW, 48) == LATER
    with pytest.raises(ValueError, match="positive"):
        expiry(NOW, 0)


def test_a_customer_at_the_limit_of_open_reservations_is_refused() -> None:
    limits = ReservationLimits(max_open=2, max_units_per_sku=5)
    check_limits(limits, open_reservations=1, open_units={}, wanted={"A": 1})
    with pytest.raises(ReservationLimitExceeded) as refused:
        check_limits(limits, open_reservations=2, open_units={}, wanted={"A": 1})
    [breach] = refused.value.breaches
    assert (breach.limit, breach.allowed, breach.asked) == ("max_open", 2, 3)


def test_units_of_one_sku_count_over_all_open_reservations() -> None:
    limits = ReservationLimits(max_open=5, max_units_per_sku=3)
    check_limits(limits, open_reservations=1, open_units={"A": 2}, wanted={"A": 1, "B": 3})
    with pytest.raises(ReservationLimitExceeded) as refused:
        check_limits(limits, open_reservations=1, open_units={"A": 2}, wanted={"A": 2, "B": 3})
    [breach] = refused.value.breaches
    assert (breach.limit, breach.sku, breach.asked) == ("max_units_per_sku", "A", 4)
    assert "max_units_per_sku" in str(refused.value)


def test_limits_below_one_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ReservationLimits(max_open=0)
