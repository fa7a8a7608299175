"""When a rule applies: its weekdays, its hours and its sales period, read in its own time zone.

A night rule (22:00 to 02:00) written for Friday must still apply at 01:00 on Saturday: the
hours after midnight belong to the weekday on which the window opened, as shop staff read them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from openoms.domain.calendars import require_aware, weekday_name
from openoms.domain.profiles.model import ActivityCalendar, Hours, Profile, ProfileRule


def is_active(calendar: ActivityCalendar, now: datetime) -> bool:
    local = require_aware("now", now).astimezone(ZoneInfo(calendar.timezone))
    if calendar.period is not None:
        first, last = calendar.period
        if not first <= local.date() <= last:
            return False
    if calendar.hours is None:
        return weekday_name(local.date()) in calendar.weekdays
    return _within_hours(calendar.hours, calendar.weekdays, local)


def active_rules(profile: Profile, now: datetime) -> tuple[ProfileRule, ...]:
    """The rules to try at `now`, in the profile's order: most favourable first."""
    return tuple(rule for rule in profile.rules if is_active(rule.calendar, now))


def _within_hours(hours: Hours, weekdays: frozenset[str], local: datetime) -> bool:
    wall = local.time().replace(tzinfo=None)
    today = weekday_name(local.date()) in weekdays
    if hours.start < hours.end:
        return today and hours.start <= wall < hours.end
    yesterday = weekday_name(local.date() - timedelta(days=1)) in weekdays
    return (today and wall >= hours.start) or (yesterday and wall < hours.end)
