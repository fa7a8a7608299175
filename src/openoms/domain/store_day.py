"""A store's day in figures, for its manager: counts, lateness and average times.

A fulfilment is late when its promise passed before it left (or, still here, before now): the
promise is the time the order was promised ready (click & collect) or, for a delivery, the end
of the last day of its delivery window, in the store's time zone. An order without a recorded
promise is never late (nobody promised anything).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class DayFigures:
    claimed: int
    rejected: int
    late: int
    shipped: int
    offer_to_claim: timedelta | None
    """None: nothing claimed today."""
    claim_to_packed: timedelta | None
    """None: nothing packed today."""


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The local day as [start, end) instants."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), zone)


def promised_by(ready_at: datetime | None, latest: date | None, timezone: str) -> datetime | None:
    if ready_at is not None:
        return ready_at
    if latest is not None:
        return day_bounds(latest, timezone)[1]
    return None


def is_late(deadline: datetime | None, left_at: datetime | None, now: datetime) -> bool:
    return deadline is not None and (left_at or now) > deadline


def average(durations: Iterable[timedelta]) -> timedelta | None:
    found = [d for d in durations if d >= timedelta(0)]
    if not found:
        return None
    return sum(found, timedelta(0)) / len(found)
