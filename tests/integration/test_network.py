"""Locations and SKUs over the API: CRUD, validation, pagination."""

from __future__ import annotations

from typing import Any

from tests.conftest import World

LYON: dict[str, Any] = {
    "code": "ST-LYON",
    "name": "Lyon Part-Dieu",
    "kind": "store",
    "latitude": 45.76,
    "longitude": 4.86,
    "timezone": "Europe/Paris",
    "address": "17 rue du Docteur Bouchut",
    "city": "Lyon",
    "postal_code": "69003",
    "opening_hours": {
        "weekly": {"mon": [{"opens": "10:00", "closes": "19:30"}]},
        "exceptions": [{"day": "2026-12-25", "ranges": []}],
    },
    "capabilities": ["ship", "click_collect"],
    "daily_capacity": 40,
    "preparation_minutes": 45,
    "handling_cost": 350,
    "tags": ["region:84", "size:large"],
}


def test_create_read_replace_and_deactivate_a_location(world: World) -> None:
    created = world.client.post("/v1/locations", json=LYON, headers=world.admin)
    assert created.status_code == 201, created.text
    again = world.client.post("/v1/locations", json=LYON, headers=world.admin)
    assert again.status_code == 409
    read = world.client.get("/v1/locations/ST-LYON", headers=world.channel).json()
    assert read["opening_hours"]["exceptions"] == [{"day": "2026-12-25", "ranges": []}]
    assert read["opening_hours"]["weekly"]["mon"] == [{"opens": "10:00:00", "closes": "19:30:00"}]
    replaced = world.client.put(
        "/v1/locations/ST-LYON", json={**LYON, "daily_capacity": 60}, headers=world.admin
    )
    assert replaced.json()["daily_capacity"] == 60
    assert world.client.delete("/v1/locations/ST-LYON", headers=world.admin).status_code == 204
    assert world.client.get("/v1/locations/ST-LYON", headers=world.admin).json()["active"] is False


def test_invalid_locations_are_refused_naming_the_field(world: World) -> None:
    cases = [
        ({**LYON, "kind": "castle"}, "kind"),
        ({**LYON, "latitude": 200}, "latitude"),
        ({**LYON, "timezone": "Mars/Olympus"}, "timezone"),
        ({**LYON, "capabilities": ["teleport"]}, "capabilities[0]"),
        ({**LYON, "daily_capacity": -1}, "daily_capacity"),
        ({**LYON, "code": "has space"}, "code"),
        ({**LYON, "code": "X" * 65}, "code"),
        (
            {**LYON, "opening_hours": {"weekly": {"mon": [{"opens": "19:00", "closes": "10:00"}]}}},
            "opening_hours.weekly.mon[0]",
        ),
        ({**LYON, "opening_hours": {"weekly": {"someday": []}}}, "opening_hours.weekly.someday"),
        ({**LYON, "name": "Lyon\x00"}, "name"),
        ({**LYON, "tags": ["a\x07"]}, "tags[0]"),
    ]
    for body, field in cases:
        answer = world.client.post("/v1/locations", json=body, headers=world.admin)
        assert answer.status_code == 422, (field, answer.text)
        fields = [e["field"] for e in answer.json()["errors"]]
        assert any(f.startswith(field) for f in fields), (field, fields)
    assert world.client.get("/v1/locations/ST-LYON", headers=world.admin).status_code == 404


def test_put_with_a_code_that_is_not_the_paths_is_refused(world: World) -> None:
    answer = world.client.put("/v1/locations/OTHER", json=LYON, headers=world.admin)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "code"


def test_locations_page_with_a_cursor(world: World) -> None:
    first = world.client.get("/v1/locations", params={"limit": 2}, headers=world.admin).json()
    assert [i["code"] for i in first["items"]] == ["ST1", "ST2"]
    second = world.client.get(
        "/v1/locations", params={"limit": 2, "cursor": first["next_cursor"]}, headers=world.admin
    ).json()
    assert [i["code"] for i in second["items"]] == ["SUP1", "WH1"]
    kind = world.client.get("/v1/locations", params={"kind": "warehouse"}, headers=world.admin)
    assert [i["code"] for i in kind.json()["items"]] == ["WH1"]


def test_skus_create_read_and_refuse_bad_input(world: World) -> None:
    body = {"code": "TSHIRT-M", "name": "T-shirt M", "weight_g": 180, "price": 1499}
    assert world.client.post("/v1/skus", json=body, headers=world.admin).status_code == 201
    assert world.client.get("/v1/skus/TSHIRT-M", headers=world.channel).json()["price"] == 1499
    for bad, field in (
        ({**body, "price": -5}, "price"),
        ({**body, "weight_g": "heavy"}, "weight_g"),
        ({**body, "currency": "euro"}, "currency"),
        ({k: v for k, v in body.items() if k != "name"}, "name"),
    ):
        answer = world.client.post("/v1/skus", json={**bad, "code": "NEW"}, headers=world.admin)
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["field"] == field
    assert world.client.get("/v1/skus/NEW", headers=world.admin).status_code == 404


def test_unknown_route_and_method_answer_problems(world: World) -> None:
    missing = world.client.get("/v1/nothing", headers=world.admin)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = world.client.patch("/v1/locations/ST1", headers=world.admin)
    assert wrong.status_code == 405
