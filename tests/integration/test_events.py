"""The events outbox over the API: every change of an order, in order, with a cursor."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, cast

import pytest
from fastapi import FastAPI

from openoms.api.deps import get_now
from tests.conftest import World
from tests.integration.test_orders import network, order_body, place
from tests.integration.test_promise_api import a_weekday_morning


@pytest.fixture(autouse=True)
def morning(world: World) -> Iterator[datetime]:
    now = a_weekday_morning()
    app = cast(FastAPI, world.client.app)
    app.dependency_overrides[get_now] = lambda: now
    yield now
    app.dependency_overrides.clear()


def read(world: World, **params: Any) -> dict[str, Any]:
    answer = world.client.get("/v1/events", params=params, headers=world.channel)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_events_are_listed_in_the_order_of_the_changes(world: World) -> None:
    network(world, [("WH1", "A", 10)])
    first = place(world, order_body(("1", "A", 1)), "k-1")
    second = place(world, order_body(("1", "A", 2)), "k-2")
    cancel = world.client.post(f"/v1/orders/{first['id']}/cancel", headers=world.channel)
    assert cancel.status_code == 200
    events = read(world)["items"]
    assert [(e["type"], e["order_id"]) for e in events] == [
        ("order.placed", first["id"]),
        ("fulfilment.claimed", first["id"]),
        ("order.placed", second["id"]),
        ("fulfilment.claimed", second["id"]),
        ("order.cancelled", first["id"]),
        ("fulfilment.cancelled", first["id"]),
    ]
    claimed = events[1]
    assert claimed["fulfilment_id"] == first["fulfilments"][0]["id"]
    assert claimed["payload"]["location"] == "WH1"
    assert claimed["payload"]["allocations"] == [{"line_id": "1", "sku": "A", "units": 1}]
    assert events[0]["payload"]["lines"][0]["quantity"] == 1


def test_the_next_cursor_reads_on_and_stays_put_when_nothing_is_new(world: World) -> None:
    network(world, [("WH1", "A", 10)])
    place(world, order_body(("1", "A", 1)), "k-1")
    first = read(world, limit=1)
    assert [e["type"] for e in first["items"]] == ["order.placed"]
    rest = read(world, since=first["next"])
    assert [e["type"] for e in rest["items"]] == ["fulfilment.claimed"]
    idle = read(world, since=rest["next"])
    assert idle == {"items": [], "next": rest["next"]}
    place(world, order_body(("1", "A", 1)), "k-2")
    assert [e["type"] for e in read(world, since=rest["next"])["items"]] == [
        "order.placed",
        "fulfilment.claimed",
    ]


def test_an_idempotent_retry_writes_no_event(world: World) -> None:
    network(world, [("WH1", "A", 10)])
    body = order_body(("1", "A", 1))
    place(world, body, "k-1")
    place(world, body, "k-1", status=200)
    assert len(read(world)["items"]) == 2


def test_a_partial_cancel_is_an_event_of_its_own(world: World) -> None:
    network(world, [("WH1", "A", 10)])
    order = place(world, order_body(("1", "A", 3)), "k-1")
    body = {"lines": [{"line_id": "1", "units": 1}]}
    answer = world.client.post(f"/v1/orders/{order['id']}/cancel", json=body, headers=world.channel)
    assert answer.status_code == 200
    last = read(world)["items"][-1]
    assert last["type"] == "order.lines_cancelled"
    assert last["payload"]["lines"] == [{"line_id": "1", "units": 1}]


def test_a_bad_cursor_is_refused_naming_since(world: World) -> None:
    answer = world.client.get("/v1/events", params={"since": "12"}, headers=world.channel)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "since"


def test_a_store_key_may_not_read_the_events(world: World) -> None:
    assert world.client.get("/v1/events", headers=world.store1).status_code == 403
