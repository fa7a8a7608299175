"""Roles and scopes: every endpoint checks them."""

from __future__ import annotations

from tests.conftest import NOW, World

SNAPSHOT = {"location": "ST2", "sku": "A", "on_hand": 3, "as_of": NOW.isoformat()}


def test_no_key_or_an_unknown_key_is_a_401_problem(world: World) -> None:
    assert world.client.get("/v1/locations").status_code == 401
    answer = world.client.get("/v1/locations", headers={"Authorization": "Bearer oms_nope"})
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"


def test_a_store_key_cannot_read_another_stores_stock(world: World) -> None:
    assert world.client.get("/v1/locations/ST1/stock", headers=world.store1).status_code == 200
    answer = world.client.get("/v1/locations/ST2/stock", headers=world.store1)
    assert answer.status_code == 403
    assert answer.json()["code"] == "forbidden"


def test_a_store_key_cannot_feed_another_stores_stock(world: World) -> None:
    own = {**SNAPSHOT, "location": "ST1"}
    answer = world.client.post(
        "/v1/stock/snapshots", json={"rows": [own, SNAPSHOT]}, headers=world.store1
    )
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["field"] == "rows[1].location"
    stock = world.client.get("/v1/locations/ST1/stock", headers=world.store1).json()
    assert stock["items"] == []


def test_channel_and_carrier_keys_cannot_feed_stock_or_change_the_network(world: World) -> None:
    for headers in (world.channel, world.carrier):
        assert (
            world.client.post(
                "/v1/stock/snapshots", json={"rows": [SNAPSHOT]}, headers=headers
            ).status_code
            == 403
        )
        assert world.client.delete("/v1/locations/ST1", headers=headers).status_code == 403


def test_carrier_key_cannot_read_availability(world: World) -> None:
    answer = world.client.get("/v1/channels/web/availability/A", headers=world.carrier)
    assert answer.status_code == 403


def test_only_admin_makes_keys_and_a_revoked_key_stops_working(world: World) -> None:
    refused = world.client.post(
        "/v1/keys", json={"name": "x", "role": "admin"}, headers=world.channel
    )
    assert refused.status_code == 403
    made = world.client.post(
        "/v1/keys", json={"name": "pos", "role": "store", "location": "ST2"}, headers=world.admin
    ).json()
    headers = {"Authorization": f"Bearer {made['secret']}"}
    assert world.client.get("/v1/locations/ST2/stock", headers=headers).status_code == 200
    world.client.delete(f"/v1/keys/{made['id']}", headers=world.admin)
    assert world.client.get("/v1/locations/ST2/stock", headers=headers).status_code == 401


def test_a_store_key_needs_a_known_location(world: World) -> None:
    for body, field in (
        ({"name": "x", "role": "store"}, "location"),
        ({"name": "x", "role": "store", "location": "NOWHERE"}, "location"),
        ({"name": "x", "role": "channel", "location": "ST1"}, "location"),
        ({"name": "x", "role": "emperor"}, "role"),
    ):
        answer = world.client.post("/v1/keys", json=body, headers=world.admin)
        assert answer.status_code == 422, body
        assert answer.json()["errors"][0]["field"] == field
