from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from openoms.domain.calendars import (
    MON_TO_FRI,
    NotAware,
    UnknownCountry,
    add_business_days,
    is_business_day,
    is_public_holiday,
    merged_ranges,
    open_intervals,
    require_aware,
)
from openoms.domain.network import DayException, OpeningHours, TimeRange

PARIS = ZoneInfo("Europe/Paris")


def test_bastille_day_is_a_french_public_holiday():
    assert is_public_holiday(date(2025, 7, 14), "FR")
    assert not is_public_holiday(date(2025, 7, 15), "FR")


def test_german_unity_day_is_a_holiday_in_germany_only():
    assert is_public_holiday(date(2025, 10, 3), "DE")
    assert not is_public_holiday(date(2025, 10, 3), "FR")


def test_sunday_is_never_a_business_day():
    assert not is_business_day(date(2025, 7, 13), "FR")
    assert is_business_day(date(2025, 7, 12), "FR")


def test_add_business_days_skips_sunday_and_bastille_day():
    friday = date(2025, 7, 11)
    assert add_business_days(friday, 1, "FR") == date(2025, 7, 12)
    assert add_business_days(friday, 2, "FR") == date(2025, 7, 15)


def test_business_days_monday_to_friday_skip_saturday():
    assert add_business_days(date(2025, 7, 4), 1, "FR", MON_TO_FRI) == date(2025, 7, 7)


def test_zero_business_days_is_the_same_day():
    assert add_business_days(date(2025, 7, 13), 0, "FR") == date(2025, 7, 13)


def test_negative_business_days_are_refused():
    with pytest.raises(ValueError, match="days must be >= 0"):
        add_business_days(date(2025, 7, 13), -1, "FR")


def test_business_days_with_no_weekday_are_refused():
    with pytest.raises(ValueError, match="no business day"):
        add_business_days(date(2025, 7, 13), 1, "FR", frozenset())


def test_unknown_country_is_refused_with_its_code():
    with pytest.raises(UnknownCountry) as caught:
        is_public_holiday(date(2025, 1, 1), "XX")
    assert caught.value.country == "XX"


def test_naive_datetime_is_refused_rather_than_read_as_server_time():
    with pytest.raises(NotAware) as caught:
        require_aware("now", datetime(2025, 7, 10, 12, 0))
    assert caught.value.name == "now"


def test_open_intervals_are_utc_and_clipped_to_after():
    hours = OpeningHours(weekly={"thu": (TimeRange(time(9), time(19)),)})
    after = datetime(2025, 7, 10, 10, 0, tzinfo=UTC)
    first = next(open_intervals(hours, PARIS, after, horizon_days=7))
    assert first == (after, datetime(2025, 7, 10, 17, 0, tzinfo=UTC))


def test_open_intervals_skip_a_dated_closure():
    hours = OpeningHours(
        weekly={d: (TimeRange(time(9), time(19)),) for d in ("thu", "fri")},
        exceptions=(DayException(date(2025, 7, 10)),),
    )
    after = datetime(2025, 7, 10, 6, 0, tzinfo=UTC)
    first = next(open_intervals(hours, PARIS, after, horizon_days=7))
    assert first[0] == datetime(2025, 7, 11, 7, 0, tzinfo=UTC)


def test_overlapping_ranges_merge_so_no_minute_counts_twice():
    ranges = (
        TimeRange(time(14), time(19)),
        TimeRange(time(9), time(12)),
        TimeRange(time(11), time(15)),
    )
    assert merged_ranges(ranges) == [TimeRange(time(9), time(19))]
