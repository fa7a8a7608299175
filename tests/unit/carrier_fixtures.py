"""Carrier-domain fixtures shared by the shipping tests: a Paris store and a test parcel service."""

from __future__ import annotations

from datetime import time

from openoms.domain.calendars import MON_TO_FRI
from openoms.domain.carriers import CarrierService, RateCard, ServiceLevel, TransitBand
from openoms.domain.network import (
    WEEKDAYS,
    GeoPoint,
    Location,
    LocationKind,
    OpeningHours,
    TimeRange,
)


def weekly(
    days: tuple[str, ...] = WEEKDAYS[:6], opens: time = time(9), closes: time = time(19)
) -> OpeningHours:
    return OpeningHours(weekly={d: (TimeRange(opens, closes),) for d in days})


STORE = Location(
    code="PAR-RIVOLI",
    name="Paris Rivoli",
    kind=LocationKind.STORE,
    point=GeoPoint(48.8606, 2.3376),
    timezone="Europe/Paris",
    opening_hours=weekly(),
    preparation_minutes=60,
    handling_cost=350,
)

STANDARD = CarrierService(
    carrier="Test Post",
    code="test_standard",
    level=ServiceLevel.STANDARD,
    max_weight_g=10_000,
    rate_card=RateCard(
        currency="EUR",
        weight_bands_g=(500, 2_000, 10_000),
        distance_bands_km=(300.0, 1_200.0),
        prices=((500, 550), (700, 780), (1_200, 1_350)),
    ),
    transit=(TransitBand(300.0, 1, 2), TransitBand(1_200.0, 2, 3)),
    pickup_weekdays=MON_TO_FRI,
    cut_off=time(16, 30),
    carbon_g_per_tkm=100.0,
    carbon_g_per_parcel=200.0,
)
