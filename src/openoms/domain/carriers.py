"""Carrier services: what a carrier's product costs, how long it takes, when it collects.

A service is data the operations team enters from a carrier's contract, so it is checked when it
is built: a rate card with unsorted bands or a heavier parcel priced lower is a typing error in
the contract, and would otherwise surface months later as an odd sourcing decision.

Every distance here is the great-circle distance from the location to the destination, in km:
carriers price by zone, which is geography, not by the road the van will take.

What can stop a shipment, as exceptions that carry data (the last two live in shipping.py):

    CannotShip                 a location, a service and a parcel that make no shipment
    ├── ServiceRefused         refusal: the service does not take this weight or distance
    ├── LocationNeverOpen      location_code, after, horizon_days
    └── NoPickup               location_code, service_code, ready, horizon_days
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum
from itertools import pairwise

from openoms.domain.calendars import MON_TO_FRI, MON_TO_SAT
from openoms.domain.network import WEEKDAYS


class ServiceLevel(StrEnum):
    STANDARD = "standard"
    EXPRESS = "express"
    SAME_DAY = "same_day"


class RefusalReason(StrEnum):
    TOO_HEAVY = "too_heavy"
    TOO_FAR = "too_far"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a service does not take a parcel, with the figures a decision record shows."""

    service_code: str
    reason: RefusalReason
    limit: float
    actual: float

    @property
    def message(self) -> str:
        if self.reason is RefusalReason.TOO_HEAVY:
            return (
                f"{self.service_code} takes parcels up to {self.limit:g} g,"
                f" this one weighs {self.actual:g} g"
            )
        return (
            f"{self.service_code} reaches {self.limit:g} km,"
            f" the destination is {self.actual:.1f} km away"
        )


class CannotShip(Exception):
    """A location, a service and a parcel that make no shipment: sourcing excludes the pair."""


class ServiceRefused(CannotShip):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


def _strictly_increasing(name: str, bands: Sequence[float]) -> None:
    if not bands:
        raise ValueError(f"{name} must not be empty")
    if bands[0] <= 0:
        raise ValueError(f"{name} must be positive, got {bands[0]}")
    for lower, upper in pairwise(bands):
        if upper <= lower:
            raise ValueError(f"{name} must be strictly increasing, got {lower} then {upper}")


def _check_currency(currency: str) -> None:
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise ValueError(f"currency must be an ISO 4217 code like 'EUR', got {currency!r}")


def _check_weekdays(name: str, weekdays: frozenset[str]) -> None:
    unknown = sorted(weekdays - set(WEEKDAYS))
    if unknown:
        raise ValueError(f"{name} has unknown weekday names {unknown}; use {list(WEEKDAYS)}")
    if not weekdays:
        raise ValueError(f"{name} must name at least one weekday")


@dataclass(frozen=True, slots=True)
class RateCard:
    """Price in minor units by weight band (rows) and distance band (columns).

    Bands are inclusive upper bounds: with weight bands (500, 1000), a 500 g parcel pays the first
    row and a 501 g parcel the second, as on carriers' printed rate cards.
    """

    currency: str
    weight_bands_g: tuple[int, ...]
    distance_bands_km: tuple[float, ...]
    prices: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        _check_currency(self.currency)
        _strictly_increasing("weight_bands_g", self.weight_bands_g)
        _strictly_increasing("distance_bands_km", self.distance_bands_km)
        self._check_shape()
        self._check_prices()

    def _check_shape(self) -> None:
        if len(self.prices) != len(self.weight_bands_g):
            raise ValueError(
                f"prices has {len(self.prices)} rows for {len(self.weight_bands_g)} weight bands"
            )
        for i, row in enumerate(self.prices):
            if len(row) != len(self.distance_bands_km):
                raise ValueError(
                    f"prices row {i} has {len(row)} prices"
                    f" for {len(self.distance_bands_km)} distance bands"
                )

    def _check_prices(self) -> None:
        """Heavier or farther never costs less: otherwise it is a typing error in the contract."""
        for i, row in enumerate(self.prices):
            for j, price in enumerate(row):
                if price < 0:
                    raise ValueError(f"prices[{i}][{j}] must not be negative, got {price}")
                if i and price < self.prices[i - 1][j]:
                    raise ValueError(f"prices[{i}][{j}] is lower than for a lighter parcel")
                if j and price < row[j - 1]:
                    raise ValueError(f"prices[{i}][{j}] is lower than for a nearer destination")

    @property
    def max_weight_g(self) -> int:
        return self.weight_bands_g[-1]

    @property
    def max_distance_km(self) -> float:
        return self.distance_bands_km[-1]

    def price(self, weight_g: int, distance_km: float) -> int:
        row = bisect_left(self.weight_bands_g, weight_g)
        column = bisect_left(self.distance_bands_km, distance_km)
        if row == len(self.weight_bands_g) or column == len(self.distance_bands_km):
            raise ValueError(
                f"{weight_g} g over {distance_km:.1f} km is outside the rate card"
                f" (up to {self.max_weight_g} g, {self.max_distance_km:g} km)"
            )
        return self.prices[row][column]


@dataclass(frozen=True, slots=True)
class TransitBand:
    """Up to `max_km`, delivered `min_days` to `max_days` business days after the pickup."""

    max_km: float
    min_days: int
    max_days: int

    def __post_init__(self) -> None:
        if self.max_km <= 0:
            raise ValueError(f"max_km must be positive, got {self.max_km}")
        if not 0 <= self.min_days <= self.max_days:
            raise ValueError(
                f"need 0 <= min_days <= max_days, got {self.min_days} and {self.max_days}"
            )


@dataclass(frozen=True, slots=True)
class CarrierService:
    """One carrier product. `cut_off` is local time at the location that hands the parcel over."""

    carrier: str
    code: str
    level: ServiceLevel
    max_weight_g: int
    rate_card: RateCard
    transit: tuple[TransitBand, ...]
    pickup_weekdays: frozenset[str]
    cut_off: time
    carbon_g_per_tkm: float
    carbon_g_per_parcel: float
    cut_off_overrides: Mapping[str, time] = field(default_factory=dict, hash=False)
    """Per location code. Left out of the hash so that a service can key a cache."""
    delivery_weekdays: frozenset[str] = MON_TO_SAT
    max_distance_km: float | None = None

    def __post_init__(self) -> None:
        if not self.carrier or not self.code:
            raise ValueError("carrier and code must not be empty")
        if self.max_weight_g <= 0:
            raise ValueError(f"max_weight_g must be positive, got {self.max_weight_g}")
        if self.rate_card.max_weight_g < self.max_weight_g:
            raise ValueError(
                f"rate card stops at {self.rate_card.max_weight_g} g"
                f" but the service takes up to {self.max_weight_g} g"
            )
        _strictly_increasing("transit max_km", [band.max_km for band in self.transit])
        _check_weekdays("pickup_weekdays", self.pickup_weekdays)
        _check_weekdays("delivery_weekdays", self.delivery_weekdays)
        if self.carbon_g_per_tkm < 0 or self.carbon_g_per_parcel < 0:
            raise ValueError("carbon factors must not be negative")
        if self.max_distance_km is not None and self.max_distance_km <= 0:
            raise ValueError(f"max_distance_km must be positive, got {self.max_distance_km}")
        self._check_same_day()

    def _check_same_day(self) -> None:
        if self.level != ServiceLevel.SAME_DAY:
            return
        if self.max_distance_km is None:
            raise ValueError("a same_day service needs max_distance_km (a courier's radius)")
        if any(band.max_days for band in self.transit):
            raise ValueError("a same_day service must deliver on the pickup day (max_days 0)")

    @property
    def reach_km(self) -> float:
        """The farthest destination the service takes: its own limit, its rates', its transit's."""
        declared = self.max_distance_km if self.max_distance_km is not None else math.inf
        return min(declared, self.rate_card.max_distance_km, self.transit[-1].max_km)

    @property
    def currency(self) -> str:
        return self.rate_card.currency

    def cut_off_at(self, location_code: str) -> time:
        return self.cut_off_overrides.get(location_code, self.cut_off)

    def rate(self, weight_g: int, distance_km: float) -> int:
        """The carrier's price for this parcel, in minor units of `currency`."""
        refuse_unless_carried(self, weight_g, distance_km)
        return self.rate_card.price(weight_g, distance_km)

    def transit_days(self, distance_km: float) -> tuple[int, int]:
        """(fewest, most) business days between pickup and delivery."""
        if distance_km < 0:
            raise ValueError(f"distance_km must not be negative, got {distance_km}")
        for band in self.transit:
            if distance_km <= band.max_km:
                return band.min_days, band.max_days
        raise ServiceRefused(
            Refusal(self.code, RefusalReason.TOO_FAR, self.transit[-1].max_km, distance_km)
        )


def check_carriage(service: CarrierService, weight_g: int, distance_km: float) -> Refusal | None:
    """None when the service takes the parcel; otherwise why not, weight first."""
    if weight_g <= 0:
        raise ValueError(f"weight_g must be positive, got {weight_g}")
    if distance_km < 0:
        raise ValueError(f"distance_km must not be negative, got {distance_km}")
    if weight_g > service.max_weight_g:
        return Refusal(service.code, RefusalReason.TOO_HEAVY, service.max_weight_g, weight_g)
    if distance_km > service.reach_km:
        return Refusal(service.code, RefusalReason.TOO_FAR, service.reach_km, distance_km)
    return None


def refuse_unless_carried(service: CarrierService, weight_g: int, distance_km: float) -> None:
    refusal = check_carriage(service, weight_g, distance_km)
    if refusal is not None:
        raise ServiceRefused(refusal)


def demo_carrier_services() -> list[CarrierService]:
    """Four services whose figures resemble French parcel and courier offers in 2024-2025.

    Prices are what a mid-size retailer pays under contract (below counter prices); carbon
    factors are orders of magnitude in the spirit of the ADEME Base Carbone (articulated trucks
    near 100 g CO2e per tonne-km, vans several times that), not any carrier's declared figures.
    Lives here until `openoms.demo` exists as a package; it is data, not a rule.
    """
    return [_demo_standard(), _demo_express(), _demo_same_day(), _demo_heavy()]


def _demo_standard() -> CarrierService:
    """Home or relay parcel, J+2 to J+3 anywhere in mainland France."""
    return CarrierService(
        carrier="Colis National",
        code="parcel_standard",
        level=ServiceLevel.STANDARD,
        max_weight_g=30_000,
        rate_card=RateCard(
            currency="EUR",
            weight_bands_g=(250, 500, 1_000, 2_000, 5_000, 10_000, 30_000),
            distance_bands_km=(300.0, 1_200.0),
            prices=(
                (450, 490),
                (520, 560),
                (610, 660),
                (720, 780),
                (990, 1_080),
                (1_390, 1_520),
                (2_290, 2_490),
            ),
        ),
        transit=(TransitBand(300.0, 2, 2), TransitBand(1_200.0, 2, 3)),
        pickup_weekdays=MON_TO_FRI,
        cut_off=time(16, 30),
        carbon_g_per_tkm=110.0,
        carbon_g_per_parcel=180.0,
    )


def _demo_express() -> CarrierService:
    """Express before 13:00 the next business day, Monday to Friday only."""
    return CarrierService(
        carrier="Express National",
        code="express_24h",
        level=ServiceLevel.EXPRESS,
        max_weight_g=30_000,
        rate_card=RateCard(
            currency="EUR",
            weight_bands_g=(1_000, 2_000, 5_000, 10_000, 30_000),
            distance_bands_km=(300.0, 1_200.0),
            prices=(
                (1_190, 1_290),
                (1_350, 1_490),
                (1_690, 1_890),
                (2_290, 2_590),
                (3_490, 3_890),
            ),
        ),
        transit=(TransitBand(1_200.0, 1, 1),),
        pickup_weekdays=MON_TO_FRI,
        cut_off=time(18, 0),
        carbon_g_per_tkm=260.0,
        carbon_g_per_parcel=300.0,
        delivery_weekdays=MON_TO_FRI,
    )


def _demo_same_day() -> CarrierService:
    """Urban courier (cargo bike or small van) delivering the same evening within ~30 km."""
    return CarrierService(
        carrier="Coursier Urbain",
        code="courier_same_day",
        level=ServiceLevel.SAME_DAY,
        max_weight_g=15_000,
        rate_card=RateCard(
            currency="EUR",
            weight_bands_g=(5_000, 15_000),
            distance_bands_km=(10.0, 20.0, 30.0),
            prices=((890, 1_190, 1_490), (1_290, 1_590, 1_890)),
        ),
        transit=(TransitBand(30.0, 0, 0),),
        pickup_weekdays=MON_TO_SAT,
        cut_off=time(15, 0),
        carbon_g_per_tkm=600.0,
        carbon_g_per_parcel=120.0,
        max_distance_km=30.0,
    )


def _demo_heavy() -> CarrierService:
    """Bulky goods on a pallet network, two-person delivery, collected Tuesdays and Thursdays."""
    return CarrierService(
        carrier="Messagerie Lourde",
        code="heavy_bulky",
        level=ServiceLevel.STANDARD,
        max_weight_g=150_000,
        rate_card=RateCard(
            currency="EUR",
            weight_bands_g=(30_000, 60_000, 100_000, 150_000),
            distance_bands_km=(300.0, 1_200.0),
            prices=((3_900, 4_700), (5_900, 6_900), (7_900, 9_400), (11_900, 13_900)),
        ),
        transit=(TransitBand(300.0, 3, 4), TransitBand(1_200.0, 3, 5)),
        pickup_weekdays=frozenset({"tue", "thu"}),
        cut_off=time(12, 0),
        carbon_g_per_tkm=95.0,
        carbon_g_per_parcel=900.0,
        delivery_weekdays=MON_TO_FRI,
    )
