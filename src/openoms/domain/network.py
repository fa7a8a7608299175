"""The network: every place that holds stock or serves customers.

A retail shop is a location of kind `store`. Opening hours are in the location's own time zone;
dated exceptions close a location for a whole day (or give it other hours that day).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from openoms.domain.reservations import DEFAULT_HOLDING_HOURS


class LocationKind(StrEnum):
    WAREHOUSE = "warehouse"
    STORE = "store"
    SUPPLIER = "supplier"
    RESELLER = "reseller"
    SECOND_HAND = "second_hand"


class Capability(StrEnum):
    SHIP = "ship"
    CLICK_COLLECT = "click_collect"
    EXPRESS_COLLECT = "express_collect"
    RETURNS = "returns"
    E_RESERVATION = "e_reservation"


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Open from `opens` to `closes` (local time, same day)."""

    opens: time
    closes: time

    def __post_init__(self) -> None:
        if self.closes <= self.opens:
            raise ValueError(f"closes ({self.closes}) must be after opens ({self.opens})")


@dataclass(frozen=True, slots=True)
class DayException:
    """A dated exception: closed all day (no ranges) or other hours that day."""

    day: date
    ranges: tuple[TimeRange, ...] = ()


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """Weekly hours keyed by weekday name (`mon`..`sun`), plus dated exceptions."""

    weekly: dict[str, tuple[TimeRange, ...]] = field(default_factory=dict)
    exceptions: tuple[DayException, ...] = ()

    def ranges_on(self, day: date) -> tuple[TimeRange, ...]:
        for exception in self.exceptions:
            if exception.day == day:
                return exception.ranges
        return self.weekly.get(WEEKDAYS[day.weekday()], ())


@dataclass(frozen=True, slots=True)
class GeoPoint:
    latitude: float
    longitude: float

    def __post_init__(self) -> None:
        if not -90 <= self.latitude <= 90:
            raise ValueError("latitude must be within [-90, 90]")
        if not -180 <= self.longitude <= 180:
            raise ValueError("longitude must be within [-180, 180]")


EARTH_RADIUS_KM = 6371.0088


def great_circle_km(a: GeoPoint, b: GeoPoint) -> float:
    """Haversine distance: good to 0.5%, which is far below a road factor's uncertainty."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def latitude_gap_km(a: GeoPoint, b: GeoPoint) -> float:
    """A lower bound of `great_circle_km` at a fraction of its cost: no path between two points
    is shorter than the meridian arc between their latitudes."""
    return EARTH_RADIUS_KM * math.radians(abs(a.latitude - b.latitude))


def nearest_locations(locations: Iterable[Location], point: GeoPoint, count: int) -> list[Location]:
    """The `count` locations nearest to `point` (ties to the code that sorts first)."""
    return ByLatitude(locations).nearest(point, count)


class ByLatitude:
    """Locations sorted by latitude, to find the nearest to a point again and again (the
    promise's pickup stores): the great circle is measured only for those whose latitude alone
    does not already put them too far, walking out from the point's latitude both ways."""

    def __init__(self, locations: Iterable[Location]) -> None:
        self.locations = tuple(sorted(locations, key=lambda at: (at.point.latitude, at.code)))
        self.latitudes = tuple(at.point.latitude for at in self.locations)

    def nearest(self, point: GeoPoint, count: int) -> list[Location]:
        """The `count` nearest to `point`, by distance, then code."""
        ordered, found = self.locations, list[tuple[float, str, Location]]()
        above = bisect_left(self.latitudes, point.latitude)
        below = above - 1
        while below >= 0 or above < len(ordered):
            # The nearer latitude of the two next ones: gaps only grow from here on.
            down = latitude_gap_km(ordered[below].point, point) if below >= 0 else math.inf
            up = latitude_gap_km(ordered[above].point, point) if above < len(ordered) else math.inf
            if down <= up:
                gap, location = down, ordered[below]
                below -= 1
            else:
                gap, location = up, ordered[above]
                above += 1
            # The latitude gap is a lower bound only up to rounding: on a tie the two formulas
            # may differ in their last bit, and the tie must still go to the code first.
            if len(found) >= count and gap > found[-1][0] * (1 + 1e-9) + 1e-9:
                break
            found.append((great_circle_km(location.point, point), location.code, location))
            found.sort(key=lambda entry: entry[:2])
            del found[count:]
        return [location for _, _, location in found]


@dataclass(frozen=True, slots=True)
class Location:
    code: str
    name: str
    kind: LocationKind
    point: GeoPoint
    timezone: str
    address: str = ""
    city: str = ""
    postal_code: str = ""
    country: str = "FR"
    opening_hours: OpeningHours = field(default_factory=OpeningHours)
    capabilities: frozenset[Capability] = frozenset()
    daily_capacity: int = 0
    preparation_minutes: int = 0
    handling_cost: int = 0
    currency: str = "EUR"
    tags: frozenset[str] = frozenset()
    active: bool = True
    reservation_hours: int = DEFAULT_HOLDING_HOURS
    """How long an e-reservation keeps its units at this store."""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
