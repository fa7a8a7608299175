from dataclasses import replace
from datetime import time

import pytest

from openoms.domain.carriers import (
    CannotShip,
    CarrierService,
    RateCard,
    Refusal,
    RefusalReason,
    ServiceLevel,
    ServiceRefused,
    TransitBand,
    check_carriage,
    demo_carrier_services,
)

RATES = RateCard(
    currency="EUR",
    weight_bands_g=(500, 2_000, 10_000),
    distance_bands_km=(300.0, 1_200.0),
    prices=((500, 550), (700, 780), (1_200, 1_350)),
)

STANDARD = CarrierService(
    carrier="Test Post",
    code="test_standard",
    level=ServiceLevel.STANDARD,
    max_weight_g=10_000,
    rate_card=RATES,
    transit=(TransitBand(300.0, 1, 2), TransitBand(1_200.0, 2, 3)),
    pickup_weekdays=frozenset({"mon", "tue", "wed", "thu", "fri"}),
    cut_off=time(16, 30),
    carbon_g_per_tkm=100.0,
    carbon_g_per_parcel=200.0,
)

COURIER = CarrierService(
    carrier="Test Courier",
    code="test_same_day",
    level=ServiceLevel.SAME_DAY,
    max_weight_g=10_000,
    rate_card=RATES,
    transit=(TransitBand(300.0, 0, 0),),
    pickup_weekdays=frozenset({"mon", "tue", "wed", "thu", "fri", "sat"}),
    cut_off=time(15, 0),
    carbon_g_per_tkm=600.0,
    carbon_g_per_parcel=120.0,
    max_distance_km=30.0,
)


def test_rate_card_prices_by_weight_band_and_distance_band():
    assert RATES.price(1_200, 450.0) == 780
    assert RATES.price(300, 12.0) == 500
    assert RATES.price(9_000, 1_100.0) == 1_350


def test_weight_on_a_band_upper_bound_pays_that_band():
    assert RATES.price(500, 10.0) == 500
    assert RATES.price(501, 10.0) == 700


def test_distance_on_a_band_upper_bound_pays_that_band():
    assert RATES.price(500, 300.0) == 500
    assert RATES.price(500, 300.1) == 550


def test_rate_card_rejects_unsorted_weight_bands():
    with pytest.raises(ValueError, match="weight_bands_g must be strictly increasing"):
        replace(RATES, weight_bands_g=(500, 10_000, 2_000))


def test_rate_card_rejects_unsorted_distance_bands():
    with pytest.raises(ValueError, match="distance_bands_km must be strictly increasing"):
        replace(RATES, distance_bands_km=(300.0, 300.0))


def test_rate_card_rejects_negative_price():
    with pytest.raises(ValueError, match="must not be negative"):
        replace(RATES, prices=((-1, 550), (700, 780), (1_200, 1_350)))


def test_rate_card_rejects_heavier_parcel_priced_lower():
    with pytest.raises(ValueError, match=r"prices\[1\]\[0\] is lower than for a lighter parcel"):
        replace(RATES, prices=((500, 550), (450, 780), (1_200, 1_350)))


def test_rate_card_rejects_farther_destination_priced_lower():
    with pytest.raises(ValueError, match="lower than for a nearer destination"):
        replace(RATES, prices=((500, 450), (700, 780), (1_200, 1_350)))


def test_rate_card_rejects_price_grid_of_wrong_shape():
    with pytest.raises(ValueError, match="prices has 2 rows for 3 weight bands"):
        replace(RATES, prices=((500, 550), (700, 780)))
    with pytest.raises(ValueError, match="prices row 1 has 1 prices for 2 distance bands"):
        replace(RATES, prices=((500, 550), (700,), (1_200, 1_350)))


def test_rate_card_rejects_currency_that_is_not_iso():
    with pytest.raises(ValueError, match="ISO 4217"):
        replace(RATES, currency="euro")


def test_service_rejects_rate_card_not_covering_its_max_weight():
    with pytest.raises(ValueError, match="rate card stops at 10000 g"):
        replace(STANDARD, max_weight_g=30_000)


def test_service_rejects_unknown_pickup_weekday():
    with pytest.raises(ValueError, match=r"unknown weekday names \['monday'\]"):
        replace(STANDARD, pickup_weekdays=frozenset({"monday"}))


def test_service_rejects_empty_pickup_weekdays():
    with pytest.raises(ValueError, match="pickup_weekdays must name at least one weekday"):
        replace(STANDARD, pickup_weekdays=frozenset())


def test_service_rejects_negative_carbon_factor():
    with pytest.raises(ValueError, match="carbon factors must not be negative"):
        replace(STANDARD, carbon_g_per_tkm=-1.0)


def test_service_rejects_unsorted_transit_bands():
    with pytest.raises(ValueError, match="transit max_km must be strictly increasing"):
        replace(STANDARD, transit=(TransitBand(1_200.0, 2, 3), TransitBand(300.0, 1, 2)))


def test_service_needs_a_transit_band():
    with pytest.raises(ValueError, match="transit max_km must not be empty"):
        replace(STANDARD, transit=())


def test_transit_band_rejects_fewest_days_above_most():
    with pytest.raises(ValueError, match="min_days <= max_days"):
        TransitBand(300.0, 3, 2)


def test_same_day_service_needs_a_max_distance():
    with pytest.raises(ValueError, match="same_day service needs max_distance_km"):
        replace(COURIER, max_distance_km=None)


def test_same_day_service_must_deliver_on_the_pickup_day():
    with pytest.raises(ValueError, match="deliver on the pickup day"):
        replace(COURIER, transit=(TransitBand(30.0, 0, 1),))


def test_transit_window_depends_on_distance_band():
    assert STANDARD.transit_days(120.0) == (1, 2)
    assert STANDARD.transit_days(800.0) == (2, 3)


def test_transit_beyond_last_band_is_refused_as_too_far():
    with pytest.raises(ServiceRefused) as caught:
        STANDARD.transit_days(1_500.0)
    assert caught.value.refusal.reason is RefusalReason.TOO_FAR


def test_cut_off_override_for_a_location_wins_over_the_default():
    service = replace(STANDARD, cut_off_overrides={"PAR-RIVOLI": time(14, 0)})
    assert service.cut_off_at("PAR-RIVOLI") == time(14, 0)
    assert service.cut_off_at("LYS-WH") == time(16, 30)


def test_service_with_cut_off_overrides_can_key_a_cache():
    service = replace(STANDARD, cut_off_overrides={"PAR-RIVOLI": time(14, 0)})
    assert {service: 1}[replace(STANDARD, cut_off_overrides={"PAR-RIVOLI": time(14, 0)})] == 1


def test_refuses_parcel_heavier_than_max_weight_with_the_figures():
    refusal = check_carriage(STANDARD, 10_001, 50.0)
    assert refusal is not None
    assert refusal == Refusal("test_standard", RefusalReason.TOO_HEAVY, 10_000, 10_001)
    assert refusal.message == "test_standard takes parcels up to 10000 g, this one weighs 10001 g"


def test_refuses_same_day_beyond_its_radius():
    refusal = check_carriage(COURIER, 1_000, 31.5)
    assert refusal is not None
    assert refusal == Refusal("test_same_day", RefusalReason.TOO_FAR, 30.0, 31.5)
    assert refusal.message == "test_same_day reaches 30 km, the destination is 31.5 km away"


def test_refuses_destination_beyond_the_last_rate_band():
    refusal = check_carriage(STANDARD, 1_000, 1_250.0)
    assert refusal is not None
    assert refusal.reason is RefusalReason.TOO_FAR
    assert refusal.limit == 1_200.0


def test_weight_is_checked_before_distance():
    refusal = check_carriage(COURIER, 20_000, 100.0)
    assert refusal is not None
    assert refusal.reason is RefusalReason.TOO_HEAVY


def test_takes_parcel_within_limits():
    assert check_carriage(STANDARD, 10_000, 1_200.0) is None
    assert check_carriage(COURIER, 1_000, 30.0) is None


def test_rate_of_refused_parcel_raises_with_the_refusal():
    with pytest.raises(ServiceRefused) as caught:
        COURIER.rate(1_000, 45.0)
    assert caught.value.refusal.reason is RefusalReason.TOO_FAR
    assert isinstance(caught.value, CannotShip)


def test_carriage_of_weightless_parcel_is_bad_input():
    with pytest.raises(ValueError, match="weight_g must be positive"):
        check_carriage(STANDARD, 0, 10.0)


def test_demo_services_offer_every_level_with_unique_codes():
    services = demo_carrier_services()
    assert {s.level for s in services} == set(ServiceLevel)
    assert len({s.code for s in services}) == len(services)
    assert {s.currency for s in services} == {"EUR"}


def test_demo_standard_reaches_all_of_mainland_france_in_two_to_three_days():
    standard = next(s for s in demo_carrier_services() if s.code == "parcel_standard")
    assert check_carriage(standard, 30_000, 1_000.0) is None
    assert standard.transit_days(900.0) == (2, 3)


def test_demo_courier_delivers_same_day_within_30_km_only():
    courier = next(s for s in demo_carrier_services() if s.level is ServiceLevel.SAME_DAY)
    assert courier.transit_days(25.0) == (0, 0)
    assert check_carriage(courier, 2_000, 29.0) is None
    assert check_carriage(courier, 2_000, 31.0) is not None


def test_demo_express_costs_more_than_standard_for_the_same_parcel():
    by_code = {s.code: s for s in demo_carrier_services()}
    assert by_code["express_24h"].rate(1_500, 400.0) > by_code["parcel_standard"].rate(1_500, 400.0)


def test_demo_heavy_service_takes_what_parcel_services_refuse():
    by_code = {s.code: s for s in demo_carrier_services()}
    assert check_carriage(by_code["parcel_standard"], 45_000, 400.0) is not None
    assert check_carriage(by_code["heavy_bulky"], 45_000, 400.0) is None
