"""Calendars: which days a carrier works, and when a location is open, as UTC instants.

Public holidays come from the `holidays` package, the one library outside the standard library
that the domain uses. Only `public_holidays` touches it, so the rest stays pure and the cache
lives in one place.

Opening hours are written in the location's local time, but every instant this module returns
is in UTC: adding minutes to a local datetime is wall-clock arithmetic in Python, which is wrong
by an hour across a daylight-saving change.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from openoms.domain.network import WEEKDAYS, OpeningHours, TimeRange

MON_TO_SAT = frozenset(WEEKDAYS[:6])
"""French parcel networks deliver Monday to Saturday; Sunday is never a transit day."""

MON_TO_FRI = frozenset(WEEKDAYS[:5])


class UnknownCountry(ValueError):
    """A country code the holiday calendars do not know: we refuse to guess its holidays."""

    def __init__(self, country: str) -> None:
        super().__init__(f"no public holiday calendar for country {country!r}")
        self.country = country


class NotAware(ValueError):
    """A naive datetime where an instant is needed: its time zone would be a guess."""

    def __init__(self, name: str, value: datetime) -> None:
        super().__init__(f"{name} must be timezone-aware, got {value.isoformat()}")
        self.name = name
        self.value = value


def require_aware(name: str, value: datetime) -> datetime:
    """The instant in UTC; a naive datetime is refused rather than read as server time."""
    if value.tzinfo is UTC:  # the usual case (a clock's `now`), and what the rest would return
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise NotAware(name, value)
    return value.astimezone(UTC)


@lru_cache(maxsize=512)
def public_holidays(country: str, year: int) -> frozenset[date]:
    """Cached per (country, year): building a calendar costs ~1 ms, a lookup must cost ~nothing."""
    try:
        calendar = holidays.country_holidays(country, years=year)
    except NotImplementedError as exc:
        raise UnknownCountry(country) from exc
    return frozenset(calendar.keys())


def is_public_holiday(day: date, country: str) -> bool:
    return day in public_holidays(country, day.year)


def weekday_name(day: date) -> str:
    return WEEKDAYS[day.weekday()]


def is_business_day(day: date, country: str, weekdays: frozenset[str] = MON_TO_SAT) -> bool:
    return weekday_name(day) in weekdays and not is_public_holiday(day, country)


def add_business_days(
    start: date, days: int, country: str, weekdays: frozenset[str] = MON_TO_SAT
) -> date:
    """`days` business days after `start` (J+n): `start` itself never counts, as with carriers."""
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days}")
    if weekdays.isdisjoint(WEEKDAYS):
        raise ValueError("weekdays names no day of the week: no business day would ever come")
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        if is_business_day(day, country, weekdays):
            counted += 1
    return day


def local_instant(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """A local wall-clock time on `day` as a UTC instant (a time skipped by DST moves forward)."""
    return datetime.combine(day, wall, tzinfo=tz).astimezone(UTC)


def merged_ranges(ranges: tuple[TimeRange, ...]) -> list[TimeRange]:
    """Overlapping or touching ranges as one, so that no minute of work is counted twice."""
    merged: list[TimeRange] = []
    for r in sorted(ranges, key=lambda r: r.opens):
        if merged and r.opens <= merged[-1].closes:
            last = merged.pop()
            merged.append(TimeRange(last.opens, max(last.closes, r.closes)))
        else:
            merged.append(r)
    return merged


def open_intervals(
    hours: OpeningHours, tz: ZoneInfo, after: datetime, horizon_days: int
) -> Iterator[tuple[datetime, datetime]]:
    """The UTC intervals when open, from `after` on (the first one clipped to start at `after`)."""
    after = require_aware("after", after)
    first_day = after.astimezone(tz).date()
    for offset in range(horizon_days + 1):
        day = first_day + timedelta(days=offset)
        for r in merged_ranges(hours.ranges_on(day)):
            start = local_instant(day, r.opens, tz)
            end = local_instant(day, r.closes, tz)
            if end > after:
                yield max(start, after), end


def start_of_next_day(moment: datetime, tz: ZoneInfo) -> datetime:
    """Midnight (local) after `moment`, as a UTC instant."""
    return local_instant(moment.astimezone(tz).date() + timedelta(days=1), time(0), tz)
