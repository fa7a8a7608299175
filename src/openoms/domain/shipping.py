"""Serving a parcel from a location: when it is ready, when it leaves, when it arrives, what it
costs the retailer and what it emits.

The delivery promise and the order lifecycle both call these functions, so that what the shop
promises and what the OMS then does come from the same code. Instants are UTC-aware in and out
(`now` is always a parameter); opening hours and cut-offs are read in the location's time zone;
delivery dates are calendar days at the destination, counted from the pickup's local date.

Exceptions (all `CannotShip`, see carriers.py): `ServiceRefused` (too heavy, too far),
`LocationNeverOpen`, `NoPickup`. `CurrencyMismatch` is a configuration error, not a refusal.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from openoms.domain.calendars import (
    add_business_days,
    is_public_holiday,
    local_instant,
    open_intervals,
    require_aware,
    start_of_next_day,
    weekday_name,
)
from openoms.domain.carriers import CannotShip, CarrierService, refuse_unless_carried
from openoms.domain.catalog import Sku
from openoms.domain.network import GeoPoint, Location, great_circle_km

ROAD_FACTOR = 1.3
"""Road km per great-circle km. Roads detour around terrain and follow the settlement pattern:
detour indexes measured on France's road network sit between 1.2 and 1.4, and 1.3 is the usual
middle figure. A parcel's hops through hubs add a little more; the per-parcel figure carries it."""

PACKAGING_BASE_G = 150
"""An empty mid-size corrugated box with its filler and label."""

PACKAGING_PER_KG_G = 50
"""Heavier contents travel in a bigger, double-wall box: 50 g more per kg of contents."""

READY_HORIZON_DAYS = 31
"""A location that does not open within a month cannot promise anything: refuse, never loop."""

PICKUP_HORIZON_DAYS = 31


class LocationNeverOpen(CannotShip):
    def __init__(self, location_code: str, after: datetime, horizon_days: int) -> None:
        super().__init__(
            f"{location_code} has no opening hours within {horizon_days} days"
            f" of {after.isoformat()}"
        )
        self.location_code = location_code
        self.after = after
        self.horizon_days = horizon_days


class NoPickup(CannotShip):
    def __init__(
        self, location_code: str, service_code: str, ready: datetime, horizon_days: int
    ) -> None:
        super().__init__(
            f"{service_code} does not collect at {location_code} within {horizon_days} days"
            f" of {ready.isoformat()}"
        )
        self.location_code = location_code
        self.service_code = service_code
        self.ready = ready
        self.horizon_days = horizon_days


class CurrencyMismatch(ValueError):
    """Handling and carriage in two currencies: adding them would be a silent exchange rate."""

    def __init__(
        self, location_code: str, location_currency: str, service_code: str, service_currency: str
    ) -> None:
        super().__init__(
            f"{location_code} handles in {location_currency}"
            f" but {service_code} is priced in {service_currency}"
        )
        self.location_code = location_code
        self.location_currency = location_currency
        self.service_code = service_code
        self.service_currency = service_currency


@dataclass(frozen=True, slots=True)
class Destination:
    """A placed destination: its point for distances, its country for the holidays it keeps."""

    point: GeoPoint
    country: str = "FR"


@dataclass(frozen=True, slots=True)
class DeliveryWindow:
    """Delivered on one of the calendar days from `earliest` to `latest`, both included."""

    earliest: date
    latest: date

    def __post_init__(self) -> None:
        if self.latest < self.earliest:
            raise ValueError(f"latest ({self.latest}) is before earliest ({self.earliest})")


@dataclass(frozen=True, slots=True)
class ShippingCost:
    """What one parcel costs the retailer, kept apart so a decision record can show both."""

    handling: int
    carriage: int
    currency: str

    @property
    def total(self) -> int:
        return self.handling + self.carriage


@dataclass(frozen=True, slots=True)
class ShippingQuote:
    location_code: str
    service_code: str
    weight_g: int
    distance_km: float
    ready_at: datetime
    leaves_at: datetime
    arrives: DeliveryWindow
    cost: ShippingCost
    carbon_g: float


def packaging_weight_g(contents_g: int) -> int:
    """The box grows with what it holds, so packaging is a base plus a share of the contents."""
    if contents_g < 0:
        raise ValueError(f"contents_g must not be negative, got {contents_g}")
    return PACKAGING_BASE_G + math.ceil(contents_g * PACKAGING_PER_KG_G / 1000)


def parcel_weight_g(lines: Iterable[tuple[Sku, int]]) -> int:
    """What the carrier weighs: the units of each sku, plus their packaging."""
    contents, units = 0, 0
    for sku, quantity in lines:
        if quantity <= 0:
            raise ValueError(f"quantity of {sku.code} must be positive, got {quantity}")
        contents += sku.weight_g * quantity
        units += quantity
    if not units:
        raise ValueError("a parcel holds at least one unit")
    return contents + packaging_weight_g(contents)


def ready_time(location: Location, now: datetime, *, capacity_left: int | None = None) -> datetime:
    """When the parcel can be handed over.

    Preparation counts open minutes only: work stops at closing and resumes at the next opening,
    however many openings it takes; only a month without any opening is refused.
    `capacity_left` is what the location can still take on today (None: no limit); at zero the
    work waits for the next day the location opens.
    """
    now = require_aware("now", now)
    if location.preparation_minutes < 0:
        raise ValueError(f"{location.code} has a negative preparation time")
    start = now
    if capacity_left is not None and capacity_left <= 0:
        start = start_of_next_day(now, location.zone)
    remaining = timedelta(minutes=location.preparation_minutes)
    cursor: datetime | None = start
    while cursor is not None:
        after, cursor = cursor, None
        for opens, closes in open_intervals(
            location.opening_hours, location.zone, after, READY_HORIZON_DAYS
        ):
            if opens + remaining <= closes:
                return opens + remaining
            remaining -= closes - opens
            cursor = closes
    raise LocationNeverOpen(location.code, after, READY_HORIZON_DAYS)


def pickup_on(location: Location, service: CarrierService, day: date) -> datetime | None:
    """When the carrier collects at the location on `day` (local), or None if it does not.

    It comes on its pickup weekdays, never on a public holiday where the location stands, only
    when the location is open that day, and at the cut-off - or at closing time, if the location
    closes earlier, since nobody would be there to hand the parcel over.
    """
    if weekday_name(day) not in service.pickup_weekdays:
        return None
    ranges = location.opening_hours.ranges_on(day)
    if not ranges or is_public_holiday(day, location.country):
        return None
    at = min(service.cut_off_at(location.code), max(r.closes for r in ranges))
    if at < min(r.opens for r in ranges):
        return None
    return local_instant(day, at, location.zone)


def departure_time(location: Location, service: CarrierService, ready: datetime) -> datetime:
    """The first pickup at or after `ready`: a parcel ready exactly at the cut-off still leaves."""
    ready = require_aware("ready", ready)
    first_day = ready.astimezone(location.zone).date()
    for offset in range(PICKUP_HORIZON_DAYS + 1):
        pickup = pickup_on(location, service, first_day + timedelta(days=offset))
        if pickup is not None and ready <= pickup:
            return pickup
    raise NoPickup(location.code, service.code, ready, PICKUP_HORIZON_DAYS)


def arrival_window(
    location: Location,
    service: CarrierService,
    departure: datetime,
    destination_country: str,
    distance_km: float,
) -> DeliveryWindow:
    """Transit counts the service's delivery days that are not holidays at the destination."""
    departure = require_aware("departure", departure)
    fewest, most = service.transit_days(distance_km)
    weekdays = service.delivery_weekdays
    day = departure.astimezone(location.zone).date()
    earliest = add_business_days(day, fewest, destination_country, weekdays)
    latest = add_business_days(earliest, most - fewest, destination_country, weekdays)
    return DeliveryWindow(earliest, latest)


def shipping_cost(
    location: Location, service: CarrierService, weight_g: int, distance_km: float
) -> ShippingCost:
    if location.currency != service.currency:
        raise CurrencyMismatch(location.code, location.currency, service.code, service.currency)
    if location.handling_cost < 0:
        raise ValueError(f"{location.code} has a negative handling cost")
    return ShippingCost(
        handling=location.handling_cost,
        carriage=service.rate(weight_g, distance_km),
        currency=service.currency,
    )


def shipping_carbon_g(service: CarrierService, weight_g: int, distance_km: float) -> float:
    """Road km x tonnes x the service's factor, plus its per-parcel figure (hubs, last mile)."""
    if weight_g <= 0:
        raise ValueError(f"weight_g must be positive, got {weight_g}")
    if distance_km < 0:
        raise ValueError(f"distance_km must not be negative, got {distance_km}")
    tonne_km = distance_km * ROAD_FACTOR * weight_g / 1_000_000
    return tonne_km * service.carbon_g_per_tkm + service.carbon_g_per_parcel


def quote_shipping(
    location: Location,
    service: CarrierService,
    destination: Destination,
    weight_g: int,
    now: datetime,
    *,
    capacity_left: int | None = None,
) -> ShippingQuote:
    """Everything sourcing and the promise weigh about one parcel from one location."""
    distance = great_circle_km(location.point, destination.point)
    refuse_unless_carried(service, weight_g, distance)
    ready = ready_time(location, now, capacity_left=capacity_left)
    leaves = departure_time(location, service, ready)
    return ShippingQuote(
        location_code=location.code,
        service_code=service.code,
        weight_g=weight_g,
        distance_km=distance,
        ready_at=ready,
        leaves_at=leaves,
        arrives=arrival_window(location, service, leaves, destination.country, distance),
        cost=shipping_cost(location, service, weight_g, distance),
        carbon_g=shipping_carbon_g(service, weight_g, distance),
    )
