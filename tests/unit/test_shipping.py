from dataclasses import replace
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from openoms.domain.calendars import MON_TO_FRI, MON_TO_SAT, NotAware, is_business_day
from openoms.domain.carriers import (
    CarrierService,
    RateCard,
    RefusalReason,
    ServiceLevel,
    ServiceRefused,
    TransitBand,
)
from openoms.domain.catalog import Sku
from openoms.domain.network import (
    WEEKDAYS,
    DayException,
    GeoPoint,
    Location,
    LocationKind,
    OpeningHours,
    TimeRange,
    great_circle_km,
)
from openoms.domain.shipping import (
    ROAD_FACTOR,
    CurrencyMismatch,
    DeliveryWindow,
    Destination,
    LocationNeverOpen,
    NoPickup,
    ShippingCost,
    arrival_window,
    departure_time,
    parcel_weight_g,
    quote_shipping,
    ready_time,
    shipping_carbon_g,
    shipping_cost,
)
from tests.unit.carrier_fixtures import STANDARD, STORE, weekly

PARIS = ZoneInfo("Europe/Paris")


def paris(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


EXPRESS = replace(
    STANDARD,
    code="test_express",
    level=ServiceLevel.EXPRESS,
    transit=(TransitBand(1_200.0, 1, 1),),
    delivery_weekdays=MON_TO_FRI,
)

COURIER = replace(
    STANDARD,
    code="test_same_day",
    level=ServiceLevel.SAME_DAY,
    transit=(TransitBand(30.0, 0, 0),),
    pickup_weekdays=MON_TO_SAT,
    cut_off=time(15, 0),
    max_distance_km=30.0,
)

LYON = Destination(GeoPoint(45.7640, 4.8357))


def closed_on(location: Location, day: date) -> Location:
    hours = replace(location.opening_hours, exceptions=(DayException(day),))
    return replace(location, opening_hours=hours)


# --- parcel weight ---------------------------------------------------------------------------


def sku(code: str, weight_g: int) -> Sku:
    return Sku(code, code, weight_g, 100, 100, 100, price=1_000)


def test_parcel_weight_is_units_times_sku_weight_plus_packaging():
    # 3 x 400 g + 1 kg = 2,200 g of contents; packaging 150 g + 50 g per kg = 260 g
    assert parcel_weight_g([(sku("MUG", 400), 3), (sku("LAMP", 1_000), 1)]) == 2_460


def test_packaging_of_a_part_kilo_rounds_up_to_the_gram():
    assert parcel_weight_g([(sku("PEN", 15), 1)]) == 15 + 150 + 1


def test_parcel_without_units_is_refused():
    with pytest.raises(ValueError, match="at least one unit"):
        parcel_weight_g([])


def test_parcel_line_with_zero_quantity_is_refused():
    with pytest.raises(ValueError, match="quantity of MUG must be positive"):
        parcel_weight_g([(sku("MUG", 400), 0)])


# --- ready ----------------------------------------------------------------------------------


def test_ready_after_preparation_time_when_open():
    ready = ready_time(STORE, paris(2025, 7, 10, 10, 0))
    assert ready == paris(2025, 7, 10, 11, 0)
    assert ready.tzinfo is UTC


def test_order_before_opening_is_ready_preparation_time_after_opening():
    assert ready_time(STORE, paris(2025, 7, 10, 7, 30)) == paris(2025, 7, 10, 10, 0)


def test_preparation_stops_at_closing_and_resumes_at_next_opening():
    assert ready_time(STORE, paris(2025, 7, 10, 18, 30)) == paris(2025, 7, 11, 9, 30)


def test_preparation_pauses_over_the_lunch_closing():
    split = OpeningHours(
        weekly={"thu": (TimeRange(time(9), time(12)), TimeRange(time(14), time(19)))}
    )
    store = replace(STORE, opening_hours=split)
    assert ready_time(store, paris(2025, 7, 10, 11, 30)) == paris(2025, 7, 10, 14, 30)


def test_order_on_saturday_evening_is_ready_monday_when_closed_on_sunday():
    assert ready_time(STORE, paris(2025, 7, 5, 19, 30)) == paris(2025, 7, 7, 10, 0)


def test_store_closed_today_is_ready_on_its_next_opening_day():
    store = closed_on(STORE, date(2025, 7, 10))
    assert ready_time(store, paris(2025, 7, 10, 10, 0)) == paris(2025, 7, 11, 10, 0)


def test_exception_day_with_other_hours_uses_those_hours():
    hours = replace(
        STORE.opening_hours,
        exceptions=(DayException(date(2025, 7, 10), (TimeRange(time(13), time(17)),)),),
    )
    store = replace(STORE, opening_hours=hours)
    assert ready_time(store, paris(2025, 7, 10, 10, 0)) == paris(2025, 7, 10, 14, 0)


def test_capacity_exhausted_is_ready_on_the_next_opening_day():
    ready = ready_time(STORE, paris(2025, 7, 10, 10, 0), capacity_left=0)
    assert ready == paris(2025, 7, 11, 10, 0)


def test_capacity_exhausted_on_saturday_waits_for_monday():
    ready = ready_time(STORE, paris(2025, 7, 5, 10, 0), capacity_left=0)
    assert ready == paris(2025, 7, 7, 10, 0)


def test_capacity_left_keeps_todays_ready_time():
    ready = ready_time(STORE, paris(2025, 7, 10, 10, 0), capacity_left=1)
    assert ready == paris(2025, 7, 10, 11, 0)


def test_location_without_opening_hours_is_never_ready():
    store = replace(STORE, opening_hours=OpeningHours())
    with pytest.raises(LocationNeverOpen) as caught:
        ready_time(store, paris(2025, 7, 10, 10, 0))
    assert caught.value.location_code == "PAR-RIVOLI"
    assert caught.value.horizon_days == 31


def test_naive_now_is_refused():
    with pytest.raises(NotAware):
        ready_time(STORE, datetime(2025, 7, 10, 10, 0))


# --- leaves ---------------------------------------------------------------------------------


def test_order_before_cut_off_leaves_the_same_day_at_the_cut_off():
    leaves = departure_time(STORE, STANDARD, paris(2025, 7, 10, 11, 0))
    assert leaves == paris(2025, 7, 10, 16, 30)
    assert leaves.tzinfo is UTC


def test_parcel_ready_exactly_at_the_cut_off_still_leaves_that_day():
    assert departure_time(STORE, STANDARD, paris(2025, 7, 10, 16, 30)) == paris(2025, 7, 10, 16, 30)


def test_order_after_cut_off_leaves_next_pickup_day():
    assert departure_time(STORE, STANDARD, paris(2025, 7, 10, 16, 31)) == paris(2025, 7, 11, 16, 30)


def test_cut_off_just_missed_on_friday_leaves_monday():
    assert departure_time(STORE, STANDARD, paris(2025, 7, 4, 16, 31)) == paris(2025, 7, 7, 16, 30)


def test_no_pickup_on_a_public_holiday_where_the_location_stands():
    # Friday 11 July missed; Monday 14 July is Bastille Day, the store is open but nobody collects
    assert departure_time(STORE, STANDARD, paris(2025, 7, 11, 17, 0)) == paris(2025, 7, 15, 16, 30)


def test_no_pickup_on_a_day_the_location_is_closed():
    store = closed_on(STORE, date(2025, 7, 11))
    assert departure_time(store, STANDARD, paris(2025, 7, 10, 17, 0)) == paris(2025, 7, 15, 16, 30)


def test_pickup_at_closing_when_the_location_closes_before_the_cut_off():
    store = replace(STORE, opening_hours=weekly(closes=time(13)))
    saturday_service = replace(STANDARD, pickup_weekdays=MON_TO_SAT)
    leaves = departure_time(store, saturday_service, paris(2025, 7, 12, 10, 0))
    assert leaves == paris(2025, 7, 12, 13, 0)


def test_no_pickup_on_a_day_the_location_opens_after_the_cut_off():
    hours = replace(
        STORE.opening_hours,
        exceptions=(DayException(date(2025, 7, 11), (TimeRange(time(17), time(20)),)),),
    )
    store = replace(STORE, opening_hours=hours)
    leaves = departure_time(store, STANDARD, paris(2025, 7, 10, 18, 0))
    assert leaves == paris(2025, 7, 15, 16, 30)


def test_cut_off_override_applies_to_that_location_only():
    service = replace(STANDARD, cut_off_overrides={"PAR-RIVOLI": time(14, 0)})
    other = replace(STORE, code="PAR-OPERA")
    ready = paris(2025, 7, 10, 15, 0)
    assert departure_time(STORE, service, ready) == paris(2025, 7, 11, 14, 0)
    assert departure_time(other, service, ready) == paris(2025, 7, 10, 16, 30)


def test_pickup_only_on_the_service_pickup_weekdays():
    tuesdays_thursdays = replace(STANDARD, pickup_weekdays=frozenset({"tue", "thu"}))
    leaves = departure_time(STORE, tuesdays_thursdays, paris(2025, 7, 10, 17, 0))
    assert leaves == paris(2025, 7, 15, 16, 30)


def test_no_pickup_within_the_horizon_is_refused_with_data():
    sundays = replace(STANDARD, pickup_weekdays=frozenset({"sun"}))
    with pytest.raises(NoPickup) as caught:
        departure_time(STORE, sundays, paris(2025, 7, 10, 11, 0))
    assert (caught.value.location_code, caught.value.service_code) == (
        "PAR-RIVOLI",
        "test_standard",
    )


# --- arrives --------------------------------------------------------------------------------


def test_transit_skips_sunday_and_bastille_day():
    window = arrival_window(STORE, STANDARD, paris(2025, 7, 11, 16, 30), "FR", 400.0)
    assert window == DeliveryWindow(date(2025, 7, 15), date(2025, 7, 16))


def test_standard_delivers_on_saturday_but_express_does_not():
    friday = paris(2025, 7, 4, 16, 30)
    assert arrival_window(STORE, STANDARD, friday, "FR", 100.0).earliest == date(2025, 7, 5)
    assert arrival_window(STORE, EXPRESS, friday, "FR", 100.0) == DeliveryWindow(
        date(2025, 7, 7), date(2025, 7, 7)
    )


def test_transit_keeps_the_destination_country_holidays():
    # 3 October is German Unity Day, a working day in France
    thursday = paris(2025, 10, 2, 16, 30)
    assert arrival_window(STORE, EXPRESS, thursday, "FR", 500.0).earliest == date(2025, 10, 3)
    assert arrival_window(STORE, EXPRESS, thursday, "DE", 500.0).earliest == date(2025, 10, 6)


def test_transit_counts_from_the_local_date_of_the_pickup():
    # 23:30 UTC on Thursday is already Friday in Paris
    late = utc(2025, 7, 10, 23, 30)
    assert arrival_window(STORE, EXPRESS, late, "FR", 100.0).earliest == date(2025, 7, 15)


def test_same_day_courier_arrives_on_the_pickup_day():
    window = arrival_window(STORE, COURIER, paris(2025, 7, 12, 15, 0), "FR", 12.0)
    assert window == DeliveryWindow(date(2025, 7, 12), date(2025, 7, 12))


def test_delivery_window_rejects_latest_before_earliest():
    with pytest.raises(ValueError, match="before earliest"):
        DeliveryWindow(date(2025, 7, 16), date(2025, 7, 15))


# --- time zones -----------------------------------------------------------------------------


def warehouse_open_on(day: date, opens: time, closes: time, minutes: int) -> Location:
    hours = OpeningHours(exceptions=(DayException(day, (TimeRange(opens, closes),)),))
    return replace(
        STORE, kind=LocationKind.WAREHOUSE, opening_hours=hours, preparation_minutes=minutes
    )


def test_preparation_across_spring_forward_counts_real_minutes():
    # 30 March 2025: 02:00 CET jumps to 03:00 CEST; 01:00 CET + 2 h of work is 04:00 CEST
    warehouse = warehouse_open_on(date(2025, 3, 30), time(1), time(5), minutes=120)
    ready = ready_time(warehouse, utc(2025, 3, 29, 23, 0))
    assert ready == utc(2025, 3, 30, 2, 0)
    assert ready.astimezone(PARIS).hour == 4


def test_preparation_across_fall_back_counts_real_minutes():
    # 26 October 2025: 03:00 CEST falls back to 02:00 CET, so 01:00-05:00 lasts five hours
    warehouse = warehouse_open_on(date(2025, 10, 26), time(1), time(5), minutes=270)
    ready = ready_time(warehouse, utc(2025, 10, 25, 22, 0))
    assert ready == utc(2025, 10, 26, 3, 30)


def test_cut_off_after_the_dst_weekend_is_in_summer_time():
    ready = ready_time(STORE, paris(2025, 3, 29, 18, 30))
    assert ready == utc(2025, 3, 31, 7, 30)
    assert departure_time(STORE, STANDARD, ready) == utc(2025, 3, 31, 14, 30)


def test_cut_off_is_read_in_the_location_time_zone():
    london = replace(
        STORE, code="LON-SOHO", timezone="Europe/London", country="GB", preparation_minutes=0
    )
    paris_store = replace(STORE, preparation_minutes=0)
    now = utc(2025, 7, 10, 15, 0)  # 16:00 in London, 17:00 in Paris
    assert departure_time(london, STANDARD, ready_time(london, now)) == utc(2025, 7, 10, 15, 30)
    assert departure_time(paris_store, STANDARD, ready_time(paris_store, now)) == utc(
        2025, 7, 11, 14, 30
    )


# --- cost and carbon ------------------------------------------------------------------------


def test_cost_is_location_handling_plus_carrier_rate():
    cost = shipping_cost(STORE, STANDARD, 1_200, 392.0)
    assert cost == ShippingCost(handling=350, carriage=780, currency="EUR")
    assert cost.total == 1_130


def test_cost_in_two_currencies_is_a_configuration_error():
    with pytest.raises(CurrencyMismatch) as caught:
        shipping_cost(replace(STORE, currency="GBP"), STANDARD, 1_200, 392.0)
    assert (caught.value.location_currency, caught.value.service_currency) == ("GBP", "EUR")


def test_carbon_is_road_tonne_km_times_factor_plus_per_parcel_figure():
    # 111.195 km x 1.3 road factor x 0.002 t x 100 g/tkm = 28.911 g, plus 200 g per parcel
    distance = great_circle_km(GeoPoint(45.0, 5.0), GeoPoint(46.0, 5.0))
    assert distance == pytest.approx(111.195, abs=0.001)
    assert shipping_carbon_g(STANDARD, 2_000, distance) == pytest.approx(228.911, abs=0.001)


def test_road_factor_is_1_3():
    assert ROAD_FACTOR == 1.3


# --- quote ----------------------------------------------------------------------------------


def test_quote_gathers_ready_departure_arrival_cost_and_carbon():
    quote = quote_shipping(STORE, STANDARD, LYON, 1_200, paris(2025, 7, 11, 15, 0))
    assert quote.distance_km == pytest.approx(392.0, abs=1.0)
    assert quote.ready_at == paris(2025, 7, 11, 16, 0)
    assert quote.leaves_at == paris(2025, 7, 11, 16, 30)
    assert quote.arrives == DeliveryWindow(date(2025, 7, 15), date(2025, 7, 16))
    assert quote.cost.total == 350 + 780
    expected_carbon = quote.distance_km * 1.3 * 0.0012 * 100 + 200
    assert quote.carbon_g == pytest.approx(expected_carbon)


def test_quote_of_a_parcel_too_heavy_is_refused_with_its_reason():
    with pytest.raises(ServiceRefused) as caught:
        quote_shipping(STORE, STANDARD, LYON, 12_000, paris(2025, 7, 10, 10, 0))
    assert caught.value.refusal.reason is RefusalReason.TOO_HEAVY


def test_quote_beyond_the_courier_radius_is_refused_as_too_far():
    with pytest.raises(ServiceRefused) as caught:
        quote_shipping(STORE, COURIER, LYON, 1_000, paris(2025, 7, 10, 10, 0))
    assert caught.value.refusal.reason is RefusalReason.TOO_FAR


# --- properties -----------------------------------------------------------------------------

ZONES = ("Europe/Paris", "Europe/London", "America/New_York", "Asia/Tokyo", "Pacific/Noumea")

instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)


@st.composite
def locations(draw: st.DrawFn) -> Location:
    opens = time(draw(st.integers(6, 11)), draw(st.sampled_from((0, 30))))
    closes = time(draw(st.integers(12, 21)), draw(st.sampled_from((0, 30))))
    days = draw(st.sets(st.sampled_from(WEEKDAYS), min_size=1))
    return replace(
        STORE,
        timezone=draw(st.sampled_from(ZONES)),
        opening_hours=weekly(days=tuple(days), opens=opens, closes=closes),
        preparation_minutes=draw(st.integers(0, 900)),
    )


@st.composite
def services(draw: st.DrawFn) -> CarrierService:
    return replace(
        STANDARD,
        pickup_weekdays=frozenset(draw(st.sets(st.sampled_from(WEEKDAYS), min_size=1))),
        cut_off=time(draw(st.integers(12, 20)), draw(st.sampled_from((0, 30)))),
    )


@settings(deadline=None)
@given(
    location=locations(),
    service=services(),
    now=instants,
    capacity_left=st.none() | st.integers(0, 3),
    distance=st.floats(0, 1_200),
)
def test_never_ready_before_now_never_leaves_before_ready_never_arrives_before_leaving(
    location, service, now, capacity_left, distance
):
    open_days = set(location.opening_hours.weekly)
    assume(open_days & service.pickup_weekdays)
    ready = ready_time(location, now, capacity_left=capacity_left)
    leaves = departure_time(location, service, ready)
    window = arrival_window(location, service, leaves, "FR", distance)
    assert now <= ready <= leaves
    assert leaves.astimezone(location.zone).date() < window.earliest <= window.latest
    assert is_business_day(window.earliest, "FR")
    assert is_business_day(window.latest, "FR")


@st.composite
def rate_cards(draw: st.DrawFn) -> RateCard:
    rows = draw(st.integers(1, 5))
    columns = draw(st.integers(1, 4))
    weight_steps = draw(st.lists(st.integers(1, 5_000), min_size=rows, max_size=rows))
    distance_steps = draw(st.lists(st.integers(1, 500), min_size=columns, max_size=columns))
    base = draw(st.integers(0, 2_000))
    row_steps = draw(st.lists(st.integers(0, 500), min_size=rows, max_size=rows))
    column_steps = draw(st.lists(st.integers(0, 500), min_size=columns, max_size=columns))
    return RateCard(
        currency="EUR",
        weight_bands_g=tuple(sum(weight_steps[: i + 1]) for i in range(rows)),
        distance_bands_km=tuple(float(sum(distance_steps[: j + 1])) for j in range(columns)),
        prices=tuple(
            tuple(
                base + sum(row_steps[: i + 1]) + sum(column_steps[: j + 1]) for j in range(columns)
            )
            for i in range(rows)
        ),
    )


@given(card=rate_cards(), data=st.data())
def test_cost_never_falls_as_the_parcel_gets_heavier(card, data):
    service = replace(STANDARD, rate_card=card, max_weight_g=card.max_weight_g)
    reach = min(card.max_distance_km, STANDARD.transit[-1].max_km)
    distance = data.draw(st.floats(0, reach))
    lighter = data.draw(st.integers(1, card.max_weight_g))
    heavier = data.draw(st.integers(lighter, card.max_weight_g))
    assert (
        shipping_cost(STORE, service, lighter, distance).total
        <= shipping_cost(STORE, service, heavier, distance).total
    )


@given(
    weight=st.integers(1, 150_000),
    near=st.floats(0, 2_000),
    extra=st.floats(0, 2_000),
    per_tkm=st.floats(0, 1_000),
    per_parcel=st.floats(0, 2_000),
)
def test_carbon_never_falls_as_the_destination_gets_farther(
    weight, near, extra, per_tkm, per_parcel
):
    service = replace(STANDARD, carbon_g_per_tkm=per_tkm, carbon_g_per_parcel=per_parcel)
    assert shipping_carbon_g(service, weight, near) <= shipping_carbon_g(
        service, weight, near + extra
    )


@settings(deadline=None)
@given(location=locations(), now=instants)
def test_capacity_exhausted_is_never_ready_sooner_and_not_today(location, now):
    exhausted = ready_time(location, now, capacity_left=0)
    assert exhausted >= ready_time(location, now)
    assert exhausted.astimezone(location.zone).date() > now.astimezone(location.zone).date()


def test_long_preparation_spans_as_many_openings_as_it_needs():
    # open 3 h on Mondays only: 17 h 30 of work ends on the sixth Monday, 35 days later
    store = replace(
        STORE, opening_hours=weekly(days=("mon",), closes=time(12)), preparation_minutes=1_050
    )
    assert ready_time(store, paris(2025, 7, 7, 9, 0)) == paris(2025, 8, 11, 11, 30)
