"""Sourcing profiles: each filter, the calendar, versions, parsing errors, custom criteria, and
a property: screening splits the locations into candidates and exclusions, each for a reason."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from importlib.metadata import EntryPoint
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openoms.domain.carriers import CarrierService, check_carriage, demo_carrier_services
from openoms.domain.network import Capability, GeoPoint, Location, LocationKind
from openoms.domain.profiles import (
    ActivityCalendar,
    AlreadyPublished,
    BasketLine,
    CostBasis,
    CostCriterion,
    CriteriaRegistry,
    CustomTerm,
    DeliveryMethod,
    DeliveryPrice,
    DuplicateCriterion,
    DuplicateLocation,
    EmptyProfile,
    FilterCriterion,
    FilterReason,
    Filters,
    Hours,
    InvalidProfile,
    LocationFacts,
    NegativeCriterionCost,
    NotACriterion,
    ObjectiveWeights,
    OfferMode,
    OfferPolicy,
    Profile,
    ProfileHistory,
    ProfileRule,
    PublishInThePast,
    Screening,
    SplitChoice,
    SplitRule,
    UnknownVersion,
    VersionState,
    WrongProfile,
    active_rules,
    add_draft,
    is_active,
    live_version,
    load_criteria,
    parse_profile,
    profile_to_data,
    publish,
    screen_locations,
)
from openoms.domain.shipping import Destination, packaging_weight_g
from openoms.domain.sourcing import (
    Breakdown,
    Line,
    Objective,
    SplitMode,
    SplitPolicy,
    optimize,
)

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
"""A Wednesday, 10:00 in Paris."""
PARIS = GeoPoint(48.8566, 2.3522)
LYON = GeoPoint(45.7640, 4.8357)
HOME = Destination(PARIS)
BASKET = (BasketLine("A", 2, 500),)
SERVICES = demo_carrier_services()


def location(
    code: str,
    kind: LocationKind = LocationKind.STORE,
    *,
    point: GeoPoint = PARIS,
    capabilities: frozenset[Capability] = frozenset({Capability.SHIP}),
    tags: frozenset[str] = frozenset(),
    active: bool = True,
) -> Location:
    return Location(
        code=code,
        name=code,
        kind=kind,
        point=point,
        timezone="Europe/Paris",
        capabilities=capabilities,
        tags=tags,
        active=active,
    )


def facts(
    code: str,
    atp: Mapping[str, int] | None = None,
    *,
    capacity_left: int | None = None,
    distance_km: float | None = None,
    delivery_date: date | None = None,
    kind: LocationKind = LocationKind.STORE,
    point: GeoPoint = PARIS,
    capabilities: frozenset[Capability] = frozenset({Capability.SHIP}),
    tags: frozenset[str] = frozenset(),
    active: bool = True,
) -> LocationFacts:
    place = location(code, kind, point=point, capabilities=capabilities, tags=tags, active=active)
    return LocationFacts(
        place,
        {"A": 5} if atp is None else atp,
        capacity_left=capacity_left,
        distance_km=distance_km,
        delivery_date=delivery_date,
    )


def screen(
    filters: Filters,
    locations: Sequence[LocationFacts],
    *,
    basket: Sequence[BasketLine] = BASKET,
    destination: Destination = HOME,
    services: Sequence[CarrierService] = (),
    promised: date | None = None,
    criteria: CriteriaRegistry | None = None,
) -> Screening:
    rule = ProfileRule("rule", filters)
    return screen_locations(
        rule,
        destination,
        basket,
        locations,
        NOW,
        services=services,
        promised=promised,
        criteria=criteria,
    )


def reasons(screening: Screening) -> dict[str, FilterReason]:
    return {e.location: e.reason for e in screening.excluded}


def codes(screening: Screening) -> list[str]:
    return [c.location for c in screening.candidates]


# Filters


def test_store_keeps_its_minimum_stock() -> None:
    store = facts("S1", {"A": 5})
    result = screen(Filters(min_stock_kept=2), [store])
    assert result.candidates[0].stock == {"A": 3}


def test_minimum_stock_kept_applies_to_stores_only() -> None:
    warehouse = facts("W1", {"A": 5}, kind=LocationKind.WAREHOUSE)
    result = screen(Filters(min_stock_kept=2), [warehouse])
    assert result.candidates[0].stock == {"A": 5}


def test_store_with_no_more_than_its_minimum_is_excluded_with_reason() -> None:
    result = screen(Filters(min_stock_kept=2), [facts("S1", {"A": 2})])
    assert reasons(result) == {"S1": FilterReason.MIN_STOCK_KEPT}
    assert "2 units the store keeps" in result.excluded[0].detail


def test_location_without_a_unit_of_the_basket_is_excluded() -> None:
    result = screen(Filters(), [facts("S1", {"B": 9})])
    assert reasons(result) == {"S1": FilterReason.NO_STOCK}


def test_location_beyond_max_distance_is_excluded_with_reason() -> None:
    result = screen(Filters(max_distance_km=30), [facts("S1"), facts("S2", point=LYON)])
    assert codes(result) == ["S1"]
    assert reasons(result) == {"S2": FilterReason.MAX_DISTANCE}
    assert result.excluded[0].detail == "391.5 km away, beyond 30 km"


def test_click_collect_distance_is_measured_from_the_pickup_store() -> None:
    pickup = Destination(LYON)
    result = screen(
        Filters(max_distance_km=30), [facts("S1"), facts("S2", point=LYON)], destination=pickup
    )
    assert codes(result) == ["S2"]


def test_given_distance_is_used_instead_of_great_circle() -> None:
    result = screen(Filters(max_distance_km=30), [facts("S1", distance_km=31.0)])
    assert reasons(result) == {"S1": FilterReason.MAX_DISTANCE}


def test_only_allowed_kinds_may_serve() -> None:
    warehouse = facts("W1", kind=LocationKind.WAREHOUSE)
    result = screen(Filters(kinds=frozenset({LocationKind.WAREHOUSE})), [facts("S1"), warehouse])
    assert codes(result) == ["W1"]
    assert reasons(result) == {"S1": FilterReason.KIND}


def test_location_without_the_required_capability_is_excluded() -> None:
    collect = facts("S2", capabilities=frozenset({Capability.CLICK_COLLECT}))
    result = screen(Filters(capability=Capability.CLICK_COLLECT), [facts("S1"), collect])
    assert codes(result) == ["S2"]
    assert reasons(result) == {"S1": FilterReason.CAPABILITY}


def test_location_missing_a_required_tag_is_excluded() -> None:
    both = facts("S1", tags=frozenset({"ship_from_store", "paris"}))
    one = facts("S2", tags=frozenset({"ship_from_store"}))
    result = screen(Filters(tags_in=frozenset({"ship_from_store", "paris"})), [both, one])
    assert codes(result) == ["S1"]
    assert result.excluded[0].detail == "missing tags paris"


def test_location_with_an_excluded_tag_is_excluded() -> None:
    flagship = facts("S1", tags=frozenset({"flagship"}))
    result = screen(Filters(tags_out=frozenset({"flagship"})), [flagship, facts("S2")])
    assert codes(result) == ["S2"]
    assert reasons(result) == {"S1": FilterReason.TAGS_OUT}


def test_location_short_of_capacity_today_is_excluded() -> None:
    locations = [facts("S1", capacity_left=0), facts("S2", capacity_left=3), facts("S3")]
    result = screen(Filters(min_capacity_left=1), locations)
    assert codes(result) == ["S2", "S3"]
    assert reasons(result) == {"S1": FilterReason.CAPACITY}


def test_deactivated_location_is_excluded() -> None:
    result = screen(Filters(), [facts("S1", active=False)])
    assert reasons(result) == {"S1": FilterReason.LOCATION_INACTIVE}


def test_location_no_carrier_reaches_is_excluded_with_the_carriers_refusal() -> None:
    courier = Filters(carrier_reachable=True, carrier_services=frozenset({"courier_same_day"}))
    result = screen(courier, [facts("S1"), facts("S2", point=LYON)], services=SERVICES)
    assert codes(result) == ["S1"]
    assert reasons(result) == {"S2": FilterReason.CARRIER}
    assert "courier_same_day reaches 30 km" in result.excluded[0].detail


def test_carrier_check_weighs_what_the_location_can_send() -> None:
    heavy = (BasketLine("A", 2, 20_000),)
    standard = Filters(carrier_reachable=True, carrier_services=frozenset({"parcel_standard"}))
    locations = [facts("S1", {"A": 1}), facts("S2", {"A": 2})]
    result = screen(standard, locations, basket=heavy, services=SERVICES)
    assert codes(result) == ["S1"]
    assert "42150 g" in result.excluded[0].detail


def test_carrier_check_without_any_service_excludes() -> None:
    result = screen(Filters(carrier_reachable=True), [facts("S1")])
    assert reasons(result) == {"S1": FilterReason.CARRIER}


def test_location_delivering_after_the_promise_and_its_tolerance_is_excluded() -> None:
    promised = date(2026, 11, 27)
    locations = [
        facts("S1", delivery_date=date(2026, 11, 28)),
        facts("S2", delivery_date=date(2026, 11, 29)),
        facts("S3"),
    ]
    result = screen(Filters(promise_tolerance_days=1), locations, promised=promised)
    assert codes(result) == ["S1"]
    assert reasons(result) == {"S2": FilterReason.PROMISE, "S3": FilterReason.PROMISE}


def test_promise_check_waits_for_a_promise() -> None:
    result = screen(Filters(promise_tolerance_days=0), [facts("S1")])
    assert codes(result) == ["S1"]


def test_rule_outside_its_calendar_excludes_every_location() -> None:
    sunday = ProfileRule("sunday", calendar=ActivityCalendar(weekdays=frozenset({"sun"})))
    result = screen_locations(sunday, HOME, BASKET, [facts("S1")], NOW)
    assert reasons(result) == {"S1": FilterReason.RULE_INACTIVE}


def test_screening_is_sorted_by_location_code() -> None:
    result = screen(Filters(max_distance_km=30), [facts(c) for c in ("S3", "S1", "S2")])
    assert codes(result) == ["S1", "S2", "S3"]


def test_a_location_given_twice_is_refused() -> None:
    with pytest.raises(DuplicateLocation) as raised:
        screen(Filters(), [facts("S1"), facts("S1")])
    assert raised.value.code == "S1"


def test_store_protection_is_asked_of_stores_only() -> None:
    rule = ProfileRule("r", objective=ObjectiveWeights(protection=50, protect_below=2))
    warehouse = facts("W1", kind=LocationKind.WAREHOUSE)
    result = screen_locations(rule, HOME, BASKET, [facts("S1"), warehouse], NOW)
    assert {c.location: c.protect_below for c in result.candidates} == {"S1": 2, "W1": 0}


# Objective, split and offer policies


def test_objective_weights_map_onto_the_optimizer() -> None:
    weights = ObjectiveWeights(cost=1, days=100, carbon=0.5, parcels=200, protection=30)
    assert weights.to_objective() == Objective(1, 100, 0.5, 200, 30)


@pytest.mark.parametrize(
    ("rule", "policy"),
    [
        (SplitRule(SplitChoice.NEVER), SplitPolicy(SplitMode.NEVER)),
        (SplitRule(SplitChoice.PER_LINE), SplitPolicy(SplitMode.PER_LINE)),
        (SplitRule(SplitChoice.PER_UNIT), SplitPolicy(SplitMode.PER_UNIT)),
        (SplitRule(SplitChoice.MAX_PARCELS, 2), SplitPolicy(SplitMode.PER_UNIT, max_parcels=2)),
    ],
)
def test_split_rules_map_onto_split_policies(rule: SplitRule, policy: SplitPolicy) -> None:
    assert rule.to_policy() == policy


def flat_cost(location: str, units: Mapping[str, int], /) -> Breakdown:
    return Breakdown(cost=500, days=2, carbon_g=100, parcels=1)


def test_screened_candidates_feed_the_optimizer() -> None:
    result = screen(Filters(min_stock_kept=4), [facts("S1", {"A": 5}), facts("S2", {"A": 6})])
    decision = optimize([Line("l1", "A", 2)], result.candidates, flat_cost)
    assert decision.plan is not None
    assert decision.plan.locations == ("S2",)


# Custom criteria


def near_paris(location_facts: LocationFacts) -> bool | str:
    distance = location_facts.distance_km or 0.0
    return distance < 100 or f"{distance:.0f} km from Paris"


my_criterion = FilterCriterion(near_paris)
"""Loaded by the entry point test, as an installed package's criterion would be."""


def rent_per_unit(location_facts: LocationFacts) -> float:
    return 300.0 if "high_rent" in location_facts.location.tags else 0.0


def registry() -> CriteriaRegistry:
    criteria = CriteriaRegistry()
    criteria.register("near_paris", my_criterion)
    criteria.register("rent", CostCriterion(rent_per_unit, CostBasis.UNIT))
    return criteria


def test_custom_filter_excludes_with_its_own_reason() -> None:
    result = screen(
        Filters(custom=("near_paris",)), [facts("S1"), facts("S2", point=LYON)], criteria=registry()
    )
    assert codes(result) == ["S1"]
    excluded = result.excluded[0]
    assert (excluded.reason, excluded.criterion, excluded.detail) == (
        FilterReason.CUSTOM,
        "near_paris",
        "391 km from Paris",
    )


def test_custom_cost_steers_the_optimizer_away_from_a_costly_store() -> None:
    rule = ProfileRule("r", objective=ObjectiveWeights(custom=(CustomTerm("rent", 1.0),)))
    locations = [facts("S1", tags=frozenset({"high_rent"})), facts("S2")]
    result = screen_locations(rule, HOME, BASKET, locations, NOW, criteria=registry())
    decision = optimize([Line("l1", "A", 2)], result.candidates, result.cost_model(flat_cost))
    assert decision.plan is not None
    assert decision.plan.locations == ("S2",)
    assert decision.runners_up[0].breakdown.cost == 500 + 2 * 300


def test_negative_custom_cost_is_refused() -> None:
    criteria = CriteriaRegistry()
    criteria.register("bonus", CostCriterion(lambda _: -1.0))
    rule = ProfileRule("r", objective=ObjectiveWeights(custom=(CustomTerm("bonus", 1.0),)))
    with pytest.raises(NegativeCriterionCost) as raised:
        screen_locations(rule, HOME, BASKET, [facts("S1")], NOW, criteria=criteria)
    assert (raised.value.name, raised.value.location) == ("bonus", "S1")


def test_a_criterion_name_is_registered_once() -> None:
    with pytest.raises(DuplicateCriterion):
        registry().register("rent", my_criterion)


def test_criteria_load_from_entry_points() -> None:
    entry = EntryPoint(
        name="near_paris",
        value="tests.unit.test_profiles:my_criterion",
        group="openoms.criteria",
    )
    loaded = load_criteria([entry])
    assert loaded.get("near_paris") is my_criterion


def test_an_entry_point_that_is_no_criterion_is_refused() -> None:
    entry = EntryPoint(
        name="oops", value="tests.unit.test_profiles:near_paris", group="openoms.criteria"
    )
    with pytest.raises(NotACriterion) as raised:
        load_criteria([entry])
    assert raised.value.name == "oops"


# Calendar


def at_paris(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    local = datetime(year, month, day, hour, minute, tzinfo=UTC)
    return local - timedelta(hours=1)  # Paris is UTC+1 in winter


def test_rule_applies_on_its_weekdays_only() -> None:
    weekend = ActivityCalendar("Europe/Paris", frozenset({"sat", "sun"}))
    assert is_active(weekend, at_paris(2026, 11, 28, 12))
    assert not is_active(weekend, at_paris(2026, 11, 27, 12))


def test_weekday_is_read_in_the_rules_time_zone() -> None:
    saturday = ActivityCalendar("Europe/Paris", frozenset({"sat"}))
    assert is_active(saturday, datetime(2026, 11, 27, 23, 30, tzinfo=UTC))


def test_rule_applies_within_its_hours() -> None:
    office = ActivityCalendar("Europe/Paris", hours=Hours(time(9), time(18)))
    assert is_active(office, at_paris(2026, 11, 25, 9))
    assert not is_active(office, at_paris(2026, 11, 25, 18))
    assert not is_active(office, at_paris(2026, 11, 25, 8, 59))


def test_night_hours_belong_to_the_weekday_they_start_on() -> None:
    friday_night = ActivityCalendar("Europe/Paris", frozenset({"fri"}), Hours(time(22), time(2)))
    assert is_active(friday_night, at_paris(2026, 11, 27, 23))
    assert is_active(friday_night, at_paris(2026, 11, 28, 1, 30))
    assert not is_active(friday_night, at_paris(2026, 11, 28, 2))
    assert not is_active(friday_night, at_paris(2026, 11, 27, 1))


def test_sales_period_includes_both_its_days_in_local_time() -> None:
    sales = ActivityCalendar("Europe/Paris", period=(date(2027, 1, 13), date(2027, 2, 9)))
    assert is_active(sales, datetime(2027, 1, 12, 23, 0, tzinfo=UTC))
    assert not is_active(sales, datetime(2027, 1, 12, 22, 59, tzinfo=UTC))
    assert is_active(sales, at_paris(2027, 2, 9, 23, 59))
    assert not is_active(sales, at_paris(2027, 2, 10, 0))


def test_active_rules_keep_the_profiles_order() -> None:
    weekend = ProfileRule("weekend", calendar=ActivityCalendar(weekdays=frozenset({"sat"})))
    rules = (ProfileRule("shelf"), weekend, ProfileRule("warehouses"))
    profile = Profile("p", "P", "web", DeliveryMethod.HOME_STANDARD, rules)
    assert [r.name for r in active_rules(profile, NOW)] == ["shelf", "warehouses"]


# Versions


def profile(
    code: str = "web-home", rules: tuple[ProfileRule, ...] = (ProfileRule("any"),)
) -> Profile:
    return Profile(code, "Web home", "web", DeliveryMethod.HOME_STANDARD, rules)


def drafts(count: int) -> ProfileHistory:
    history = ProfileHistory("web-home")
    for _ in range(count):
        history = add_draft(history, profile())
    return history


def number_live(history: ProfileHistory, now: datetime) -> int | None:
    version = live_version(history, now)
    return None if version is None else version.number


def test_drafts_are_numbered_in_order() -> None:
    assert [v.number for v in drafts(3).versions] == [1, 2, 3]


def test_a_version_published_now_is_live() -> None:
    history = publish(drafts(1), 1, at=NOW, now=NOW)
    version = live_version(history, NOW)
    assert version is not None
    assert (version.number, version.state) == (1, VersionState.LIVE)


def test_a_scheduled_version_goes_live_at_its_time() -> None:
    later = NOW + timedelta(days=2)
    history = publish(publish(drafts(2), 1, at=NOW, now=NOW), 2, at=later, now=NOW)
    scheduled = history.version(2)
    assert scheduled.state_at(NOW) is VersionState.SCHEDULED
    assert scheduled.state_at(later) is VersionState.LIVE
    assert [number_live(history, t) for t in (NOW, later)] == [1, 2]


def test_no_version_is_live_before_the_first_publication() -> None:
    history = publish(drafts(1), 1, at=NOW + timedelta(hours=1), now=NOW)
    assert live_version(history, NOW) is None


def test_a_published_version_cannot_be_published_again() -> None:
    history = publish(drafts(1), 1, at=NOW, now=NOW)
    with pytest.raises(AlreadyPublished) as raised:
        publish(history, 1, at=NOW + timedelta(days=1), now=NOW)
    assert (raised.value.number, raised.value.state) == (1, VersionState.LIVE)


def test_a_profile_without_rules_cannot_be_published() -> None:
    history = add_draft(ProfileHistory("web-home"), profile(rules=()))
    with pytest.raises(EmptyProfile):
        publish(history, 1, at=NOW, now=NOW)


def test_a_version_cannot_be_published_in_the_past() -> None:
    with pytest.raises(PublishInThePast) as raised:
        publish(drafts(1), 1, at=NOW - timedelta(minutes=1), now=NOW)
    assert raised.value.now == NOW


def test_an_unknown_version_cannot_be_published() -> None:
    with pytest.raises(UnknownVersion):
        publish(drafts(1), 2, at=NOW, now=NOW)


def test_a_draft_must_belong_to_its_profile() -> None:
    with pytest.raises(WrongProfile):
        add_draft(ProfileHistory("web-home"), profile("app-home"))


# Parsing


def valid_document() -> dict[str, object]:
    return {
        "code": "web-home",
        "name": "Web, home delivery",
        "channel": "web",
        "delivery_method": "home_standard",
        "rules": [
            {
                "name": "stores nearby",
                "filters": {
                    "kinds": ["store"],
                    "capability": "ship",
                    "tags_out": ["flagship"],
                    "max_distance_km": 30,
                    "min_stock_kept": 2,
                    "carrier_reachable": True,
                    "carrier_services": ["parcel_standard"],
                    "promise_tolerance_days": 1,
                    "custom": ["near_paris"],
                },
                "objective": {
                    "cost": 1,
                    "days": 50,
                    "protection": 100,
                    "protect_below": 2,
                    "custom": {"rent": 1.5},
                },
                "split": {"mode": "max_parcels", "max_parcels": 2},
                "offer": {"mode": "broadcast", "stores": 3, "minutes": 20},
                "calendar": {
                    "timezone": "Europe/Paris",
                    "weekdays": ["mon", "tue", "wed", "thu", "fri"],
                    "hours": {"from": "08:00", "to": "20:00"},
                    "period": {"from": "2027-01-13", "to": "2027-02-09"},
                },
            },
            {"name": "warehouses", "filters": {"kinds": ["warehouse"]}},
        ],
    }


def test_a_valid_document_parses_into_a_profile() -> None:
    parsed = parse_profile(valid_document(), registry())
    first, second = parsed.rules
    assert first.filters.max_distance_km == 30.0
    assert first.filters.kinds == frozenset({LocationKind.STORE})
    assert first.objective.custom == (CustomTerm("rent", 1.5),)
    assert first.split == SplitRule(SplitChoice.MAX_PARCELS, 2)
    assert first.offer == OfferPolicy(OfferMode.BROADCAST, 3, 20)
    assert first.calendar.hours == Hours(time(8), time(20))
    assert second == ProfileRule("warehouses", Filters(kinds=frozenset({LocationKind.WAREHOUSE})))


def test_a_profile_reads_back_from_its_document() -> None:
    parsed = parse_profile(valid_document(), registry())
    assert parse_profile(profile_to_data(parsed), registry()) == parsed
    priced = {**valid_document(), "price": {"amount": 390, "currency": "EUR", "free_from": 4000}}
    parsed = parse_profile(priced, registry())
    assert parsed.price == DeliveryPrice(390, "EUR", 4000)
    assert parse_profile(profile_to_data(parsed), registry()) == parsed


def test_a_profile_price_is_free_from_its_basket_amount() -> None:
    price = DeliveryPrice(490, "EUR", free_from=5000)
    assert (price.for_basket(4999), price.for_basket(5000)) == (490, 0)
    assert DeliveryPrice(990).for_basket(10**9) == 990


@pytest.mark.parametrize(
    ("price", "path"),
    [
        ({"amount": -1}, "price.amount"),
        ({"amount": 1.5}, "price.amount"),
        ({"currency": "EUR"}, "price.amount"),
        ({"amount": 100, "currency": "euro"}, "price.currency"),
        ({"amount": 100, "free_from": -5}, "price.free_from"),
        ({"amount": 100, "tax": 20}, "price.tax"),
        ("free", "price"),
    ],
)
def test_a_wrong_price_is_refused_naming_its_field(price: object, path: str) -> None:
    assert path in errors_of({**valid_document(), "price": price})


def test_a_document_shows_only_what_its_author_chose() -> None:
    bare = Profile("p", "P", "app", DeliveryMethod.CLICK_COLLECT, (ProfileRule("any"),))
    assert profile_to_data(bare) == {
        "code": "p",
        "name": "P",
        "channel": "app",
        "delivery_method": "click_collect",
        "rules": [{"name": "any"}],
    }


def errors_of(document: Mapping[str, object]) -> dict[str, str]:
    with pytest.raises(InvalidProfile) as raised:
        parse_profile(document, registry())
    return {e.path: e.message for e in raised.value.errors}


def with_rule(**fields: object) -> dict[str, object]:
    document = valid_document()
    rules = document["rules"]
    assert isinstance(rules, list)
    rules[0] = {**rules[0], **fields}
    return document


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"objective": {"cost": -1}}, "rules[0].objective.cost"),
        ({"objective": {"custom": {"rent": -2}}}, "rules[0].objective.custom.rent"),
        ({"filters": {"kinds": ["store", "shop"]}}, "rules[0].filters.kinds[1]"),
        ({"filters": {"capability": "teleport"}}, "rules[0].filters.capability"),
        ({"filters": {"max_distance_km": -5}}, "rules[0].filters.max_distance_km"),
        ({"filters": {"max_distance_km": "far"}}, "rules[0].filters.max_distance_km"),
        ({"filters": {"custom": ["moon_phase"]}}, "rules[0].filters.custom[0]"),
        ({"filters": {"custom": ["rent"]}}, "rules[0].filters.custom[0]"),
        ({"objective": {"custom": {"moon_phase": 1}}}, "rules[0].objective.custom.moon_phase"),
        ({"filters": {"radius": 3}}, "rules[0].filters.radius"),
        ({"split": {"mode": "max_parcels", "max_parcels": 0}}, "rules[0].split.max_parcels"),
        ({"split": {"mode": "max_parcels"}}, "rules[0].split.max_parcels"),
        ({"split": {"mode": "sometimes"}}, "rules[0].split.mode"),
        ({"offer": {"mode": "broadcast", "stores": 0, "minutes": 5}}, "rules[0].offer.stores"),
        ({"offer": {"mode": "auto_claim", "minutes": 5}}, "rules[0].offer.minutes"),
        ({"calendar": {"timezone": "Mars/Olympus"}}, "rules[0].calendar.timezone"),
        ({"calendar": {"weekdays": ["fri", "caturday"]}}, "rules[0].calendar.weekdays[1]"),
        ({"calendar": {"hours": {"from": "25:00", "to": "02:00"}}}, "rules[0].calendar.hours.from"),
        (
            {"calendar": {"period": {"from": "2027-02-09", "to": "2027-01-13"}}},
            "rules[0].calendar.period.to",
        ),
    ],
)
def test_a_bad_rule_field_is_refused_by_its_path(rule: dict[str, object], path: str) -> None:
    assert path in errors_of(with_rule(**rule))


def test_a_profile_needs_at_least_one_rule() -> None:
    assert errors_of({**valid_document(), "rules": []}) == {"rules": "must hold at least one rule"}


def test_duplicate_rule_names_are_refused() -> None:
    errors = errors_of(with_rule(name="warehouses"))
    assert errors == {"rules[1].name": "duplicate rule name (also rules[0])"}


def test_every_error_is_named_at_once() -> None:
    document = {**with_rule(objective={"days": -1}), "channel": "fax", "delivery_method": "drone"}
    del document["code"]
    assert sorted(errors_of(document)) == [
        "channel",
        "code",
        "delivery_method",
        "rules[0].objective.days",
    ]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3)
    ),
    max_leaves=12,
)


def mutated_documents() -> st.SearchStrategy[dict[str, object]]:
    """A valid document with one field, at any depth of its first rule, replaced by junk."""
    rule_fields = st.sampled_from(["filters", "objective", "split", "offer", "calendar", "name"])
    return st.builds(lambda key, junk: with_rule(**{key: junk}), rule_fields, JSON)


@settings(max_examples=200, deadline=None)
@given(document=JSON | mutated_documents())
def test_any_document_parses_or_is_refused_with_named_fields(document: object) -> None:
    try:
        parse_profile(document, registry())  # type: ignore[arg-type]
    except InvalidProfile as refused:
        errors = refused.errors
    else:
        return
    assert errors
    assert all(e.path and e.message for e in errors)


def test_non_finite_numbers_are_refused() -> None:
    errors = errors_of(with_rule(filters={"max_distance_km": float("inf")}))
    assert errors == {"rules[0].filters.max_distance_km": "must be a finite number"}


# Property: screening partitions the locations, for reasons that hold


def kept_stock(
    filters: Filters, item: LocationFacts, basket: Sequence[BasketLine]
) -> dict[str, int]:
    kept = filters.min_stock_kept if item.location.kind is LocationKind.STORE else 0
    return {line.sku: max(0, item.atp.get(line.sku, 0) - kept) for line in basket}


def violated(
    filters: Filters, item: LocationFacts, promised: date, basket: Sequence[BasketLine]
) -> set[FilterReason]:
    """The filters a location fails, computed independently of the screening code."""
    place, distance = item.location, item.distance_km or 0.0
    usable = kept_stock(filters, item, basket)
    tests = {
        FilterReason.LOCATION_INACTIVE: not place.active,
        FilterReason.KIND: bool(filters.kinds) and place.kind not in filters.kinds,
        FilterReason.CAPABILITY: filters.capability is not None
        and filters.capability not in place.capabilities,
        FilterReason.TAGS_IN: not filters.tags_in <= place.tags,
        FilterReason.TAGS_OUT: bool(filters.tags_out & place.tags),
        FilterReason.MAX_DISTANCE: filters.max_distance_km is not None
        and distance > filters.max_distance_km,
        FilterReason.CAPACITY: filters.min_capacity_left is not None
        and item.capacity_left is not None
        and item.capacity_left < filters.min_capacity_left,
        FilterReason.NO_STOCK: all(item.atp.get(line.sku, 0) <= 0 for line in basket),
        FilterReason.MIN_STOCK_KEPT: not any(usable.values()),
        FilterReason.PROMISE: filters.promise_tolerance_days is not None
        and (
            item.delivery_date is None
            or item.delivery_date > promised + timedelta(days=filters.promise_tolerance_days)
        ),
    }
    failed = {reason for reason, fails in tests.items() if fails}
    if filters.carrier_reachable and not _carried(usable, distance, basket):
        failed.add(FilterReason.CARRIER)
    return failed


def _carried(usable: Mapping[str, int], distance: float, basket: Sequence[BasketLine]) -> bool:
    contents = sum(min(line.quantity, usable[line.sku]) * line.weight_g for line in basket)
    weight = contents + packaging_weight_g(contents)
    return any(check_carriage(s, weight, distance) is None for s in PARCEL_SERVICES)


PARCEL_SERVICES = [s for s in SERVICES if s.max_weight_g <= 30_000]
"""Without the pallet service, so that a parcel's weight decides as often as its distance."""
TAGS = st.frozensets(st.sampled_from(["a", "b"]), max_size=1)
DAY = date(2026, 11, 27)
T = TypeVar("T")


def mostly(default: T, other: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """A filter left off, or a location fit, more often than not: so the later filters decide."""
    return st.one_of(st.just(default), st.just(default), other)


ATP = st.fixed_dictionaries({"A": st.integers(0, 6), "B": st.integers(0, 6)})


@st.composite
def location_facts(draw: st.DrawFn, code: str) -> LocationFacts:
    place = location(
        code,
        draw(st.sampled_from(LocationKind)),
        capabilities=draw(
            mostly(frozenset(Capability), st.frozensets(st.sampled_from(Capability)))
        ),
        tags=draw(TAGS),
        active=draw(mostly(True, st.booleans())),
    )
    return LocationFacts(
        place,
        draw(ATP | st.dictionaries(st.sampled_from(["A", "B"]), st.integers(0, 6))),
        capacity_left=draw(st.none() | st.integers(0, 5)),
        distance_km=draw(st.floats(0, 1_500)),
        delivery_date=draw(st.none() | st.dates(DAY, DAY + timedelta(days=5))),
    )


FILTERS = st.builds(
    Filters,
    kinds=mostly(frozenset(), st.frozensets(st.sampled_from(LocationKind), min_size=1)),
    capability=mostly(None, st.sampled_from(Capability)),
    tags_in=mostly(frozenset(), TAGS),
    tags_out=mostly(frozenset(), TAGS),
    max_distance_km=mostly(None, st.floats(0, 1_500)),
    min_capacity_left=mostly(None, st.integers(0, 5)),
    min_stock_kept=st.integers(0, 4),
    carrier_reachable=st.booleans(),
    promise_tolerance_days=mostly(None, st.integers(0, 3)),
)


@settings(max_examples=300, deadline=None)
@given(
    filters=FILTERS,
    locations=st.lists(st.integers(0, 30), unique=True, max_size=8).flatmap(
        lambda ids: st.tuples(*(location_facts(f"L{i:02d}") for i in ids))
    ),
    quantities=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    weight=st.integers(1, 2_000) | st.integers(9_000, 16_000),
)
def test_every_location_is_a_candidate_or_excluded_for_a_reason_that_holds(
    filters: Filters,
    locations: tuple[LocationFacts, ...],
    quantities: tuple[int, int],
    weight: int,
) -> None:
    basket = (BasketLine("A", quantities[0], weight), BasketLine("B", quantities[1], 100))
    rule = ProfileRule("r", filters)
    result = screen_locations(
        rule, HOME, basket, locations, NOW, services=PARCEL_SERVICES, promised=DAY
    )
    by_code = {f.location.code: f for f in locations}
    excluded = {e.location: e.reason for e in result.excluded}
    assert not set(codes(result)) & set(excluded)
    assert set(codes(result)) | set(excluded) == set(by_code)
    for candidate in result.candidates:
        assert violated(filters, by_code[candidate.location], DAY, basket) == set()
        assert candidate.stock == kept_stock(filters, by_code[candidate.location], basket)
    for code, reason in excluded.items():
        assert reason in violated(filters, by_code[code], DAY, basket)


def test_filters_fields_are_all_in_the_property() -> None:
    """A filter added to `Filters` must be added to `violated` (custom ones have their tests)."""
    checked = {
        "kinds",
        "capability",
        "tags_in",
        "tags_out",
        "max_distance_km",
        "min_capacity_left",
        "min_stock_kept",
        "carrier_reachable",
        "carrier_services",
        "promise_tolerance_days",
        "custom",
    }
    assert set(Filters.__dataclass_fields__) == checked


@settings(max_examples=200, deadline=None)
@given(
    filters=FILTERS,
    split=st.builds(SplitRule, st.sampled_from(SplitChoice), st.integers(1, 5)),
    offer=st.builds(
        OfferPolicy, st.just(OfferMode.BROADCAST), st.integers(1, 9), st.integers(1, 60)
    )
    | st.just(OfferPolicy()),
)
def test_every_profile_reads_back_from_its_document(
    filters: Filters, split: SplitRule, offer: OfferPolicy
) -> None:
    if split.choice is not SplitChoice.MAX_PARCELS:
        split = SplitRule(split.choice)
    rule = ProfileRule("r", filters, split=split, offer=offer)
    written = Profile("p", "P", "marketplace:zalando", DeliveryMethod.HOME_EXPRESS, (rule,))
    assert parse_profile(profile_to_data(written)) == written
