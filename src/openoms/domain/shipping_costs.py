"""The carriers' rate cards, calendars and carbon factors as a cost model for the optimizer.

The optimizer asks, thousands of times per basket, what a shipment from one location costs; so
what does not depend on the units is worked out beforehand, in two steps that callers can cache
apart: `shipping_origins` (per location and service: when a parcel is ready and when it leaves,
which depend on `now` but not on the destination) and `ShippingOrigins.for_destination` (per
location: the distance, the services that reach, a table of the cheapest service per parcel
weight, its price and its delivery day). A call then adds weights and reads two table entries.

Packing rule. A shipment's contents are poured into parcels of the largest weight that a service
of the level reaching the destination takes: as few parcels as the contents' weight needs, all
full but the last, which takes the rest. It treats units as if they could be spread freely, which
is close to what a packer does when units are small next to a parcel (the demo's heaviest sku
weighs 5.4 kg; its standard level takes parcels up to 150 kg), and, unlike first-fit decreasing
or any rule that packs whole units, it never gets cheaper when a unit is added: the exact search
relies on that. A unit heavier than a parcel's contents can be is refused beforehand.

Each parcel goes with the cheapest service of the level that takes its weight to the destination.
Heavier parcels may thus switch service; `for_destination` refuses a set of services where such a
switch would deliver sooner or emit less (`NotMonotone`), since the search's bounds rely on every
figure growing with the units.

Ready times ignore today's capacity left: the model prices a plan, the lifecycle books capacity.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from openoms.domain.calendars import require_aware
from openoms.domain.carriers import CannotShip, CarrierService, ServiceLevel
from openoms.domain.catalog import Sku
from openoms.domain.network import Location, great_circle_km
from openoms.domain.shipping import (
    PACKAGING_BASE_G,
    PACKAGING_PER_KG_G,
    CurrencyMismatch,
    Destination,
    arrival_window,
    departure_time,
    packaging_weight_g,
    ready_time,
    shipping_carbon_g,
    shipping_cost,
)
from openoms.domain.sourcing import Breakdown


class NotMonotone(ValueError):
    """Services of one level where a heavier parcel would arrive sooner or emit less."""


@dataclass(frozen=True, slots=True)
class _Leg:
    """One service from one location: when its parcel leaves (for any destination)."""

    service: CarrierService
    leaves: datetime


@dataclass(frozen=True, slots=True)
class _Origin:
    location: Location
    today: date
    """`now`'s date where the location stands: delivery days count from it."""
    legs: tuple[_Leg, ...]


@dataclass(frozen=True, slots=True)
class _Option:
    """A parcel of up to the table's bound: its service, what it costs, when it arrives."""

    service: CarrierService
    cost: int
    days: int


class _Parcel(NamedTuple):
    """A NamedTuple, not a frozen dataclass: the optimizer makes hundreds per basket."""

    cost: int
    days: int
    carbon_g: float


class _Route:
    """One location to one destination: the cheapest option per band of parcel weight.

    A plain class, not a frozen dataclass: one is made per candidate and destination, and
    compiled (decisions/0016) its construction costs a tenth of a dataclass's `__init__`."""

    __slots__ = ("bounds", "contents_capacity_g", "distance_km", "options")

    def __init__(
        self,
        distance_km: float,
        contents_capacity_g: int,
        bounds: tuple[int, ...],
        options: tuple[_Option, ...],
    ) -> None:
        self.distance_km = distance_km
        self.contents_capacity_g = contents_capacity_g
        self.bounds = bounds
        """Inclusive upper parcel weights, increasing; the last one is the largest parcel."""
        self.options = options

    def parcel(self, contents_g: int) -> _Parcel:
        weight = contents_g + packaging_weight_g(contents_g)
        option = self.options[bisect_left(self.bounds, weight)]
        carbon = shipping_carbon_g(option.service, weight, self.distance_km)
        return _Parcel(option.cost, option.days, carbon)

    def breakdown(self, contents_g: int) -> Breakdown:
        if contents_g <= 0:
            return Breakdown(0, 0, 0, 0)
        if contents_g <= self.contents_capacity_g:  # one parcel: the usual case, made quick
            cost, days, carbon = self.parcel(contents_g)
            return Breakdown(cost, days, round(carbon), 1)
        parcels = -(-contents_g // self.contents_capacity_g)
        last = self.parcel(contents_g - (parcels - 1) * self.contents_capacity_g)
        cost, days, carbon = last.cost, last.days, last.carbon_g
        if parcels > 1:
            full = self.parcel(self.contents_capacity_g)
            cost += full.cost * (parcels - 1)
            days = max(days, full.days)
            carbon += full.carbon_g * (parcels - 1)
        return Breakdown(cost, days, round(carbon), parcels)


@dataclass(frozen=True, slots=True)
class CarrierCostModel:
    """The `CostModel` of the carrier services of one level, from every origin to one destination.

    Ask `refusal` first: a location or a sku it names must not be a candidate (or must not hold
    that sku), and then the model answers for any units without raising.
    """

    weights_g: Mapping[str, int]
    routes: Mapping[str, _Route]
    refusals: Mapping[str, str]

    def refusal(self, location: str, sku: str | None = None) -> str | None:
        """Why `location` cannot ship to the destination (or a unit of `sku`); None if it can."""
        if location in self.refusals:
            return self.refusals[location]
        route = self.routes.get(location)
        if route is None:
            return f"{location} is not a known origin"
        if sku is not None and self.weights_g[sku] > route.contents_capacity_g:
            return (
                f"a unit of {sku} weighs {self.weights_g[sku]} g; parcels from {location}"
                f" hold up to {route.contents_capacity_g} g of contents"
            )
        return None

    def __call__(self, location: str, units: Mapping[str, int], /) -> Breakdown:
        weights = self.weights_g
        contents = sum(weights[sku] * n for sku, n in units.items() if n > 0)
        return self.routes[location].breakdown(contents)


_TableKey = tuple[object, ...]
_Table = tuple[int, tuple[int, ...], tuple[_Option, ...]]
"""A route's contents capacity, band bounds and options: all but its distance."""


@dataclass(frozen=True, slots=True)
class ShippingOrigins:
    """What every location's parcels do before they meet a destination, computed once per `now`.

    Keep one per `now` (a minute's resolution is plenty) and ask it for each destination: the
    price and delivery-day tables it builds are shared by every origin whose handling cost,
    calendar and departures match and whose distance falls in the same bands, so most
    destinations reuse tables already built.
    """

    now: datetime
    level: ServiceLevel
    weights_g: Mapping[str, int]
    origins: Mapping[str, _Origin]
    refusals: Mapping[str, str]
    tables: dict[_TableKey, _Table] = field(default_factory=dict, compare=False, repr=False)

    def today(self, location: str) -> date | None:
        """`now`'s date where the location stands (delivery days count from it); None for a
        location no service collects from."""
        origin = self.origins.get(location)
        return origin.today if origin is not None else None

    def for_destination(
        self,
        destination: Destination,
        locations: Iterable[str] | None = None,
        weights_g: Mapping[str, int] | None = None,
    ) -> CarrierCostModel:
        """The model from `locations` (default: every origin) to `destination`, for skus of
        `weights_g` (default: those the origins were worked out with)."""
        codes = self.origins.keys() | self.refusals.keys() if locations is None else locations
        routes: dict[str, _Route] = {}
        refusals: dict[str, str] = {}
        for code in codes:
            origin = self.origins.get(code)
            route: _Route | str = self.refusals.get(code, f"{code} is not a known origin")
            if origin is not None:
                route = _route(origin, destination, self.tables)
            if isinstance(route, str):
                refusals[code] = route
            else:
                routes[code] = route
        weights = self.weights_g if weights_g is None else weights_g
        return CarrierCostModel(weights, routes, refusals)


def shipping_origins(
    locations: Iterable[Location],
    services: Iterable[CarrierService],
    skus: Iterable[Sku],
    now: datetime,
    level: ServiceLevel = ServiceLevel.STANDARD,
) -> ShippingOrigins:
    """Ready and leaving times per location and service of `level`; a location none can collect
    from is refused, with the reason of its first service."""
    now = require_aware("now", now)
    of_level = sorted((s for s in services if s.level == level), key=lambda s: s.code)
    origins: dict[str, _Origin] = {}
    refusals: dict[str, str] = {}
    for location in locations:
        origin = _origin(location, of_level, now)
        if isinstance(origin, str):
            refusals[location.code] = origin
        else:
            origins[location.code] = origin
    weights = {sku.code: sku.weight_g for sku in skus}
    return ShippingOrigins(now, level, weights, origins, refusals)


def _origin(location: Location, services: Sequence[CarrierService], now: datetime) -> _Origin | str:
    if not services:
        return "no carrier service of this level"
    try:
        ready = ready_time(location, now)
    except CannotShip as refused:
        return str(refused)
    legs: list[_Leg] = []
    reasons: list[str] = []
    for service in services:
        try:
            if location.currency != service.currency:
                raise CurrencyMismatch(
                    location.code, location.currency, service.code, service.currency
                )
            legs.append(_Leg(service, departure_time(location, service, ready)))
        except (CannotShip, CurrencyMismatch) as error:
            reasons.append(str(error))
    if not legs:
        return reasons[0]
    return _Origin(location, now.astimezone(location.zone).date(), tuple(legs))


def _route(
    origin: _Origin, destination: Destination, tables: dict[_TableKey, _Table]
) -> _Route | str:
    location = origin.location
    distance = great_circle_km(location.point, destination.point)
    legs = [leg for leg in origin.legs if distance <= leg.service.reach_km]
    if not legs:
        farthest = max(leg.service.reach_km for leg in origin.legs)
        return f"no service reaches {distance:.1f} km from {location.code} (up to {farthest:g} km)"
    key = _table_key(origin, legs, destination, distance)
    table = tables.get(key)
    if table is None:
        table = tables[key] = _table(origin, legs, destination, distance)
    route = _Route(distance, table[0], table[1], table[2])
    if route.contents_capacity_g <= 0:
        return f"parcels from {location.code} cannot hold even their packaging"
    _check_monotone(location.code, route)
    return route


def _table(
    origin: _Origin, legs: Sequence[_Leg], destination: Destination, distance_km: float
) -> _Table:
    """Parcels are as heavy as the largest service takes; every band edge of a rate card or a
    service's limit starts a band of the table, so each band has one cheapest option."""
    largest = max(leg.service.max_weight_g for leg in legs)
    bounds = sorted(
        {leg.service.max_weight_g for leg in legs}
        | {b for leg in legs for b in leg.service.rate_card.weight_bands_g if b < largest}
    )
    days = {leg.service.code: _days(origin, leg, destination, distance_km) for leg in legs}
    options = tuple(
        _cheapest(origin.location, legs, days, weight, distance_km) for weight in bounds
    )
    return _contents_capacity(largest), tuple(bounds), options


def _table_key(
    origin: _Origin, legs: Sequence[_Leg], destination: Destination, distance_km: float
) -> _TableKey:
    """Everything a table depends on: the distance only through each service's bands."""
    location = origin.location
    return (
        location.handling_cost,
        location.currency,
        location.timezone,
        origin.today,
        destination.country,
        tuple(
            (
                leg.service.code,
                leg.leaves,
                bisect_left(leg.service.rate_card.distance_bands_km, distance_km),
                leg.service.transit_days(distance_km),
            )
            for leg in legs
        ),
    )


def _days(origin: _Origin, leg: _Leg, destination: Destination, distance_km: float) -> int:
    """Whole days from `now`'s local date to the last day of the delivery window."""
    window = arrival_window(
        origin.location, leg.service, leg.leaves, destination.country, distance_km
    )
    return (window.latest - origin.today).days


def _cheapest(
    location: Location,
    legs: Sequence[_Leg],
    days: Mapping[str, int],
    weight_g: int,
    distance_km: float,
) -> _Option:
    """Equal prices go to the faster service, then to the code that sorts first."""
    options = [
        _Option(
            leg.service,
            shipping_cost(location, leg.service, weight_g, distance_km).total,
            days[leg.service.code],
        )
        for leg in legs
        if weight_g <= leg.service.max_weight_g
    ]
    return min(options, key=lambda o: (o.cost, o.days, o.service.code))


def _contents_capacity(parcel_weight_g: int) -> int:
    """The most contents whose parcel, packaging included, weighs no more than `parcel_weight_g`.

    Packaging grows with the contents, so start from the estimate without its rounding and step.
    """
    contents = max(0, (parcel_weight_g - PACKAGING_BASE_G) * 1000 // (1000 + PACKAGING_PER_KG_G))
    while contents + 1 + packaging_weight_g(contents + 1) <= parcel_weight_g:
        contents += 1
    while contents > 0 and contents + packaging_weight_g(contents) > parcel_weight_g:
        contents -= 1
    return contents


def _check_monotone(code: str, route: _Route) -> None:
    """Where a heavier band takes another service, it must be no faster and emit no less."""
    for i in range(1, len(route.options)):
        lighter, heavier, bound = route.options[i - 1], route.options[i], route.bounds[i - 1]
        if heavier.service is lighter.service:
            continue
        carbon_before = shipping_carbon_g(lighter.service, bound, route.distance_km)
        carbon_after = shipping_carbon_g(heavier.service, bound + 1, route.distance_km)
        if heavier.days < lighter.days or carbon_after < carbon_before:
            raise NotMonotone(
                f"from {code}, parcels over {bound} g switch from {lighter.service.code}"
                f" to {heavier.service.code}, which is faster or greener:"
                " adding units would lower a figure"
            )
