"""The click & collect rules without a database: the pickup code, names, deadlines, which plan
may serve an express order, and the state machine's click & collect branch."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openoms.domain.collect import (
    CODE_ALPHABET,
    CODE_LENGTH,
    MAX_TRIES,
    CollectSettings,
    ExpressRefused,
    UncollectedPolicy,
    check_express_plan,
    code_matches,
    express_ready_by,
    hash_code,
    holding_until,
    is_late,
    name_matches,
    new_pickup_code,
    transfer_overdue_at,
    tries_left,
)
from openoms.domain.fulfilments import (
    Actor,
    FulfilmentStatus,
    Holding,
    Transition,
    holding,
    may_act,
    next_status,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_a_pickup_code_is_six_characters_without_look_alikes() -> None:
    code = new_pickup_code()
    assert len(code) == CODE_LENGTH
    assert set(code) <= set(CODE_ALPHABET)
    assert not set("0O1I") & set(CODE_ALPHABET)


def test_codes_are_drawn_by_the_given_chooser() -> None:
    assert new_pickup_code(lambda alphabet: alphabet[-1]) == "999999"


@given(code=st.text(alphabet=CODE_ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH))
def test_a_code_matches_its_hash_whatever_the_case_and_spacing(code: str) -> None:
    stored = hash_code("order-1", code)
    assert code not in stored
    assert code_matches(stored, "order-1", code)
    assert code_matches(stored, "order-1", f" {code[:3].lower()}-{code[3:]} ")


@given(
    code=st.text(alphabet=CODE_ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH),
    other=st.text(alphabet=CODE_ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH),
)
def test_another_code_does_not_match(code: str, other: str) -> None:
    if code != other:
        assert not code_matches(hash_code("order-1", code), "order-1", other)


def test_a_hash_is_bound_to_its_order() -> None:
    assert hash_code("order-1", "ABCDEF") != hash_code("order-2", "ABCDEF")
    assert not code_matches(hash_code("order-1", "ABCDEF"), "order-2", "ABCDEF")


def test_a_name_matches_whatever_the_case_accents_and_spaces() -> None:
    assert name_matches("Hélène Dupré", "  helene   DUPRE ")
    assert not name_matches("Hélène Dupré", "Helene Dupont")
    assert not name_matches("Hélène Dupré", "")


def test_tries_run_out_after_the_limit() -> None:
    assert tries_left(0) == MAX_TRIES
    assert tries_left(MAX_TRIES - 1) == 1
    assert tries_left(MAX_TRIES) == 0
    assert tries_left(MAX_TRIES + 3) == 0


def test_a_stores_settings_default_to_five_days_an_hour_and_cancel() -> None:
    settings = CollectSettings()
    assert (settings.holding_days, settings.express_minutes) == (5, 60)
    assert settings.uncollected is UncollectedPolicy.CANCEL
    assert holding_until(NOW, settings) == NOW + timedelta(days=5)
    assert express_ready_by(NOW, CollectSettings(express_minutes=45)) == NOW + timedelta(minutes=45)


@pytest.mark.parametrize(("days", "minutes"), [(0, 60), (61, 60), (5, 4), (5, 1441)])
def test_settings_out_of_range_are_refused(days: int, minutes: int) -> None:
    with pytest.raises(ValueError, match="must be within"):
        CollectSettings(holding_days=days, express_minutes=minutes)


def test_an_express_order_is_late_past_its_deadline_unless_ready_in_time() -> None:
    deadline = NOW + timedelta(hours=1)
    assert not is_late(deadline, None, deadline)
    assert is_late(deadline, None, deadline + timedelta(seconds=1))
    assert not is_late(deadline, deadline - timedelta(minutes=5), deadline + timedelta(hours=3))
    assert is_late(deadline, deadline + timedelta(minutes=5), deadline + timedelta(minutes=6))
    assert not is_late(None, None, deadline + timedelta(days=9))


def test_a_transfer_is_overdue_a_day_after_the_end_of_its_latest_arrival_day() -> None:
    paris = ZoneInfo("Europe/Paris")
    overdue = transfer_overdue_at(date(2026, 12, 3), paris)
    assert overdue == datetime(2026, 12, 5, 0, 0, tzinfo=paris)


def test_express_is_served_only_from_the_pickup_stores_own_shelf_with_every_unit() -> None:
    ordered = {"1": 2, "2": 1}
    check_express_plan("ST1", [("ST1", {"1": 2, "2": 1})], ordered, capable=True, open_now=True)
    cases = [
        ([("ST1", {"1": 2, "2": 1})], False, True, "does not offer express"),
        ([("ST1", {"1": 2, "2": 1})], True, False, "closed now"),
        ([("ST1", {"1": 2}), ("WH1", {"2": 1})], True, True, "not WH1"),
        ([("ST1", {"1": 1, "2": 1})], True, True, "lacks units of lines 1"),
        ([], True, True, "lacks units of lines 1, 2"),
    ]
    for shipments, capable, open_now, reason in cases:
        with pytest.raises(ExpressRefused, match=reason):
            check_express_plan("ST1", shipments, ordered, capable=capable, open_now=open_now)


def test_a_transfer_is_received_by_a_store_and_held_there_until_collected() -> None:
    status, action = FulfilmentStatus, Transition
    assert next_status(status.PACKED, action.TRANSFER) is status.IN_TRANSFER
    assert next_status(status.IN_TRANSFER, action.RECEIVE) is status.READY_FOR_PICKUP
    assert next_status(status.PACKED, action.READY) is status.READY_FOR_PICKUP
    assert (holding(status.IN_TRANSFER), holding(status.READY_FOR_PICKUP)) == (
        Holding.CONSUMED,
        Holding.HELD,
    )
    assert may_act(Actor.STORE, action.RECEIVE)
    assert not may_act(Actor.CHANNEL, action.RECEIVE)
    assert not may_act(Actor.CARRIER, action.COLLECT)
