"""Sourcing dry runs over the API: the plan a live profile chooses, and a given plan's score."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import World

PROFILE: dict[str, Any] = {
    "code": "web-home",
    "name": "Web, home delivery",
    "channel": "web",
    "delivery_method": "home_standard",
    "rules": [
        {"name": "warehouses", "filters": {"kinds": ["warehouse"]}},
        {"name": "stores", "filters": {"kinds": ["store"]}},
    ],
}

EVERY_DAY = {
    day: [{"opens": "00:00", "closes": "23:59"}]
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}

LYON = {"latitude": 45.76, "longitude": 4.86, "country": "FR"}


def open_location(world: World, code: str, kind: str) -> None:
    """The conftest locations have no opening hours: no carrier could collect there."""
    body = {
        "code": code,
        "name": code.title(),
        "kind": kind,
        "latitude": 48.85,
        "longitude": 2.35,
        "timezone": "Europe/Paris",
        "opening_hours": {"weekly": EVERY_DAY},
        "capabilities": ["ship"],
        "daily_capacity": 100,
        "preparation_minutes": 30,
        "handling_cost": 200,
    }
    answer = world.client.put(f"/v1/locations/{code}", json=body, headers=world.admin)
    assert answer.status_code == 200, answer.text


def set_stock(world: World, rows: list[tuple[str, str, int]]) -> None:
    as_of = datetime.now(UTC).isoformat()
    body = {
        "rows": [
            {"location": loc, "sku": sku, "on_hand": n, "as_of": as_of} for loc, sku, n in rows
        ]
    }
    answer = world.client.post("/v1/stock/snapshots", json=body, headers=world.admin)
    assert answer.status_code == 200, answer.text


def publish(world: World, document: dict[str, Any] = PROFILE) -> None:
    saved = world.client.post("/v1/profiles", json=document, headers=world.admin)
    assert saved.status_code == 201, saved.text
    code = document["code"]
    published = world.client.post(f"/v1/profiles/{code}/versions/1/publish", headers=world.admin)
    assert published.status_code == 200, published.text


def ready(world: World, rows: list[tuple[str, str, int]]) -> None:
    publish(world)
    open_location(world, "WH1", "warehouse")
    open_location(world, "ST1", "store")
    open_location(world, "ST2", "store")
    set_stock(world, rows)


def basket(*lines: tuple[str, str, int], method: str = "home_standard") -> dict[str, Any]:
    return {
        "channel": "web",
        "delivery_method": method,
        "lines": [{"line_id": i, "sku": s, "quantity": q} for i, s, q in lines],
        "destination": LYON,
    }


def plan(world: World, body: dict[str, Any]) -> dict[str, Any]:
    answer = world.client.post("/v1/sourcing/plan", json=body, headers=world.channel)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def exclusions(result: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(e["location"], e["rule"], e["reason"]) for e in result["excluded"]}


def test_the_first_rule_serves_when_it_can(world: World) -> None:
    ready(world, [("WH1", "A", 5), ("ST1", "A", 5)])
    result = plan(world, basket(("1", "A", 2)))
    assert result["rule"] == "warehouses"
    shipments = result["plan"]["shipments"]
    assert [(s["location"], s["allocations"][0]["units"]) for s in shipments] == [("WH1", 2)]
    assert shipments[0]["parcels"] == 1
    assert shipments[0]["cost"] > 0
    assert result["plan"]["breakdown"]["objective"] == shipments[0]["cost"]
    assert ("ST1", "warehouses", "kind") in exclusions(result)
    assert [a["rule"] for a in result["attempts"]] == ["warehouses"]
    assert result["exact"] is True


def test_the_next_rule_serves_when_the_first_cannot_and_the_record_says_why(
    world: World,
) -> None:
    ready(world, [("WH1", "A", 1), ("ST1", "A", 5)])
    result = plan(world, basket(("1", "A", 3)))
    assert result["rule"] == "stores"
    assert result["plan"]["shipments"][0]["location"] == "ST1"
    excluded = exclusions(result)
    assert ("ST1", "warehouses", "kind") in excluded
    assert ("WH1", "stores", "kind") in excluded
    assert ("ST2", "stores", "no_stock") in excluded
    assert [(a["rule"], a["found"]) for a in result["attempts"]] == [
        ("warehouses", False),
        ("stores", True),
    ]
    assert result["attempts"][0]["shortfall"] == [{"line_id": "1", "units": 2}]


def test_a_location_no_carrier_can_collect_from_is_excluded_with_the_reason(
    world: World,
) -> None:
    publish(world)
    open_location(world, "ST1", "store")
    set_stock(world, [("WH1", "A", 5), ("ST1", "A", 5)])
    result = plan(world, basket(("1", "A", 1)))
    assert result["rule"] == "stores"
    wh1 = [e for e in result["excluded"] if e["location"] == "WH1" and e["rule"] == "warehouses"]
    assert [e["reason"] for e in wh1] == ["carrier"]
    assert "opening hours" in wh1[0]["detail"]


def test_no_plan_under_any_rule_is_an_answer_with_the_shortfall(world: World) -> None:
    ready(world, [("WH1", "A", 1), ("ST1", "A", 1)])
    result = plan(world, basket(("1", "A", 4)))
    assert (result["rule"], result["plan"]) == (None, None)
    assert result["shortfall"] == [{"line_id": "1", "units": 3}]
    assert [a["rule"] for a in result["attempts"]] == ["warehouses", "stores"]


def test_no_live_profile_for_the_channel_and_method_is_a_404(world: World) -> None:
    ready(world, [("WH1", "A", 5)])
    answer = world.client.post(
        "/v1/sourcing/plan",
        json=basket(("1", "A", 1), method="home_express"),
        headers=world.channel,
    )
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


def test_an_unknown_sku_is_a_422_naming_the_line(world: World) -> None:
    ready(world, [("WH1", "A", 5)])
    for path in ("/v1/sourcing/plan", "/v1/sourcing/score"):
        body = {
            **basket(("1", "A", 1), ("2", "NOPE", 1)),
            "allocations": [{"line_id": "1", "location": "WH1", "units": 1}],
        }
        if path.endswith("plan"):
            del body["allocations"]
        answer = world.client.post(path, json=body, headers=world.channel)
        assert answer.status_code == 422, answer.text
        assert [e["field"] for e in answer.json()["errors"]] == ["lines[1].sku"]


def test_invalid_bodies_name_their_fields(world: World) -> None:
    ready(world, [("WH1", "A", 5)])
    cases = [
        ({**basket(("1", "A", 0))}, "lines[0].quantity"),
        (
            {**basket(("1", "A", 1)), "destination": {"latitude": 99, "longitude": 2}},
            "destination.latitude",
        ),
        ({**basket(("1", "A", 1)), "delivery_method": "teleport"}, "delivery_method"),
        ({**basket(("1", "A", 1), ("1", "B", 1))}, "lines[1].line_id"),
        ({**basket(), "lines": []}, "lines"),
    ]
    for body, field in cases:
        answer = world.client.post("/v1/sourcing/plan", json=body, headers=world.channel)
        assert answer.status_code == 422, (field, answer.text)
        assert field in {e["field"] for e in answer.json()["errors"]}, answer.text


def test_a_carrier_key_may_not_plan(world: World) -> None:
    ready(world, [("WH1", "A", 5)])
    answer = world.client.post(
        "/v1/sourcing/plan", json=basket(("1", "A", 1)), headers=world.carrier
    )
    assert answer.status_code == 403


def test_the_chosen_plan_scores_its_own_objective(world: World) -> None:
    ready(world, [("WH1", "A", 5), ("WH1", "B", 5), ("ST1", "A", 5)])
    body = basket(("1", "A", 2), ("2", "B", 1))
    chosen = plan(world, body)
    allocations = [a for s in chosen["plan"]["shipments"] for a in s["allocations"]]
    answer = world.client.post(
        "/v1/sourcing/score", json={**body, "allocations": allocations}, headers=world.channel
    )
    assert answer.status_code == 200, answer.text
    scored = answer.json()
    assert (scored["rule"], scored["valid"], scored["violations"]) == ("warehouses", True, [])
    assert scored["plan"]["breakdown"] == chosen["plan"]["breakdown"]


def test_a_plan_taking_more_than_atp_reports_the_stock_violation(world: World) -> None:
    ready(world, [("WH1", "A", 5)])
    body = {
        **basket(("1", "A", 8)),
        "allocations": [{"line_id": "1", "location": "WH1", "units": 8}],
    }
    answer = world.client.post("/v1/sourcing/score", json=body, headers=world.channel)
    assert answer.status_code == 200, answer.text
    scored = answer.json()
    assert scored["valid"] is False
    assert [(v["rule"], v["violation"], v["subject"]) for v in scored["violations"]] == [
        ("warehouses", "stock", "WH1")
    ]
    assert "5 available" in scored["violations"][0]["detail"]


def test_a_plan_at_a_location_the_rule_excludes_names_the_filter(world: World) -> None:
    ready(world, [("WH1", "A", 5), ("ST1", "A", 5)])
    allocations = [{"line_id": "1", "location": "ST1", "units": 1}]
    body = {**basket(("1", "A", 1)), "allocations": allocations}
    scored = world.client.post("/v1/sourcing/score", json=body, headers=world.channel).json()
    violations = {(v["violation"], v["subject"], v["filter"]) for v in scored["violations"]}
    assert ("not_a_candidate", "ST1", "kind") in violations
    under_stores = world.client.post(
        "/v1/sourcing/score", json={**body, "rule": "stores"}, headers=world.channel
    ).json()
    assert (under_stores["rule"], under_stores["valid"]) == ("stores", True)
    unknown = world.client.post(
        "/v1/sourcing/score", json={**body, "rule": "nowhere"}, headers=world.channel
    )
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.json()["errors"]] == ["rule"]


near_lines = st.lists(
    st.fixed_dictionaries(
        {
            "line_id": st.sampled_from(["1", "2", "3"]),
            "sku": st.sampled_from(["A", "A", "B", "C", "NOPE"]),
            "quantity": st.integers(1, 8) | st.integers(-1, 12_000),
        }
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda line: line["line_id"],
)
near_allocations = st.lists(
    st.fixed_dictionaries(
        {
            "line_id": st.sampled_from(["1", "2", "9"]),
            "location": st.sampled_from(["WH1", "ST1", "ST2", "SUP1", "NOWHERE"]),
            "units": st.integers(1, 8) | st.integers(-1, 12_000),
        }
    ),
    min_size=1,
    max_size=4,
)
near_bodies = st.fixed_dictionaries(
    {
        "channel": st.just("web") | st.sampled_from(["app", ""]),
        "delivery_method": st.just("home_standard") | st.sampled_from(["home_express", "x"]),
        "lines": near_lines,
        "destination": st.fixed_dictionaries(
            {
                "latitude": st.floats(43, 50) | st.floats(-100, 100, allow_nan=False),
                "longitude": st.floats(-1, 7) | st.floats(-180, 180),
                "country": st.sampled_from(["FR", "DE", "US"]),
            }
        ),
        "allocations": near_allocations,
        "rule": st.sampled_from(["warehouses", "stores", "nowhere"]) | st.none(),
    }
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=near_bodies)
def test_almost_right_bodies_never_answer_500(world: World, body: dict[str, Any]) -> None:
    if not world.client.get("/v1/profiles/web-home", headers=world.admin).is_success:
        ready(world, [("WH1", "A", 5), ("ST1", "A", 2), ("ST1", "B", 3)])
    plan_body = {k: v for k, v in body.items() if k not in ("allocations", "rule")}
    for path, sent in (("/v1/sourcing/plan", plan_body), ("/v1/sourcing/score", body)):
        answer = world.client.post(path, json=sent, headers=world.channel)
        assert answer.status_code < 500, answer.text
        if answer.status_code >= 400:
            assert answer.headers["content-type"] == "application/problem+json"


def test_a_rule_with_a_promise_tolerance_leaves_out_locations_that_would_deliver_late(
    world: World,
) -> None:
    kept = {
        **PROFILE,
        "rules": [
            {"name": "on time", "filters": {"kinds": ["warehouse"], "promise_tolerance_days": 0}},
            {"name": "stores", "filters": {"kinds": ["store"]}},
        ],
    }
    publish(world, kept)
    open_location(world, "WH1", "warehouse")
    open_location(world, "ST1", "store")
    set_stock(world, [("WH1", "A", 5), ("ST1", "A", 5)])
    relaxed = plan(world, {**basket(("1", "A", 1)), "promised_date": "2099-12-31"})
    assert relaxed["rule"] == "on time"
    late = plan(world, {**basket(("1", "A", 1)), "promised_date": "2000-01-03"})
    assert late["rule"] == "stores"
    [why] = [e for e in late["excluded"] if e["location"] == "WH1" and e["rule"] == "on time"]
    assert why["reason"] == "promise"
    assert "after 2000-01-03" in why["detail"]
