"""Carrier tracking over the API, on both databases: delivered parcels deliver their
fulfilment, replays change nothing, unknown parcels refuse the batch."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from fastapi import FastAPI

from openoms.api.deps import get_now
from openoms.services.keys import Role
from tests.conftest import World, bearer
from tests.integration.test_fulfilments import act, event_types, parcel, read_order, stocked
from tests.integration.test_orders import order_body, place
from tests.integration.test_promise_api import a_weekday_morning


@pytest.fixture(autouse=True)
def morning(world: World) -> Iterator[datetime]:
    now = a_weekday_morning()
    app = cast(FastAPI, world.client.app)
    app.dependency_overrides[get_now] = lambda: now
    yield now
    app.dependency_overrides.clear()


def shipped(world: World, *numbers: str) -> tuple[str, str]:
    """(order id, fulfilment id) of an order shipped from WH1 in parcels of these numbers."""
    stocked(world, [("WH1", "A", 10)])
    order = place(world, order_body(("1", "A", 2)), "k-1")
    fid = order["fulfilments"][0]["id"]
    warehouse = bearer(world.db, Role.STORE, "WH1")
    act(world, fid, "pick", warehouse)
    act(world, fid, "pack", warehouse)
    act(world, fid, "ship", warehouse, {"parcels": [parcel(n) for n in numbers]})
    return order["id"], fid


def track(world: World, *events: tuple[str, str, datetime], status: int = 200) -> dict[str, Any]:
    body = {
        "events": [{"tracking_number": n, "status": s, "at": at.isoformat()} for n, s, at in events]
    }
    answer = world.client.post("/v1/carriers/tracking", json=body, headers=world.carrier)
    assert answer.status_code == status, answer.text
    result: dict[str, Any] = answer.json()
    return result


def fulfilment(world: World, fid: str) -> dict[str, Any]:
    got: dict[str, Any] = world.client.get(f"/v1/fulfilments/{fid}", headers=world.admin).json()
    return got


def test_a_fulfilment_is_delivered_when_its_last_parcel_is(world: World, morning: datetime) -> None:
    order_id, fid = shipped(world, "P-1", "P-2")
    later = morning + timedelta(hours=20)
    first = track(world, ("P-1", "in_transit", later), ("P-1", "delivered", later))
    assert (first["applied"], first["delivered"]) == (2, [])
    assert fulfilment(world, fid)["status"] == "shipped"
    assert read_order(world, order_id)["status"] == "shipped"
    track(world, ("P-2", "exception", later))
    parcels = {p["tracking_number"]: p["status"] for p in fulfilment(world, fid)["parcels"]}
    assert parcels == {"P-1": "delivered", "P-2": "exception"}
    last = track(world, ("P-2", "delivered", later + timedelta(hours=2)))
    assert last["delivered"] == [fid]
    order = read_order(world, order_id)
    assert order["status"] == "delivered"
    assert order["lines"][0]["buckets"]["delivered"] == 2
    assert order["lines"][0]["buckets"]["shipped"] == 0


def test_a_replayed_event_changes_nothing(world: World, morning: datetime) -> None:
    order_id, fid = shipped(world, "P-1")
    at = morning + timedelta(hours=20)
    assert track(world, ("P-1", "delivered", at))["delivered"] == [fid]
    before = fulfilment(world, fid)
    events_before = event_types(world.db, order_id)
    replay = track(world, ("P-1", "delivered", at), ("P-1", "in_transit", at - timedelta(hours=1)))
    assert (replay["applied"], replay["replayed"], replay["delivered"]) == (1, 1, [])
    assert fulfilment(world, fid) == before
    assert event_types(world.db, order_id) == [*events_before, "parcel.in_transit"]
    again = track(world, ("P-1", "delivered", at))
    assert (again["applied"], again["replayed"]) == (0, 1)
    assert event_types(world.db, order_id) == [*events_before, "parcel.in_transit"]


def test_unknown_parcels_refuse_the_batch_naming_each_and_apply_nothing(
    world: World, morning: datetime
) -> None:
    _, fid = shipped(world, "P-1")
    at = morning + timedelta(hours=20)
    refused = track(
        world,
        ("P-1", "delivered", at),
        ("NOPE-1", "delivered", at),
        ("NOPE-2", "in_transit", at),
        status=404,
    )
    assert refused["code"] == "unknown_parcel"
    assert "NOPE-1" in refused["detail"]
    assert "NOPE-2" in refused["detail"]
    assert fulfilment(world, fid)["status"] == "shipped"
    assert track(world, ("P-1", "delivered", at))["applied"] == 1


def test_only_a_carrier_key_posts_tracking_and_a_timestamp_needs_an_offset(
    world: World, morning: datetime
) -> None:
    shipped(world, "P-1")
    body = {"events": [{"tracking_number": "P-1", "status": "delivered", "at": "2026-01-01T10:00"}]}
    store = world.client.post("/v1/carriers/tracking", json=body, headers=world.store1)
    assert store.status_code == 403
    naive = world.client.post("/v1/carriers/tracking", json=body, headers=world.carrier)
    assert naive.status_code == 422
    assert naive.json()["errors"][0]["field"] == "events[0].at"


def test_delivered_by_hand_marks_every_parcel_delivered(world: World) -> None:
    order_id, fid = shipped(world, "P-1", "P-2")
    done = act(world, fid, "deliver", world.carrier)
    assert done["status"] == "delivered"
    assert {p["status"] for p in done["parcels"]} == {"delivered"}
    assert read_order(world, order_id)["status"] == "delivered"
    assert act(world, fid, "deliver", world.carrier, status=409)["code"] == "illegal_transition"
