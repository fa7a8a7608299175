"""An order's status read off its fulfilments, and the conservation of an order line's units."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openoms.domain.fulfilments import TRANSITIONS, FulfilmentStatus
from openoms.domain.orders import (
    FLOWS,
    AllocatedAt,
    Bucket,
    Buckets,
    ConservationBroken,
    IllegalMove,
    NotEnoughUnits,
    OrderStatus,
    Place,
    check_conservation,
    ensure_conserved,
    move,
    order_status,
    place_for,
)

F = FulfilmentStatus
OS = OrderStatus


@pytest.mark.parametrize(
    ("statuses", "unallocated", "expected"),
    [
        ([], 3, OS.PENDING),
        ([F.CLAIMED], 1, OS.PENDING),
        ([F.OFFERED, F.CLAIMED], 0, OS.ALLOCATED),
        ([F.CLAIMED, F.PICKING], 0, OS.ALLOCATED),
        ([F.PICKING, F.PACKED], 0, OS.IN_PROGRESS),
        ([F.PACKED, F.IN_TRANSFER], 0, OS.IN_PROGRESS),
        ([F.SHIPPED, F.CLAIMED], 0, OS.PARTIALLY_SHIPPED),
        ([F.DELIVERED], 2, OS.PARTIALLY_SHIPPED),
        ([F.COLLECTED, F.PICKING], 0, OS.PARTIALLY_SHIPPED),
        ([F.SHIPPED, F.DELIVERED], 0, OS.SHIPPED),
        ([F.READY_FOR_PICKUP], 0, OS.READY_FOR_PICKUP),
        ([F.READY_FOR_PICKUP, F.SHIPPED], 0, OS.READY_FOR_PICKUP),
        ([F.DELIVERED, F.DELIVERED], 0, OS.DELIVERED),
        ([F.COLLECTED], 0, OS.COLLECTED),
        ([F.DELIVERED, F.COLLECTED], 0, OS.COMPLETED),
        ([F.CANCELLED, F.CANCELLED], 0, OS.CANCELLED),
        ([], 0, OS.CANCELLED),
    ],
)
def test_the_order_is_as_far_as_its_least_advanced_part(statuses, unallocated, expected):
    assert order_status(statuses, unallocated) is expected


def test_a_rejected_fulfilment_leaves_the_order_pending_until_it_is_re_routed():
    assert order_status([F.REJECTED], unallocated_units=2) is OS.PENDING
    assert order_status([F.REJECTED, F.CLAIMED], unallocated_units=0) is OS.ALLOCATED


def test_cancelled_and_withdrawn_parts_are_set_aside():
    assert order_status([F.CANCELLED, F.WITHDRAWN, F.SHIPPED], 0) is OS.SHIPPED


def test_an_order_partly_cancelled_and_the_rest_delivered_is_delivered():
    assert order_status([F.CANCELLED, F.DELIVERED], 0) is OS.DELIVERED


def test_the_order_status_does_not_depend_on_the_order_of_its_fulfilments():
    statuses = [F.SHIPPED, F.PICKING, F.CANCELLED]
    assert order_status(statuses, 0) is order_status(reversed(statuses), 0)


def test_a_negative_backorder_is_refused():
    with pytest.raises(ValueError, match="must not be negative"):
        order_status([F.CLAIMED], -1)


def test_a_new_order_line_has_every_unit_unallocated():
    buckets = Buckets.for_ordered(4)
    assert buckets.unallocated == 4
    assert buckets.total == 4
    assert check_conservation(4, buckets) == ()


def test_allocating_moves_units_to_the_location_and_keeps_the_sum():
    buckets = move(Buckets.for_ordered(5), Bucket.UNALLOCATED, AllocatedAt("S1"), 3)
    assert buckets.units(AllocatedAt("S1")) == 3
    assert buckets.unallocated == 2
    assert check_conservation(5, buckets) == ()


def test_a_claim_moves_the_hold_to_the_claiming_store():
    held = move(Buckets.for_ordered(2), Bucket.UNALLOCATED, AllocatedAt("S1"), 2)
    claimed = move(held, AllocatedAt("S1"), AllocatedAt("S2"), 2)
    assert dict(claimed.allocated) == {"S2": 2}


def test_moves_return_new_buckets_and_leave_the_old_ones_alone():
    before = Buckets.for_ordered(2)
    move(before, Bucket.UNALLOCATED, Bucket.CANCELLED, 1)
    assert before == Buckets(unallocated=2)


def test_a_move_of_more_units_than_there_are_is_refused():
    buckets = Buckets(unallocated=1, allocated={"S1": 2})
    with pytest.raises(NotEnoughUnits) as raised:
        move(buckets, AllocatedAt("S1"), Bucket.SHIPPED, 3)
    assert raised.value.available == 2
    assert str(raised.value) == "cannot move 3 units from allocated at S1 to shipped: only 2 there"


def test_delivered_units_never_become_unallocated_again():
    with pytest.raises(IllegalMove, match="may go to returned"):
        move(Buckets(delivered=1), Bucket.DELIVERED, Bucket.UNALLOCATED, 1)


def test_cancelled_units_go_nowhere():
    with pytest.raises(IllegalMove, match=r"nowhere \(it is final\)"):
        move(Buckets(cancelled=1), Bucket.CANCELLED, Bucket.UNALLOCATED, 1)


def test_a_move_to_the_same_bucket_is_refused():
    with pytest.raises(IllegalMove):
        move(Buckets(allocated={"S1": 1}), AllocatedAt("S1"), AllocatedAt("S1"), 1)


def test_an_allocated_bucket_must_say_at_which_location():
    with pytest.raises(ValueError, match="AllocatedAt"):
        move(Buckets.for_ordered(1), Bucket.UNALLOCATED, Bucket.ALLOCATED, 1)


def test_a_move_of_no_units_is_refused():
    with pytest.raises(ValueError, match="positive"):
        move(Buckets.for_ordered(1), Bucket.UNALLOCATED, Bucket.CANCELLED, 0)


def test_an_emptied_location_drops_out_of_the_allocated_buckets():
    buckets = move(Buckets(allocated={"S1": 1}), AllocatedAt("S1"), Bucket.SHIPPED, 1)
    assert dict(buckets.allocated) == {}
    assert buckets == Buckets(shipped=1)


def test_conservation_reports_a_sum_that_differs_from_the_ordered_quantity():
    assert check_conservation(3, Buckets(unallocated=1, shipped=1)) == (
        "buckets sum to 2, not to the 3 ordered",
    )


def test_conservation_reports_negative_buckets():
    violations = check_conservation(1, Buckets(unallocated=2, allocated={"S1": -1}))
    assert violations == ("allocated at S1 is negative: -1",)
    assert check_conservation(1, Buckets(shipped=2, returned=-1)) == ("returned is negative: -1",)


def test_ensure_conserved_raises_with_the_violations():
    buckets = Buckets(unallocated=1)
    with pytest.raises(ConservationBroken) as raised:
        ensure_conserved(2, buckets)
    assert raised.value.violations == ("buckets sum to 1, not to the 2 ordered",)
    assert raised.value.buckets is buckets
    ensure_conserved(1, buckets)


def test_every_fulfilment_transition_is_a_flow_the_buckets_allow():
    """So a service can move a fulfilment's units from place_for(before) to place_for(after)."""
    for before, moves in TRANSITIONS.items():
        for after in moves.values():
            source, target = place_for(before, "S1"), place_for(after, "S1")
            if source != target:
                moved = move(one_unit_at(source), source, target, 1)
                assert moved.units(target) == 1, (before, after)


def one_unit_at(place: Place) -> Buckets:
    if isinstance(place, AllocatedAt):
        return Buckets(allocated={place.location: 1})
    one: dict[str, Any] = {str(place): 1}
    return Buckets(**one)


def test_rejected_and_withdrawn_units_return_to_unallocated_for_re_routing():
    assert place_for(F.REJECTED, "S1") is Bucket.UNALLOCATED
    assert place_for(F.WITHDRAWN, "S1") is Bucket.UNALLOCATED
    assert place_for(F.IN_TRANSFER, "S1") == AllocatedAt("S1")


PLACES = [*(b for b in Bucket if b is not Bucket.ALLOCATED), AllocatedAt("S1"), AllocatedAt("S2")]
moves = st.lists(
    st.tuples(st.sampled_from(PLACES), st.sampled_from(PLACES), st.integers(1, 6)), max_size=40
)


@given(st.integers(1, 12), moves)
def test_random_moves_never_break_conservation(ordered, sequence):
    buckets = Buckets.for_ordered(ordered)
    for source, target, units in sequence:
        available = buckets.units(source)
        try:
            after = move(buckets, source, target, units)
        except NotEnoughUnits:
            assert available < units
            after = buckets
        except IllegalMove:
            assert source == target or kind(target) not in FLOWS[kind(source)]
            after = buckets
        else:
            assert after.units(source) == available - units
        buckets = after
        assert check_conservation(ordered, buckets) == ()


def kind(place: Place) -> Bucket:
    return Bucket.ALLOCATED if isinstance(place, AllocatedAt) else place
