"""The delivery promise over the API: options with price, date and carbon, and what is missing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openoms.api.deps import get_now
from openoms.domain.calendars import is_public_holiday, local_instant
from openoms.domain.profiles import installed_criteria
from openoms.services import promise
from openoms.services.promise import place_city
from openoms.services.sourcing import RequestedLine
from openoms.services.sourcing_view import SourcingView
from tests.conftest import World
from tests.integration.test_sourcing_api import EVERY_DAY, PROFILE, publish, set_stock

LYON = {"latitude": 45.76, "longitude": 4.86}
PARIS = ZoneInfo("Europe/Paris")

CLICK_COLLECT: dict[str, Any] = {
    "code": "web-collect",
    "name": "Web, click & collect",
    "channel": "web",
    "delivery_method": "click_collect",
    "rules": [{"name": "stores", "filters": {"kinds": ["store"]}}],
}


def put_location(
    world: World, code: str, kind: str, capabilities: list[str], hours: Any = EVERY_DAY
) -> None:
    """Open every day by default, so that a store is open whenever the test runs."""
    body = {
        "code": code,
        "name": code.title(),
        "kind": kind,
        "latitude": 48.85,
        "longitude": 2.35,
        "timezone": "Europe/Paris",
        "opening_hours": {"weekly": hours},
        "capabilities": capabilities,
        "daily_capacity": 100,
        "preparation_minutes": 30,
        "handling_cost": 200,
    }
    answer = world.client.put(f"/v1/locations/{code}", json=body, headers=world.admin)
    assert answer.status_code == 200, answer.text


def network(world: World, rows: list[tuple[str, str, int]]) -> None:
    """WH1 ships; ST1 offers click & collect; ST2 also express collect."""
    put_location(world, "WH1", "warehouse", ["ship"])
    put_location(world, "ST1", "store", ["ship", "click_collect"])
    put_location(world, "ST2", "store", ["ship", "click_collect", "express_collect"])
    publish(world, PROFILE)
    set_stock(world, rows)


def ask(world: World, *lines: tuple[str, str, int], **extra: Any) -> dict[str, Any]:
    body = {
        "channel": "web",
        "lines": [{"line_id": i, "sku": s, "quantity": q} for i, s, q in lines],
        "destination": LYON,
        **extra,
    }
    answer = world.client.post("/v1/promise", json=body, headers=world.channel)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def options(result: dict[str, Any], method: str) -> list[dict[str, Any]]:
    return [o for o in result["options"] if o["method"] == method]


def unavailable(result: dict[str, Any], method: str) -> list[dict[str, Any]]:
    return [u for u in result["unavailable"] if u["method"] == method]


def a_weekday_morning() -> datetime:
    """09:00 in Paris on the next working weekday after today: profiles published now are live
    then, and the carriers collect that day."""
    day = datetime.now(UTC).astimezone(PARIS).date() + timedelta(days=1)
    while day.weekday() >= 5 or is_public_holiday(day, "FR"):
        day += timedelta(days=1)
    return local_instant(day, time(9, 0), PARIS)


@pytest.fixture(autouse=True)
def morning(world: World) -> Iterator[datetime]:
    """The API's clock is a weekday morning, whenever the tests run: the answers depend on
    opening hours and cut-offs, and a real clock near midnight would change them."""
    now = a_weekday_morning()
    app = cast(FastAPI, world.client.app)
    app.dependency_overrides[get_now] = lambda: now
    yield now
    app.dependency_overrides.clear()


def test_a_basket_in_stock_at_a_warehouse_is_offered_home_delivery_with_date_price_and_carbon(
    world: World,
) -> None:
    network(world, [("WH1", "A", 5)])
    result = ask(world, ("1", "A", 1))
    [home] = options(result, "home_standard")
    assert home["window"]["earliest"] <= home["window"]["latest"]
    assert home["window"]["earliest"] > a_weekday_morning().date().isoformat()
    assert (home["price"], home["currency"], result["basket_amount"]) == (490, "EUR", 2999)
    assert home["carbon_g"] > 0
    assert home["parcels"] == 1
    assert [s["location"] for s in home["plan"]["shipments"]] == ["WH1"]


def test_a_basket_above_the_free_threshold_ships_free(world: World) -> None:
    network(world, [("WH1", "A", 5)])
    [home] = options(ask(world, ("1", "A", 2)), "home_standard")
    assert home["price"] == 0


def test_the_live_profile_sets_the_delivery_price_of_its_channel(world: World) -> None:
    network(world, [("WH1", "A", 5)])
    priced = {**PROFILE, "price": {"amount": 350, "currency": "EUR", "free_from": 5000}}
    saved = world.client.post("/v1/profiles", json=priced, headers=world.admin)
    assert saved.status_code == 201, saved.text
    number = saved.json()["number"]
    path = f"/v1/profiles/{PROFILE['code']}/versions/{number}/publish"
    assert world.client.post(path, headers=world.admin).status_code == 200
    [home] = options(ask(world, ("1", "A", 1)), "home_standard")
    assert (home["price"], home["currency"]) == (350, "EUR")
    [home] = options(ask(world, ("1", "A", 2)), "home_standard")
    assert home["price"] == 0


def test_a_method_without_a_live_profile_is_listed_as_unavailable_not_an_error(
    world: World,
) -> None:
    network(world, [("WH1", "A", 5)])
    result = ask(world, ("1", "A", 1))
    assert options(result, "home_express") == []
    [express] = unavailable(result, "home_express")
    assert "no live sourcing profile" in express["reason"]
    assert options(result, "click_collect") == []
    assert "no live sourcing profile" in unavailable(result, "click_collect")[0]["reason"]


def test_click_and_collect_from_the_pickup_store_shelf_is_ready_without_transport(
    world: World,
) -> None:
    network(world, [("WH1", "A", 5), ("ST1", "A", 5)])
    publish(world, CLICK_COLLECT)
    [collect] = options(ask(world, ("1", "A", 1), pickup_store="ST1"), "click_collect")
    assert collect["pickup_store"] == "ST1"
    assert collect["ready_at"] is not None
    assert collect["window"] is None
    assert (collect["price"], collect["carbon_g"], collect["parcels"]) == (0, 0, 0)


def test_express_collect_is_offered_only_where_the_store_holds_every_unit(
    world: World, morning: datetime
) -> None:
    network(world, [("WH1", "A", 5), ("WH1", "B", 5), ("ST1", "A", 5), ("ST2", "A", 5)])
    result = ask(world, ("1", "A", 1), ("2", "B", 1))
    assert options(result, "express_collect") == []
    assert "lacks units of B" in unavailable(result, "express_collect")[-1]["reason"]

    set_stock(world, [("ST2", "B", 1)])
    result = ask(world, ("1", "A", 1), ("2", "B", 1))
    [express] = options(result, "express_collect")
    assert express["pickup_store"] == "ST2"
    ready_at = datetime.fromisoformat(express["ready_at"])
    assert timedelta(0) < ready_at - morning <= timedelta(minutes=30)
    assert {
        (a["location"], a["units"]) for a in express["plan"]["shipments"][0]["allocations"]
    } == {("ST2", 1)}
    not_offered = {u["pickup_store"] for u in unavailable(result, "express_collect")}
    assert not_offered == {"ST1"}


def test_express_collect_is_not_offered_before_the_store_opens(world: World) -> None:
    network(world, [("WH1", "A", 5), ("ST2", "A", 5)])
    shop_hours = {day: [{"opens": "10:00", "closes": "19:00"}] for day in EVERY_DAY}
    put_location(world, "ST2", "store", ["ship", "click_collect", "express_collect"], shop_hours)
    result = promise.promise(
        SourcingView(world.db, criteria=installed_criteria()),
        channel="web",
        lines=[RequestedLine("1", "A", 1)],
        destination=place_city("Paris"),
        now=a_weekday_morning(),
        pickup_store="ST2",
    )
    assert [o.method.value for o in result.options] == ["home_standard"]
    closed = [u for u in result.unavailable if u.method.value == "express_collect"]
    assert [(u.pickup_store, u.reason) for u in closed] == [("ST2", "ST2 is closed now")]


def test_a_city_the_geography_knows_places_the_destination(world: World) -> None:
    network(world, [("WH1", "A", 5)])
    result = ask(world, ("1", "A", 1), destination={"city": "Lyon"})
    assert options(result, "home_standard")


def test_an_unknown_city_is_a_422_naming_destination_city(world: World) -> None:
    network(world, [("WH1", "A", 5)])
    body = {
        "channel": "web",
        "lines": [{"line_id": "1", "sku": "A", "quantity": 1}],
        "destination": {"city": "Atlantis"},
    }
    for path, payload in (
        ("/v1/promise", body),
        ("/v1/promise/product", {"channel": "web", "sku": "A", "destination": {"city": "X"}}),
    ):
        answer = world.client.post(path, json=payload, headers=world.channel)
        assert answer.status_code == 422, answer.text
        assert [e["field"] for e in answer.json()["errors"]] == ["destination.city"]


def test_invalid_bodies_name_their_fields(world: World) -> None:
    network(world, [("WH1", "A", 5)])
    line = [{"line_id": "1", "sku": "A", "quantity": 1}]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"destination": {**LYON, "city": "Lyon"}}, "destination"),
        ({"destination": {"latitude": 45.0}}, "destination"),
        ({"destination": {**LYON, "country": "ZZ"}}, "destination.country"),
        ({"pickup_store": "NOPE"}, "pickup_store"),
        ({"pickup_store": "WH1"}, "pickup_store"),
        ({"lines": [{"line_id": "1", "sku": "NOPE", "quantity": 1}]}, "lines[0].sku"),
        ({"nearest": 0}, "nearest"),
    ]
    for change, field in cases:
        body: dict[str, Any] = {"channel": "web", "lines": line, "destination": LYON, **change}
        answer = world.client.post("/v1/promise", json=body, headers=world.channel)
        assert answer.status_code == 422, (field, answer.text)
        assert field in {e["field"] for e in answer.json()["errors"]}, answer.text


def test_a_carrier_key_may_not_ask_for_a_promise(world: World) -> None:
    body = {"channel": "web", "sku": "A", "destination": LYON}
    answer = world.client.post("/v1/promise/product", json=body, headers=world.carrier)
    assert answer.status_code == 403


def test_the_product_page_gives_a_window_and_the_time_left_before_the_cut_off(
    world: World,
) -> None:
    network(world, [("WH1", "A", 5)])
    now = a_weekday_morning()
    line = promise.promise_product(
        SourcingView(world.db, criteria=installed_criteria()),
        channel="web",
        sku="A",
        destination=place_city("Lyon"),
        now=now,
    )
    assert line.option is not None
    assert line.option.window is not None
    assert line.option.window.earliest > now.date()
    assert line.location == "WH1"
    assert line.cut_off == local_instant(now.astimezone(PARIS).date(), time(16, 30), PARIS)
    assert line.order_by == line.cut_off - timedelta(minutes=30)
    assert line.time_left == timedelta(hours=7)


def test_the_product_page_over_the_api_says_how_many_minutes_are_left(world: World) -> None:
    network(world, [("WH1", "A", 5)])
    body = {"channel": "web", "sku": "A", "destination": LYON}
    answer = world.client.post("/v1/promise/product", json=body, headers=world.channel)
    assert answer.status_code == 200, answer.text
    line = answer.json()
    assert line["option"]["method"] == "home_standard"
    assert line["option"]["window"]["earliest"] <= line["option"]["window"]["latest"]
    assert line["minutes_left"] > 0


near_bodies = st.fixed_dictionaries(
    {
        "channel": st.sampled_from(["web", "app", ""]),
        "lines": st.lists(
            st.fixed_dictionaries(
                {
                    "line_id": st.sampled_from(["1", "2"]),
                    "sku": st.sampled_from(["A", "B", "NOPE"]),
                    "quantity": st.one_of(st.integers(-1, 20_000), st.just("1")),
                }
            ),
            max_size=3,
        ),
        "destination": st.one_of(
            st.fixed_dictionaries(
                {
                    "latitude": st.floats(-100, 100, allow_nan=False),
                    "longitude": st.floats(-200, 200, allow_nan=False),
                    "country": st.sampled_from(["FR", "DE", "US", "ZZ", "fr"]),
                }
            ),
            st.fixed_dictionaries({"city": st.sampled_from(["Lyon", "Brest", "", "Atlantis"])}),
        ),
        "pickup_store": st.sampled_from([None, "ST1", "ST2", "WH1", "NOPE"]),
        "nearest": st.integers(-1, 30),
    }
)
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(body=near_bodies)
def test_a_promise_never_answers_500(world: World, body: dict[str, Any]) -> None:
    if not world.client.get("/v1/profiles/web-home", headers=world.admin).is_success:
        network(world, [("WH1", "A", 5), ("ST1", "A", 5), ("ST2", "B", 5)])
        publish(world, CLICK_COLLECT)
    answer = world.client.post("/v1/promise", json=body, headers=world.channel)
    assert answer.status_code < 500, answer.text
    product = {"channel": body["channel"], "sku": "A", "destination": body["destination"]}
    answer = world.client.post("/v1/promise/product", json=product, headers=world.channel)
    assert answer.status_code < 500, answer.text
