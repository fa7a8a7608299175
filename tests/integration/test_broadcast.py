"""Broadcast over the API, on both databases: a fulfilment offered to the best N stores with its
units held once; the first claim wins and takes the hold over; a claim that no longer fits is
refused with the reason and the offer stays open."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any, cast

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from openoms.api.deps import get_now
from openoms.db.tables import offers
from openoms.db.uow import Database
from openoms.domain.fulfilments import Actor
from openoms.services import fulfilment as service
from openoms.services.keys import Role
from tests.conftest import World, bearer
from tests.integration.test_fulfilments import act, event_types, position, race, settle
from tests.integration.test_orders import BROADCAST, network, order_body, place
from tests.integration.test_promise_api import a_weekday_morning, put_location
from tests.integration.test_sourcing_api import set_stock

STORES = ("ST1", "ST2", "ST3")


@pytest.fixture(autouse=True)
def morning(world: World) -> Iterator[datetime]:
    now = a_weekday_morning()
    app = cast(FastAPI, world.client.app)
    app.dependency_overrides[get_now] = lambda: now
    yield now
    app.dependency_overrides.clear()


def three_stores(world: World, units: int = 5, profile: dict[str, Any] = BROADCAST) -> None:
    """ST1, ST2, ST3 each holding `units` of A; the rule offers to 2 stores for 10 minutes."""
    put_location(world, "ST3", "store", ["ship", "click_collect"])
    network(world, [(store, "A", units) for store in STORES], profile)
    settle(world, ["A"])


def offer_rows(db: Database, fulfilment_id: str) -> dict[str, tuple[int, str]]:
    o = offers.c
    with db.read() as conn:
        query = select(o.location_code, o.wave, o.state).where(o.fulfilment_id == fulfilment_id)
        return {row.location_code: (row.wave, row.state) for row in conn.execute(query)}


def reserved_at(db: Database) -> dict[str, int]:
    return {store: position(db, store, "A")[1] for store in STORES}


def broadcast_order(world: World, units: int = 3) -> tuple[str, dict[str, Any]]:
    order = place(world, order_body(("1", "A", units)), "k-1")
    [fulfilment] = order["fulfilments"]
    assert fulfilment["status"] == "offered"
    got = world.client.get(f"/v1/fulfilments/{fulfilment['id']}", headers=world.admin).json()
    return order["id"], got


def test_a_broadcast_is_offered_to_n_stores_with_its_units_held_once(world: World) -> None:
    three_stores(world)
    order_id, fulfilment = broadcast_order(world)
    holder = fulfilment["location"]
    offer = fulfilment["offer"]
    assert offer["wave"] == 1
    assert len(offer["locations"]) == 2
    assert holder in offer["locations"]
    assert offer["seconds_left"] == 600
    held = reserved_at(world.db)
    assert sum(held.values()) == 3
    assert held[holder] == 3
    assert offer_rows(world.db, fulfilment["id"]) == dict.fromkeys(offer["locations"], (1, "open"))
    [other] = [s for s in offer["locations"] if s != holder]
    queue = world.client.get("/v1/fulfilments", headers=bearer(world.db, Role.STORE, other))
    [seen] = queue.json()["items"]
    assert (seen["id"], seen["location"], seen["offer"]["seconds_left"]) == (
        fulfilment["id"],
        holder,
        600,
    )
    [left_out] = [s for s in STORES if s not in offer["locations"]]
    nothing = world.client.get("/v1/fulfilments", headers=bearer(world.db, Role.STORE, left_out))
    assert nothing.json()["items"] == []
    assert event_types(world.db, order_id) == ["order.placed", "fulfilment.offered", "offer.opened"]


def test_an_offered_store_claims_and_the_hold_moves_to_it(world: World) -> None:
    three_stores(world)
    order_id, fulfilment = broadcast_order(world)
    holder = fulfilment["location"]
    [other] = [s for s in fulfilment["offer"]["locations"] if s != holder]
    claimed = act(world, fulfilment["id"], "claim", bearer(world.db, Role.STORE, other))
    assert (claimed["status"], claimed["location"], claimed["offer"]) == ("claimed", other, None)
    assert position(world.db, holder, "A") == (5, 0)
    assert position(world.db, other, "A") == (5, 3)
    assert offer_rows(world.db, fulfilment["id"]) == {
        other: (1, "claimed"),
        holder: (1, "withdrawn"),
    }
    order = world.client.get(f"/v1/orders/{order_id}", headers=world.admin).json()
    assert order["lines"][0]["buckets"]["allocated"] == {other: 3}
    assert event_types(world.db, order_id)[-3:] == [
        "fulfilment.hold_moved",
        "fulfilment.claimed",
        "offer.withdrawn",
    ]
    before = world.client.get("/v1/fulfilments", headers=bearer(world.db, Role.STORE, holder))
    assert before.json()["items"] == []
    late = world.client.post(
        f"/v1/fulfilments/{fulfilment['id']}/claim", headers=bearer(world.db, Role.STORE, holder)
    )
    assert late.status_code == 404


def test_two_stores_claiming_at_the_same_moment_have_exactly_one_winner(
    world: World, morning: datetime
) -> None:
    three_stores(world)
    _, fulfilment = broadcast_order(world)
    fid = fulfilment["id"]
    stores = sorted(fulfilment["offer"]["locations"])
    callers = iter([service.Caller(Actor.STORE, store) for store in stores])
    lock = threading.Lock()

    def claim(db: Database) -> service.FulfilmentDetail:
        with lock:
            caller = next(callers)
        return service.claim_fulfilment(db, fid, caller, now=morning)

    outcomes = race(world, claim)
    assert outcomes.count("claimed") == 1
    assert len(outcomes) == 2
    done = world.client.get(f"/v1/fulfilments/{fid}", headers=world.admin).json()
    winner = done["location"]
    assert done["status"] == "claimed"
    held = reserved_at(world.db)
    assert held[winner] == 3
    assert sum(held.values()) == 3
    states = offer_rows(world.db, fid)
    assert states[winner] == (1, "claimed")
    assert sorted(state for _, state in states.values()) == ["claimed", "withdrawn"]


def test_a_claim_that_no_longer_fits_is_refused_with_the_reason_and_the_offer_stays_open(
    world: World,
) -> None:
    three_stores(world)
    _, fulfilment = broadcast_order(world)
    fid, holder = fulfilment["id"], fulfilment["location"]
    [other] = [s for s in fulfilment["offer"]["locations"] if s != holder]
    set_stock(world, [(other, "A", 1)])
    answer = world.client.post(
        f"/v1/fulfilments/{fid}/claim", headers=bearer(world.db, Role.STORE, other)
    )
    assert answer.status_code == 409
    problem = answer.json()
    assert problem["code"] == "claim_does_not_fit"
    assert other in problem["detail"]
    assert "'A'" in problem["detail"]
    assert position(world.db, holder, "A") == (5, 3)
    assert position(world.db, other, "A") == (1, 0)
    still = world.client.get(f"/v1/fulfilments/{fid}", headers=bearer(world.db, Role.STORE, other))
    assert (still.json()["status"], still.json()["offer"]["wave"]) == ("offered", 1)
    assert offer_rows(world.db, fid) == {holder: (1, "open"), other: (1, "open")}
    claimed = act(world, fid, "claim", bearer(world.db, Role.STORE, holder))
    assert (claimed["status"], claimed["location"]) == ("claimed", holder)
