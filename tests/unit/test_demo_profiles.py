"""The demo's sourcing profiles are valid documents that say what their docstring says."""

from __future__ import annotations

from openoms.demo.profiles import demo_profiles
from openoms.domain.network import LocationKind
from openoms.domain.profiles import OfferMode, parse_profile


def test_demo_profiles_parse_and_try_warehouses_first() -> None:
    profiles = [parse_profile(document) for document in demo_profiles()]
    assert {p.delivery_method.value for p in profiles} == {
        "home_standard",
        "home_express",
        "click_collect",
        "express_collect",
    }
    for profile in profiles:
        if profile.delivery_method.value != "home_standard":
            continue
        first, nearby, anywhere = profile.rules
        assert first.filters.kinds == frozenset({LocationKind.WAREHOUSE})
        assert first.offer.mode is OfferMode.AUTO_CLAIM
        assert nearby.offer.mode is OfferMode.BROADCAST
        assert nearby.filters.min_stock_kept == 1
        assert anywhere.filters.max_distance_km is None


def test_express_collect_is_served_from_the_pickup_stores_shelf_only() -> None:
    profiles = [parse_profile(document) for document in demo_profiles()]
    for profile in profiles:
        if profile.delivery_method.value == "express_collect":
            [shelf] = profile.rules
            assert shelf.filters.kinds == frozenset({LocationKind.STORE})
            assert shelf.filters.max_distance_km == 0.5
