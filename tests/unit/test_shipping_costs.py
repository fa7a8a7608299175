from dataclasses import replace
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openoms.domain.calendars import MON_TO_FRI
from openoms.domain.carriers import (
    CarrierService,
    RateCard,
    ServiceLevel,
    TransitBand,
    demo_carrier_services,
)
from openoms.domain.catalog import Sku
from openoms.domain.network import (
    GeoPoint,
    Location,
    OpeningHours,
    great_circle_km,
)
from openoms.domain.shipping import ROAD_FACTOR, Destination
from openoms.domain.shipping_costs import CarrierCostModel, NotMonotone, shipping_origins
from openoms.domain.sourcing import Breakdown
from tests.unit.carrier_fixtures import STANDARD, STORE

PARIS = ZoneInfo("Europe/Paris")
TUESDAY_10H = datetime(2026, 3, 10, 10, 0, tzinfo=PARIS)
"""No holiday that week: ready 11:00, leaves at the 16:30 cut-off the same day."""

HEAVY = CarrierService(
    carrier="Test Freight",
    code="test_heavy",
    level=ServiceLevel.STANDARD,
    max_weight_g=30_000,
    rate_card=RateCard(
        currency="EUR",
        weight_bands_g=(30_000,),
        distance_bands_km=(1_200.0,),
        prices=((3_000,),),
    ),
    transit=(TransitBand(1_200.0, 3, 4),),
    pickup_weekdays=MON_TO_FRI,
    cut_off=time(16, 30),
    carbon_g_per_tkm=90.0,
    carbon_g_per_parcel=900.0,
    delivery_weekdays=MON_TO_FRI,
)

LYON = Destination(GeoPoint(45.7640, 4.8357))
LYON_KM = great_circle_km(STORE.point, LYON.point)
"""About 392 km: the second distance band, transit 2 to 3 days."""

MUG = Sku("MUG", "Mug", 400, 100, 100, 100, price=1_000)
KETTLE = Sku("KETTLE", "Kettle", 4_000, 300, 300, 300, price=5_000)
ANVIL = Sku("ANVIL", "Anvil", 9_500, 300, 300, 300, price=9_000)


def carbon(weight_g: int, service: CarrierService = STANDARD) -> float:
    tonne_km = LYON_KM * ROAD_FACTOR * weight_g / 1_000_000
    return tonne_km * service.carbon_g_per_tkm + service.carbon_g_per_parcel


def model(
    *services: CarrierService, location: Location = STORE, now: datetime = TUESDAY_10H
) -> CarrierCostModel:
    origins = shipping_origins([location], services, [MUG, KETTLE, ANVIL], now)
    return origins.for_destination(LYON)


def test_one_light_parcel_costs_handling_plus_its_band_and_arrives_on_the_window_s_last_day():
    # 400 g + packaging 150 + 20 g = 570 g: the 2 kg band at 300-1,200 km, 780 + 350 handling.
    # Leaves Tue 10 at 16:30, J+2 Thu 12 to J+3 Fri 13: 3 days after Tue 10.
    assert model(STANDARD)("PAR-RIVOLI", {"MUG": 1}) == Breakdown(
        cost=1_130, days=3, carbon_g=round(carbon(570)), parcels=1
    )


def test_contents_over_a_parcel_fill_one_parcel_and_put_the_rest_in_another():
    # A 10 kg parcel holds 9,380 g of contents (9,380 + 150 + 469 = 9,999 g); 12 kg of kettles
    # make a full parcel and one of 2,620 g (+ 281 g packaging), both in the 10 kg band.
    assert model(STANDARD)("PAR-RIVOLI", {"KETTLE": 3}) == Breakdown(
        cost=2 * (350 + 1_350), days=3, carbon_g=round(carbon(9_999) + carbon(2_901)), parcels=2
    )


def test_a_parcel_too_heavy_for_the_parcel_service_goes_with_the_heavier_one():
    # With a 30 kg service, 12 kg is one parcel of 12,750 g: only the freight service takes it.
    # It leaves Tue 10, J+3 Fri 13 to J+4 Mon 16 (no Saturday delivery): 6 days.
    assert model(STANDARD, HEAVY)("PAR-RIVOLI", {"KETTLE": 3}) == Breakdown(
        cost=350 + 3_000, days=6, carbon_g=round(carbon(12_750, HEAVY)), parcels=1
    )


def test_a_light_parcel_still_takes_the_cheapest_service_when_a_heavier_one_exists():
    assert model(STANDARD, HEAVY)("PAR-RIVOLI", {"MUG": 1}).cost == 1_130


def test_no_units_cost_nothing():
    assert model(STANDARD)("PAR-RIVOLI", {"MUG": 0}) == Breakdown(0, 0, 0, 0)


def test_days_count_from_the_location_s_date_not_utc_s():
    # 23:30 UTC on Tuesday is 00:30 on Wednesday in Paris: leaves Wed 11, arrives by Sat 14.
    late = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
    assert model(STANDARD, now=late)("PAR-RIVOLI", {"MUG": 1}).days == 3


def test_services_of_another_level_are_not_used():
    express = replace(STANDARD, code="test_express", level=ServiceLevel.EXPRESS)
    assert model(STANDARD, express)("PAR-RIVOLI", {"MUG": 1}).cost == 1_130


def test_a_location_that_is_never_open_is_refused_beforehand():
    closed = replace(STORE, opening_hours=OpeningHours())
    refusal = model(STANDARD, location=closed).refusal("PAR-RIVOLI")
    assert refusal is not None
    assert "no opening hours" in refusal


def test_a_location_in_another_currency_is_refused_beforehand():
    swiss = replace(STORE, currency="CHF")
    refusal = model(STANDARD, location=swiss).refusal("PAR-RIVOLI")
    assert refusal is not None
    assert "CHF" in refusal


def test_a_destination_beyond_every_service_s_reach_is_refused_beforehand():
    origins = shipping_origins([STORE], [STANDARD], [MUG], TUESDAY_10H)
    reykjavik = Destination(GeoPoint(64.1466, -21.9426), country="IS")
    refusal = origins.for_destination(reykjavik).refusal("PAR-RIVOLI")
    assert refusal is not None
    assert "no service reaches" in refusal


def test_a_unit_heavier_than_a_parcel_s_contents_is_refused_beforehand():
    refusal = model(STANDARD).refusal("PAR-RIVOLI", "ANVIL")
    assert (
        refusal
        == "a unit of ANVIL weighs 9500 g; parcels from PAR-RIVOLI hold up to 9380 g of contents"
    )
    assert model(STANDARD, HEAVY).refusal("PAR-RIVOLI", "ANVIL") is None


def test_a_location_that_can_ship_has_no_refusal():
    assert model(STANDARD).refusal("PAR-RIVOLI", "MUG") is None


def test_an_unknown_location_is_refused():
    origins = shipping_origins([STORE], [STANDARD], [MUG], TUESDAY_10H)
    assert origins.for_destination(LYON, ["NOWHERE"]).refusal("NOWHERE") is not None


def test_services_where_a_heavier_parcel_would_arrive_sooner_are_refused():
    fast_heavy = replace(HEAVY, transit=(TransitBand(1_200.0, 1, 1),))
    with pytest.raises(NotMonotone, match="test_heavy"):
        model(STANDARD, fast_heavy)


SKUS = [Sku(f"S{grams}", "", grams, 1, 1, 1, price=1) for grams in (30, 450, 1_900, 5_400, 9_000)]
CODES = [s.code for s in SKUS]
UNITS = st.dictionaries(st.sampled_from(CODES), st.integers(0, 12), max_size=5)
TOWNS = [
    GeoPoint(48.85, 2.35),
    GeoPoint(43.30, 5.37),
    GeoPoint(47.22, -1.55),
    GeoPoint(50.63, 3.06),
]
DEMO = shipping_origins([STORE], demo_carrier_services(), SKUS, TUESDAY_10H)
TEST = shipping_origins([STORE], [STANDARD, HEAVY], SKUS, TUESDAY_10H)


@settings(max_examples=300, deadline=None)
@given(
    origins=st.sampled_from([DEMO, TEST]),
    town=st.sampled_from(TOWNS),
    units=UNITS,
    more=UNITS,
)
def test_adding_units_never_lowers_any_figure(origins, town, units, more):
    cost = origins.for_destination(Destination(town))
    before = cost("PAR-RIVOLI", units)
    after = cost("PAR-RIVOLI", {sku: units.get(sku, 0) + more.get(sku, 0) for sku in CODES})
    assert after.cost >= before.cost
    assert after.days >= before.days
    assert after.carbon_g >= before.carbon_g
    assert after.parcels >= before.parcels
