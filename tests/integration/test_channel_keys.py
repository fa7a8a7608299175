"""A channel key may be scoped to one channel: it sells, reads and follows that channel only."""

from __future__ import annotations

from typing import Any

from openoms.services import keys
from openoms.services.keys import Role
from tests.conftest import NOW, World, eventually
from tests.integration.test_orders import network, order_body

LYON = {"latitude": 45.76, "longitude": 4.86}


def scoped(world: World, channel: str) -> dict[str, str]:
    made = keys.create_key(
        world.db, name=channel, role=Role.CHANNEL, location=None, channel=channel, now=NOW
    )
    return {"Authorization": f"Bearer {made.secret}"}


def order(world: World, headers: dict[str, str], key: str, **extra: Any) -> Any:
    body = order_body(("1", "A", 1), **extra)
    return world.client.post("/v1/orders", json=body, headers={**headers, "Idempotency-Key": key})


def test_a_key_scoped_to_a_channel_reads_that_channel_only(world: World) -> None:
    web = scoped(world, "web")
    assert world.client.get("/v1/channels/web/availability/A", headers=web).status_code == 200
    for path in ("/v1/channels/app/availability/A", "/v1/channels/app/changes"):
        answer = world.client.get(path, headers=web)
        assert answer.status_code == 403, path
        assert "acts for channel 'web'" in answer.json()["detail"]
    many = world.client.post("/v1/channels/app/availability", json={"skus": ["A"]}, headers=web)
    assert many.status_code == 403
    asked = {"channel": "app", "sku": "A", "destination": LYON}
    answer = world.client.post("/v1/promise/product", json=asked, headers=web)
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["field"] == "channel"


def test_a_scoped_key_places_and_sees_orders_of_its_channel_only(world: World) -> None:
    network(world, [("WH1", "A", 5)])
    web, app = scoped(world, "web"), scoped(world, "app")
    placed = order(world, web, "k1")
    assert placed.status_code == 201, placed.text
    refused = order(world, web, "k2", channel="app")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["field"] == "channel"
    path = f"/v1/orders/{placed.json()['id']}"
    assert world.client.get(path, headers=web).status_code == 200
    assert world.client.get(path, headers=app).status_code == 404
    assert world.client.post(f"{path}/cancel", headers=app).status_code == 404
    assert world.client.get("/v1/orders", headers=app).json()["items"] == []
    listed = world.client.get("/v1/orders", headers=web).json()["items"]
    assert [o["id"] for o in listed] == [placed.json()["id"]]
    assert world.client.get("/v1/orders?channel=app", headers=web).status_code == 403
    # an unscoped channel key still acts for every channel, as before
    assert world.client.get(path, headers=world.channel).status_code == 200


def test_only_channel_keys_are_scoped_to_a_channel(world: World) -> None:
    body = {"name": "till", "role": "store", "location": "ST1", "channel": "web"}
    answer = world.client.post("/v1/keys", json=body, headers=world.admin)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "channel"
    body = {"name": "shop", "role": "channel", "channel": "web"}
    made = world.client.post("/v1/keys", json=body, headers=world.admin)
    assert made.status_code == 201, made.text
    assert made.json()["channel"] == "web"
    listed = world.client.get("/v1/keys", headers=world.admin).json()
    assert {k["channel"] for k in listed if k["name"] == "shop"} == {"web"}


def test_a_scoped_key_sees_the_fulfilments_and_events_of_its_channel_only(world: World) -> None:
    network(world, [("WH1", "A", 5)])
    web, app = scoped(world, "web"), scoped(world, "app")
    placed = order(world, web, "k1")
    assert placed.status_code == 201, placed.text
    [fulfilment] = placed.json()["fulfilments"]
    path = f"/v1/fulfilments/{fulfilment['id']}"
    assert world.client.get(path, headers=web).status_code == 200
    assert world.client.get(path, headers=app).status_code == 404
    assert world.client.post(f"{path}/cancel", headers=app).status_code == 404
    listed = world.client.get("/v1/fulfilments", headers=web).json()["items"]
    assert [f["id"] for f in listed] == [fulfilment["id"]]
    assert world.client.get("/v1/fulfilments", headers=app).json()["items"] == []
    ours = eventually(
        lambda: world.client.get("/v1/events", headers=web).json()["items"],
        bool,
    )
    assert {e["order_id"] for e in ours} == {placed.json()["id"]}
    assert world.client.get("/v1/events", headers=app).json()["items"] == []
