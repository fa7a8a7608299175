"""Opening hours of the demo network, with the French public holidays of the coming year.

Stores keep French retail habits: Monday to Saturday; small-town shops sometimes close over lunch
and on Monday mornings; a few big-city stores open on Sunday morning. On a public holiday
warehouses and offices close; stores close on the three days French retail keeps shut (1 January,
1 May, 25 December) and small stores on every holiday, while larger stores open until 18:00.
Alsace and Moselle have two more holidays (Good Friday, 26 December).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import date, time, timedelta
from functools import cache

import holidays

from openoms.demo.sizes import StoreSize
from openoms.domain.network import WEEKDAYS, DayException, TimeRange

Weekly = dict[str, tuple[TimeRange, ...]]

_MON_FRI = WEEKDAYS[:5]
_MON_SAT = WEEKDAYS[:6]
_RETAIL_CLOSED = frozenset({(1, 1), (5, 1), (12, 25)})
_HOLIDAY_CLOSING = time(18, 0)
_ALSACE_MOSELLE = {"57": "57", "67": "6AE", "68": "6AE"}


def _span(opens: str, closes: str) -> TimeRange:
    return TimeRange(time.fromisoformat(opens), time.fromisoformat(closes))


def _week(days: Iterable[str], *ranges: TimeRange) -> Weekly:
    return dict.fromkeys(days, ranges)


def warehouse_week() -> Weekly:
    """Two shifts on weekdays, and Saturday morning to clear Friday evening's orders."""
    return _week(_MON_FRI, _span("06:00", "22:00")) | {"sat": (_span("06:00", "13:00"),)}


def office_week() -> Weekly:
    return _week(_MON_FRI, _span("08:00", "18:00"))


def store_week(size: StoreSize, rng: random.Random) -> Weekly:
    if size is StoreSize.LARGE:
        week = _week(_MON_SAT, _span("10:00", "20:00"))
        if rng.random() < 0.5:
            week["sun"] = (_span("10:00", "13:00"),)
        return week
    if size is StoreSize.MEDIUM:
        return _week(_MON_SAT, _span("10:00", "19:30"))
    if rng.random() < 0.3:
        week = _week(_MON_SAT, _span("09:30", "12:30"), _span("14:00", "19:00"))
    else:
        week = _week(_MON_SAT, _span("10:00", "19:30"))
    if rng.random() < 0.3:
        week["mon"] = (_span("14:00", "19:00"),)
    return week


def holiday_subdivision(department: str) -> str | None:
    """The `holidays` subdivision for Alsace-Moselle's local law; None elsewhere."""
    return _ALSACE_MOSELLE.get(department)


@cache
def public_holidays(start: date, subdivision: str | None) -> tuple[date, ...]:
    """Public holidays in the 365 days from `start`: the demo's horizon for promises."""
    end = start + timedelta(days=365)
    years = range(start.year, end.year + 1)
    calendar = holidays.country_holidays("FR", subdiv=subdivision, years=years)
    return tuple(sorted(day for day in calendar if start <= day < end))


def closed_on(days: Iterable[date]) -> tuple[DayException, ...]:
    return tuple(DayException(day) for day in days)


def store_holidays(days: Iterable[date], week: Weekly, size: StoreSize) -> tuple[DayException, ...]:
    return tuple(_store_holiday(day, week, size) for day in days)


def _store_holiday(day: date, week: Weekly, size: StoreSize) -> DayException:
    if size is StoreSize.SMALL or (day.month, day.day) in _RETAIL_CLOSED:
        return DayException(day)
    usual = week.get(WEEKDAYS[day.weekday()], ())
    shortened = tuple(
        TimeRange(r.opens, min(r.closes, _HOLIDAY_CLOSING))
        for r in usual
        if r.opens < _HOLIDAY_CLOSING
    )
    return DayException(day, shortened)
