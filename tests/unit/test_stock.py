"""The rules of a stock position, held by properties over any sequence of feeds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openoms.domain.stock import (
    InsufficientStock,
    Movement,
    MovementOutcome,
    SnapshotOutcome,
    StockPosition,
    atp,
)

T0 = datetime(2026, 11, 25, 8, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


snapshots = st.tuples(st.just("snapshot"), st.integers(0, 500), st.integers(0, 120))
movements = st.tuples(st.just("movement"), st.integers(-300, 300), st.integers(0, 120))
reservations = st.tuples(st.just("reserve"), st.integers(1, 50), st.just(0))
releases = st.tuples(st.just("release"), st.integers(1, 50), st.just(0))
operations = st.lists(st.one_of(snapshots, movements, reservations, releases), max_size=40)


def run(ops: list[tuple[str, int, int]]) -> StockPosition:
    position = StockPosition("A", "WH1", safety_stock=2)
    for number, (kind, value, minute) in enumerate(ops):
        position = step(position, number, kind, value, minute)
    return position


def step(position: StockPosition, number: int, kind: str, value: int, minute: int) -> StockPosition:
    if kind == "snapshot":
        return position.apply_snapshot(value, at(minute))[0]
    if kind == "movement":
        return position.apply_movement(Movement(f"m{number}", value, "sale", at(minute)))[0]
    if kind == "reserve":
        try:
            return position.reserve(value)
        except InsufficientStock:
            return position
    return position.release(min(value, position.reserved)) if position.reserved else position


@given(operations)
def test_no_sequence_of_feeds_and_reservations_makes_atp_or_on_hand_negative(
    ops: list[tuple[str, int, int]],
) -> None:
    position = StockPosition("A", "WH1", safety_stock=2)
    for number, (kind, value, minute) in enumerate(ops):
        position = step(position, number, kind, value, minute)
        assert position.atp >= 0
        assert position.on_hand >= 0
        assert position.reserved >= 0


@given(operations, st.integers(0, 500), st.integers(0, 120))
def test_an_older_snapshot_never_wins(
    ops: list[tuple[str, int, int]], qty: int, minute: int
) -> None:
    position = run(ops)
    if position.snapshot_as_of is None or at(minute) > position.snapshot_as_of:
        return
    after, outcome = position.apply_snapshot(qty, at(minute))
    assert outcome is SnapshotOutcome.STALE
    assert after == position


@given(operations)
def test_a_reservation_is_taken_only_if_it_fits_atp(ops: list[tuple[str, int, int]]) -> None:
    position = StockPosition("A", "WH1")
    for number, (kind, value, minute) in enumerate(ops):
        after = step(position, number, kind, value, minute)
        if kind == "reserve":
            fits = value <= position.atp
            assert after.reserved == position.reserved + (value if fits else 0)
        position = after


@given(st.lists(st.tuples(st.integers(-20, 20), st.integers(0, 60)), max_size=15))
def test_a_snapshot_nets_exactly_the_movements_after_it(moves: list[tuple[int, int]]) -> None:
    position = StockPosition("A", "WH1")
    for number, (delta, minute) in enumerate(moves):
        position, _ = position.apply_movement(Movement(f"m{number}", delta, "adj", at(minute)))
    counted, _ = position.apply_snapshot(100, at(30))
    assert counted.on_hand == max(0, 100 + sum(d for d, m in moves if at(m) > at(30)))


def test_replayed_movement_is_a_duplicate() -> None:
    position, _ = StockPosition("A", "WH1", on_hand=5).apply_movement(
        Movement("m1", -1, "sale", at(1))
    )
    again, outcome = position.apply_movement(Movement("m1", -1, "sale", at(1)))
    assert outcome is MovementOutcome.DUPLICATE
    assert again.on_hand == 4


def test_reservation_beyond_atp_raises_with_the_figures() -> None:
    position = StockPosition("A", "WH1", on_hand=5, reserved=1, safety_stock=1)
    with pytest.raises(InsufficientStock) as raised:
        position.reserve(4)
    assert (raised.value.requested, raised.value.atp) == (4, 3)


def test_shortfall_is_what_is_reserved_beyond_the_shelf() -> None:
    position = StockPosition("A", "WH1", on_hand=10).reserve(8)
    lowered, _ = position.apply_snapshot(5, at(1))
    assert lowered.shortfall == 3
    assert lowered.atp == 0


def test_atp_is_zero_when_safety_stock_exceeds_the_shelf() -> None:
    assert atp(on_hand=3, reserved=0, safety_stock=5) == 0
