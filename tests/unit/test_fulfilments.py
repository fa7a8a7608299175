"""The fulfilment state machine: what may follow what, who may act, and what stock it holds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openoms.domain.fulfilments import (
    INITIAL_STATUS,
    TERMINAL_STATUSES,
    TRANSITIONS,
    Actor,
    FulfilmentStatus,
    Holding,
    IllegalTransition,
    Transition,
    allowed_actions,
    holding,
    holds_allocation,
    is_open,
    may_act,
    next_status,
)

S = FulfilmentStatus
T = Transition

LEGAL = [
    (S.OFFERED, T.CLAIM, S.CLAIMED),
    (S.OFFERED, T.REJECT, S.REJECTED),
    (S.OFFERED, T.WITHDRAW, S.WITHDRAWN),
    (S.OFFERED, T.CANCEL, S.CANCELLED),
    (S.CLAIMED, T.PICK, S.PICKING),
    (S.CLAIMED, T.REJECT, S.REJECTED),
    (S.CLAIMED, T.WITHDRAW, S.WITHDRAWN),
    (S.CLAIMED, T.CANCEL, S.CANCELLED),
    (S.PICKING, T.PACK, S.PACKED),
    (S.PICKING, T.REJECT, S.REJECTED),
    (S.PICKING, T.CANCEL, S.CANCELLED),
    (S.PACKED, T.SHIP, S.SHIPPED),
    (S.PACKED, T.TRANSFER, S.IN_TRANSFER),
    (S.PACKED, T.READY, S.READY_FOR_PICKUP),
    (S.PACKED, T.CANCEL, S.CANCELLED),
    (S.SHIPPED, T.DELIVER, S.DELIVERED),
    (S.IN_TRANSFER, T.RECEIVE, S.READY_FOR_PICKUP),
    (S.READY_FOR_PICKUP, T.COLLECT, S.COLLECTED),
    (S.READY_FOR_PICKUP, T.CANCEL, S.CANCELLED),
]
LEGAL_PAIRS = {(status, action) for status, action, _ in LEGAL}
ILLEGAL = [(status, action) for status in S for action in T if (status, action) not in LEGAL_PAIRS]


@pytest.mark.parametrize(("status", "action", "after"), LEGAL)
def test_every_legal_transition_leads_where_the_table_says(status, action, after):
    assert next_status(status, action) is after


def test_the_table_holds_exactly_the_legal_transitions():
    in_table = {(status, action) for status, moves in TRANSITIONS.items() for action in moves}
    assert in_table == LEGAL_PAIRS
    assert set(TRANSITIONS) == set(S)


@pytest.mark.parametrize(("status", "action"), ILLEGAL)
def test_every_action_outside_the_table_is_illegal(status, action):
    with pytest.raises(IllegalTransition) as raised:
        next_status(status, action)
    assert raised.value.status is status
    assert raised.value.action is action
    assert raised.value.allowed == allowed_actions(status)


def test_a_shipped_fulfilment_cannot_be_claimed():
    with pytest.raises(IllegalTransition, match="allowed from shipped: deliver"):
        next_status(S.SHIPPED, T.CLAIM)


def test_an_illegal_transition_says_what_is_allowed_from_that_status():
    with pytest.raises(IllegalTransition) as raised:
        next_status(S.OFFERED, T.SHIP)
    assert str(raised.value) == (
        "cannot ship a fulfilment that is offered;"
        " allowed from offered: cancel, claim, reject, withdraw"
    )


def test_an_illegal_transition_from_a_final_status_says_it_is_final():
    with pytest.raises(IllegalTransition, match=r"allowed from delivered: nothing \(it is final\)"):
        next_status(S.DELIVERED, T.CANCEL)


def test_a_fulfilment_that_left_the_location_cannot_be_cancelled():
    for status in (S.SHIPPED, S.IN_TRANSFER):
        with pytest.raises(IllegalTransition):
            next_status(status, T.CANCEL)


def test_a_packed_fulfilment_can_no_longer_be_rejected_or_withdrawn():
    for action in (T.REJECT, T.WITHDRAW):
        with pytest.raises(IllegalTransition):
            next_status(S.PACKED, action)


def test_a_transferred_parcel_becomes_ready_when_it_reaches_the_pickup_store():
    status = INITIAL_STATUS
    for action in (T.CLAIM, T.PICK, T.PACK, T.TRANSFER, T.RECEIVE, T.COLLECT):
        status = next_status(status, action)
    assert status is S.COLLECTED


def test_fulfilments_are_born_offered():
    assert INITIAL_STATUS is S.OFFERED


def test_the_final_statuses_are_delivered_collected_rejected_withdrawn_and_cancelled():
    assert {S.DELIVERED, S.COLLECTED, S.REJECTED, S.WITHDRAWN, S.CANCELLED} == TERMINAL_STATUSES
    assert not any(is_open(status) for status in TERMINAL_STATUSES)


def test_a_shipped_fulfilment_is_still_open_until_delivered():
    assert is_open(S.SHIPPED)


def test_a_store_prepares_and_hands_over_but_does_not_deliver_or_cancel():
    store_actions = {
        T.CLAIM,
        T.REJECT,
        T.PICK,
        T.PACK,
        T.SHIP,
        T.TRANSFER,
        T.READY,
        T.RECEIVE,
        T.COLLECT,
    }
    assert {action for action in T if may_act(Actor.STORE, action)} == store_actions


def test_only_the_carrier_and_admin_mark_a_parcel_delivered():
    assert {actor for actor in Actor if may_act(actor, T.DELIVER)} == {Actor.CARRIER, Actor.ADMIN}


def test_a_channel_may_only_cancel():
    assert {action for action in T if may_act(Actor.CHANNEL, action)} == {T.CANCEL}


def test_the_worker_claims_for_warehouses_withdraws_and_cancels_on_timers():
    assert {action for action in T if may_act(Actor.SYSTEM, action)} == {
        T.CLAIM,
        T.WITHDRAW,
        T.CANCEL,
    }


def test_only_the_worker_and_admin_withdraw_a_fulfilment():
    assert {actor for actor in Actor if may_act(actor, T.WITHDRAW)} == {Actor.SYSTEM, Actor.ADMIN}


def test_an_admin_may_do_every_action():
    assert all(may_act(Actor.ADMIN, action) for action in T)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (S.OFFERED, Holding.HELD),
        (S.CLAIMED, Holding.HELD),
        (S.PICKING, Holding.HELD),
        (S.PACKED, Holding.HELD),
        (S.READY_FOR_PICKUP, Holding.HELD),
        (S.IN_TRANSFER, Holding.CONSUMED),
        (S.SHIPPED, Holding.CONSUMED),
        (S.DELIVERED, Holding.CONSUMED),
        (S.COLLECTED, Holding.CONSUMED),
        (S.REJECTED, Holding.RELEASED),
        (S.WITHDRAWN, Holding.RELEASED),
        (S.CANCELLED, Holding.RELEASED),
    ],
)
def test_what_stock_a_fulfilment_stands_for_follows_its_status(status, expected):
    assert holding(status) is expected
    assert holds_allocation(status) is (expected is Holding.HELD)


def test_units_are_released_only_from_a_status_that_holds_them():
    for status, moves in TRANSITIONS.items():
        for after in moves.values():
            if holding(after) is Holding.RELEASED:
                assert holding(status) is Holding.HELD, (status, after)


def reachable_from(start: FulfilmentStatus) -> set[FulfilmentStatus]:
    seen = {start}
    frontier = [start]
    while frontier:
        for after in TRANSITIONS[frontier.pop()].values():
            if after not in seen:
                seen.add(after)
                frontier.append(after)
    return seen


def test_every_status_is_reachable_from_offered():
    assert reachable_from(INITIAL_STATUS) == set(S)


steps = st.lists(st.tuples(st.sampled_from(Actor), st.sampled_from(Transition)), max_size=30)


@given(steps)
def test_any_sequence_of_actions_keeps_the_fulfilment_in_a_reachable_state(sequence):
    status = INITIAL_STATUS
    for actor, action in sequence:
        if not may_act(actor, action):
            continue
        before = status
        if action in allowed_actions(status):
            status = next_status(status, action)
        else:
            with pytest.raises(IllegalTransition):
                next_status(status, action)
        assert status in reachable_from(before)
        if before in TERMINAL_STATUSES:
            assert status is before


@given(st.sampled_from(sorted(TERMINAL_STATUSES)), st.lists(st.sampled_from(Transition)))
def test_a_final_status_never_moves(status, actions):
    for action in actions:
        with pytest.raises(IllegalTransition):
            next_status(status, action)
