"""Holds over the API, on both databases: units kept during payment, taken by the order or
given back by expiry (no job) or release."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from openoms.api.deps import get_now
from openoms.db.tables import allocations, holds
from openoms.db.uow import Database
from openoms.services import channels
from tests.conftest import NOW, WEB, World
from tests.integration.test_orders import LYON, availability, network, order_body, place, reserved
from tests.integration.test_promise_api import a_weekday_morning
from tests.integration.test_sourcing_api import PROFILE, publish


@pytest.fixture(autouse=True)
def clock(world: World) -> Iterator[list[datetime]]:
    """The API's clock, a weekday morning; tests move it by setting `clock[0]`."""
    now = [a_weekday_morning()]
    app = cast(FastAPI, world.client.app)
    app.dependency_overrides[get_now] = lambda: now[0]
    yield now
    app.dependency_overrides.clear()


def hold_body(*lines: tuple[str, str, int], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "web",
        "lines": [{"line_id": i, "sku": s, "quantity": q} for i, s, q in lines],
        "delivery_method": "home_standard",
        "destination": LYON,
    }
    body.update(extra)
    return body


def make_hold(
    world: World, body: dict[str, Any], status: int = 201, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    answer = world.client.post("/v1/holds", json=body, headers=headers or world.channel)
    assert answer.status_code == status, answer.text
    result: dict[str, Any] = answer.json()
    return result


def allocated_units(db: Database, location: str, sku: str) -> int:
    a = allocations.c
    with db.read() as conn:
        query = select(func.coalesce(func.sum(a.units), 0)).where(
            a.location_code == location, a.sku_code == sku
        )
        return int(conn.execute(query).scalar_one())


def hold_state(db: Database, hold_id: str) -> tuple[str, str | None]:
    with db.read() as conn:
        row = conn.execute(select(holds.c.state, holds.c.order_id).where(holds.c.id == hold_id))
        state, order_id = row.one()
    return state, order_id


def test_a_hold_lowers_availability_at_once_and_nobody_else_takes_its_units(world: World) -> None:
    network(world, [("WH1", "A", 5)])
    assert availability(world, "A") == 5
    hold = make_hold(world, hold_body(("1", "A", 4)))
    assert hold["state"] == "active"
    assert hold["lines"] == [{"line_id": "1", "sku": "A", "location": "WH1", "units": 4}]
    assert availability(world, "A") == 1
    make_hold(world, hold_body(("1", "A", 2)), status=409)
    order = place(world, order_body(("1", "A", 2)), "k-1")
    assert order["lines"][0]["buckets"] == {**order["lines"][0]["buckets"], "unallocated": 1}
    assert order["lines"][0]["buckets"]["allocated"] == {"WH1": 1}
    assert reserved(world.db, "WH1", "A") == 1
    assert availability(world, "A") == 0


def test_an_expired_hold_gives_its_units_back_with_no_job(
    world: World, clock: list[datetime]
) -> None:
    network(world, [("WH1", "A", 5)])
    hold = make_hold(world, hold_body(("1", "A", 5)), status=201)
    assert availability(world, "A") == 0
    clock[0] = datetime.fromisoformat(hold["expires_at"]) + timedelta(seconds=1)
    assert availability(world, "A") == 5
    read = world.client.get(f"/v1/holds/{hold['id']}", headers=world.channel)
    assert read.json()["state"] == "expired"
    order = place(world, order_body(("1", "A", 5)), "k-1")
    assert order["lines"][0]["buckets"]["allocated"] == {"WH1": 5}
    assert reserved(world.db, "WH1", "A") == 5


def test_an_order_with_the_hold_converts_it_at_the_holds_locations(world: World) -> None:
    network(world, [("WH1", "A", 2), ("ST1", "A", 5)])
    hold = make_hold(world, hold_body(("1", "A", 3)))
    held_at = {(ln["location"], ln["units"]) for ln in hold["lines"]}
    before = availability(world, "A")
    order = place(world, order_body(("1", "A", 3), hold_id=hold["id"]), "k-1")
    allocated = order["lines"][0]["buckets"]["allocated"]
    assert set(allocated.items()) == held_at
    assert hold_state(world.db, hold["id"]) == ("converted", order["id"])
    assert availability(world, "A") == before
    for location, units in held_at:
        assert reserved(world.db, location, "A") == allocated_units(world.db, location, "A")
        assert reserved(world.db, location, "A") == units
    assert order["decisions"][0]["outcome"] == "from_hold"
    assert order["decisions"][0]["record"]["detail"] == f"from hold {hold['id']}"
    again = place(world, order_body(("1", "A", 3), hold_id=hold["id"]), "k-2")
    assert again["decisions"][0]["outcome"] == "hold_converted"


def test_an_order_with_an_expired_hold_is_sourced_as_usual(
    world: World, clock: list[datetime]
) -> None:
    network(world, [("WH1", "A", 5)])
    hold = make_hold(world, hold_body(("1", "A", 2)))
    clock[0] = datetime.fromisoformat(hold["expires_at"])
    order = place(world, order_body(("1", "A", 2), hold_id=hold["id"]), "k-1")
    assert [d["outcome"] for d in order["decisions"]] == ["hold_expired", "allocated"]
    assert order["lines"][0]["buckets"]["allocated"] == {"WH1": 2}
    assert hold_state(world.db, hold["id"]) == ("active", None)
    assert reserved(world.db, "WH1", "A") == 2


def test_a_released_hold_gives_its_units_back(world: World) -> None:
    network(world, [("WH1", "A", 5)])
    hold = make_hold(world, hold_body(("1", "A", 5)))
    path = f"/v1/holds/{hold['id']}"
    assert world.client.delete(path, headers=world.channel).status_code == 204
    assert availability(world, "A") == 5
    assert world.client.get(path, headers=world.channel).json()["state"] == "released"
    assert world.client.delete(path, headers=world.channel).status_code == 409
    make_hold(world, hold_body(("1", "A", 5)))


def test_a_hold_is_all_or_nothing(world: World) -> None:
    network(world, [("WH1", "A", 5), ("WH1", "B", 1)])
    answer = world.client.post(
        "/v1/holds", json=hold_body(("1", "A", 2), ("2", "B", 3)), headers=world.channel
    )
    assert answer.status_code == 409, answer.text
    assert "lines 2 " in answer.json()["detail"]
    assert availability(world, "A") == 5
    with world.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(holds)).scalar_one() == 0


def test_an_order_naming_an_unknown_foreign_or_other_hold_is_refused(world: World) -> None:
    network(world, [("WH1", "A", 5), ("WH1", "B", 5)])
    channels.put_channel(world.db, channels.Channel("app", "App", WEB), NOW)
    publish(world, {**PROFILE, "code": "app-home", "channel": "app"})
    hold = make_hold(world, hold_body(("1", "A", 2)))
    app_hold = make_hold(world, hold_body(("1", "A", 2), channel="app"))
    for i, (lines, hold_id) in enumerate(
        [
            ((("1", "A", 2),), "no-such-hold"),
            ((("1", "A", 2),), app_hold["id"]),
            ((("1", "A", 3),), hold["id"]),
            ((("1", "B", 2),), hold["id"]),
            ((("1", "A", 2), ("2", "B", 1)), hold["id"]),
        ]
    ):
        answer = world.client.post(
            "/v1/orders",
            json=order_body(*lines, hold_id=hold_id),
            headers={**world.channel, "Idempotency-Key": f"k-{i}"},
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == "hold_id"
    assert hold_state(world.db, hold["id"]) == ("active", None)


def test_a_store_key_may_not_hold(world: World) -> None:
    network(world, [("WH1", "A", 5)])
    make_hold(world, hold_body(("1", "A", 1)), status=403, headers=world.store1)


def test_minutes_are_bounded(world: World, clock: list[datetime]) -> None:
    network(world, [("WH1", "A", 5)])
    make_hold(world, hold_body(("1", "A", 1), minutes=31), status=422)
    hold = make_hold(world, hold_body(("1", "A", 1), minutes=30))
    assert datetime.fromisoformat(hold["expires_at"]) == clock[0] + timedelta(minutes=30)
