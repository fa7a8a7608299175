"""Parcels at pack: sizes and weights as the associate gives them, and the service for them."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from openoms.domain.carriers import ServiceLevel, demo_carrier_services
from openoms.domain.catalog import Sku
from openoms.domain.network import GeoPoint, Location, LocationKind, OpeningHours, TimeRange
from openoms.domain.parcels import (
    BadParcel,
    NoServiceCarries,
    ParcelSize,
    booking_time,
    choose_service,
    pack_parcels,
)
from openoms.domain.shipping import packaging_weight_g

SHOE = Sku("SHOE", "Shoe", 800, 300, 200, 120, 5000)
SERVICES = demo_carrier_services()


def test_a_single_unweighed_parcel_weighs_its_contents_and_its_box() -> None:
    [parcel] = pack_parcels([ParcelSize(box="M")], [(SHOE, 2)])
    assert (parcel.weight_g, parcel.box) == (1600 + 200, "M")
    assert (parcel.length_mm, parcel.width_mm, parcel.height_mm) == (350, 250, 150)


def test_an_unweighed_parcel_in_its_own_size_gets_the_usual_packaging() -> None:
    size = ParcelSize(length_mm=400, width_mm=300, height_mm=200)
    [parcel] = pack_parcels([size], [(SHOE, 1)])
    assert parcel.weight_g == 800 + packaging_weight_g(800)
    assert parcel.box is None


def test_several_parcels_must_each_be_weighed() -> None:
    with pytest.raises(BadParcel) as error:
        pack_parcels([ParcelSize(weight_g=900, box="S"), ParcelSize(box="S")], [(SHOE, 2)])
    assert (error.value.index, error.value.field, error.value.code) == (1, "weight_g", "missing")


@pytest.mark.parametrize(
    ("size", "field", "code"),
    [
        (ParcelSize(box="Z"), "box", "unknown"),
        (ParcelSize(box="S", height_mm=10), "box", "conflict"),
        (ParcelSize(length_mm=10, width_mm=10), "height_mm", "missing"),
        (ParcelSize(length_mm=0, width_mm=10, height_mm=10), "length_mm", "out_of_range"),
        (ParcelSize(weight_g=-1, box="S"), "weight_g", "out_of_range"),
    ],
)
def test_a_parcel_is_a_box_or_three_sides_and_a_positive_weight(
    size: ParcelSize, field: str, code: str
) -> None:
    with pytest.raises(BadParcel) as error:
        pack_parcels([size], [(SHOE, 1)])
    assert (error.value.index, error.value.field, error.value.code) == (0, field, code)


def test_the_service_is_the_cheapest_of_the_level_that_takes_the_parcel() -> None:
    def pick(weight_g: int, level: ServiceLevel = ServiceLevel.STANDARD) -> str:
        found = choose_service(
            SERVICES, level=level, currency="EUR", weight_g=weight_g, distance_km=400
        )
        return found.code

    assert pick(2_000) == "parcel_standard"
    assert pick(30_000) == "parcel_standard"
    assert pick(30_001) == "heavy_bulky"
    assert pick(2_000, ServiceLevel.EXPRESS) == "express_24h"


def test_no_service_is_too_heavy_or_too_far_with_the_figures() -> None:
    with pytest.raises(NoServiceCarries) as heavy:
        choose_service(
            SERVICES, level=ServiceLevel.STANDARD, currency="EUR", weight_g=200_000, distance_km=5
        )
    assert heavy.value.max_weight_g == 150_000
    with pytest.raises(NoServiceCarries) as far:
        choose_service(
            SERVICES, level=ServiceLevel.SAME_DAY, currency="EUR", weight_g=1_000, distance_km=80
        )
    assert far.value.max_weight_g is None
    with pytest.raises(NoServiceCarries):
        choose_service(
            SERVICES, level=ServiceLevel.STANDARD, currency="GBP", weight_g=1_000, distance_km=5
        )


def store() -> Location:
    every_day: dict[str, tuple[TimeRange, ...]] = {
        day: (TimeRange(time(9), time(19)),)
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    }
    return Location(
        code="ST1",
        name="Store",
        kind=LocationKind.STORE,
        point=GeoPoint(48.85, 2.35),
        timezone="Europe/Paris",
        opening_hours=OpeningHours(every_day),
    )


def test_the_pickup_is_booked_half_an_hour_before_the_next_collection() -> None:
    standard = next(s for s in SERVICES if s.code == "parcel_standard")
    # Tuesday 1 December 2026, 10:00 in Paris (09:00 UTC): collected at 16:30 that day
    assert booking_time(store(), standard, datetime(2026, 12, 1, 9, 0, tzinfo=UTC)) == (
        datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    )
    # Friday after the cut-off: Monday's collection (no pickup on the weekend)
    assert booking_time(store(), standard, datetime(2026, 12, 4, 16, 0, tzinfo=UTC)) == (
        datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    )
    heavy = next(s for s in SERVICES if s.code == "heavy_bulky")
    # Wednesday: the heavy goods network collects on Tuesdays and Thursdays, at noon
    assert booking_time(store(), heavy, datetime(2026, 12, 2, 9, 0, tzinfo=UTC)) == (
        datetime(2026, 12, 3, 10, 30, tzinfo=UTC)
    )
