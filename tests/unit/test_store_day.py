"""The manager's figures: lateness and averages, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from openoms.domain.store_day import average, day_bounds, is_late, promised_by

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
PARIS = "Europe/Paris"


def test_a_local_day_starts_at_local_midnight() -> None:
    start, end = day_bounds(date(2026, 12, 1), PARIS)
    assert start == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert end - start == timedelta(days=1)


def test_a_collection_is_late_past_its_ready_time_a_delivery_past_its_last_day() -> None:
    ready = NOW - timedelta(minutes=1)
    assert is_late(promised_by(ready, None, PARIS), None, NOW)
    assert not is_late(promised_by(ready, None, PARIS), ready - timedelta(minutes=5), NOW)
    last_day = promised_by(None, date(2026, 11, 30), PARIS)
    assert last_day == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert is_late(last_day, None, NOW)
    assert not is_late(promised_by(None, date(2026, 12, 1), PARIS), None, NOW)


def test_without_a_promise_nothing_is_late() -> None:
    assert not is_late(promised_by(None, None, PARIS), None, NOW)


def test_the_average_of_no_duration_is_none() -> None:
    assert average([]) is None
    assert average([timedelta(minutes=2), timedelta(minutes=4)]) == timedelta(minutes=3)
