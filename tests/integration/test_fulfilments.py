"""Fulfilments over the API, on both databases: every transition, its stock, its order status,
its events; rejects and short picks re-routed; concurrent transitions; cancellation."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from openoms.api.deps import get_now
from openoms.db.tables import events, location_closures, stock_positions
from openoms.db.uow import Database
from openoms.domain.fulfilments import Actor
from openoms.domain.orders import Buckets, ensure_conserved
from openoms.services import fulfilment as service
from openoms.services.keys import Role
from openoms.services.sourcing_view import SourcingView
from tests.conftest import World, bearer
from tests.integration.test_orders import BROADCAST, availability, network, order_body, place
from tests.integration.test_promise_api import a_weekday_morning
from tests.integration.test_sourcing_api import PROFILE


@pytest.fixture(autouse=True)
def morning(world: World) -> Iterator[datetime]:
    """Sourcing depends on opening hours: the API's clock is a weekday morning."""
    now = a_weekday_morning()
    app = cast(FastAPI, world.client.app)
    app.dependency_overrides[get_now] = lambda: now
    yield now
    app.dependency_overrides.clear()


def position(db: Database, location: str, sku: str) -> tuple[int, int]:
    """(on_hand, reserved)."""
    p = stock_positions.c
    with db.read() as conn:
        query = select(p.on_hand, p.reserved).where(p.location_code == location, p.sku_code == sku)
        row = conn.execute(query).one()
    return int(row[0]), int(row[1])


def act(
    world: World,
    fulfilment_id: str,
    action: str,
    headers: dict[str, str],
    body: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> dict[str, Any]:
    answer = world.client.post(
        f"/v1/fulfilments/{fulfilment_id}/{action}", json=body, headers=headers
    )
    assert answer.status_code == status, answer.text
    result: dict[str, Any] = answer.json()
    return result


def read_order(world: World, order_id: str) -> dict[str, Any]:
    answer = world.client.get(f"/v1/orders/{order_id}", headers=world.admin)
    assert answer.status_code == 200, answer.text
    order: dict[str, Any] = answer.json()
    for line in order["lines"]:  # invariant 3 after every step
        b = line["buckets"]
        buckets = Buckets(
            unallocated=b["unallocated"],
            allocated=b["allocated"],
            shipped=b["shipped"],
            delivered=b["delivered"],
            collected=b["collected"],
            cancelled=b["cancelled"],
            returned=b["returned"],
        )
        ensure_conserved(line["quantity"], buckets)
    return order


def event_types(db: Database, order_id: str) -> list[str]:
    e = events.c
    with db.read() as conn:
        query = select(e.type).where(e.order_id == order_id).order_by(e.stamp, e.seq)
        return list(conn.execute(query).scalars())


def parcel(number: str, weight_g: int = 1500) -> dict[str, Any]:
    return {"tracking_number": number, "carrier_service": "parcel_standard", "weight_g": weight_g}


def deliver(world: World, *numbers: str, at: datetime | None = None) -> dict[str, Any]:
    at = at or a_weekday_morning() + timedelta(days=1)
    body = {
        "events": [
            {"tracking_number": n, "status": "delivered", "at": at.isoformat()} for n in numbers
        ]
    }
    answer = world.client.post("/v1/carriers/tracking", json=body, headers=world.carrier)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def stocked(
    world: World, rows: list[tuple[str, str, int]], profile: dict[str, Any] = PROFILE
) -> None:
    """The network, and its stock once the availability index sees it. On PostgreSQL the index
    serves changes below the oldest running transaction of the whole server: another session's
    open transaction (a benchmark next door) delays it, and an order placed meanwhile would be
    sourced from nothing."""
    network(world, rows, profile)
    settle(world, sorted({sku for _, sku, _ in rows}))


def settle(world: World, skus: list[str]) -> None:
    deadline = time.monotonic() + 10
    while not all(availability(world, sku) for sku in skus) and time.monotonic() < deadline:
        time.sleep(0.05)


def offered_at_st1(world: World, units: int = 3, stock: int = 5) -> tuple[str, str]:
    """An order offered to ST1 (broadcast rule), ST2 holding the same as a fallback."""
    stocked(world, [("ST1", "A", stock), ("ST2", "A", stock)], BROADCAST)
    order = place(world, order_body(("1", "A", units)), "k-1")
    [fulfilment] = order["fulfilments"]
    assert (fulfilment["location"], fulfilment["status"]) == ("ST1", "offered")
    return order["id"], fulfilment["id"]


def test_an_order_goes_from_offer_to_delivery_with_its_stock_and_status_at_each_step(
    world: World,
) -> None:
    order_id, fid = offered_at_st1(world)
    assert position(world.db, "ST1", "A") == (5, 3)
    steps = [
        ("claim", None, "claimed", "allocated", (5, 3)),
        ("pick", None, "picking", "in_progress", (5, 3)),
        ("pack", None, "packed", "in_progress", (5, 3)),
        ("ship", {"parcels": [parcel("TRK-1")]}, "shipped", "shipped", (2, 0)),
    ]
    version = 1
    for action, body, status, order_status, stock in steps:
        done = act(world, fid, action, world.store1, body)
        assert (done["status"], done["order_status"]) == (status, order_status)
        assert done["version"] == version + 1
        version = done["version"]
        assert position(world.db, "ST1", "A") == stock
        assert read_order(world, order_id)["status"] == order_status
    shipped = read_order(world, order_id)["lines"][0]["buckets"]
    assert (shipped["allocated"], shipped["shipped"]) == ({}, 3)
    report = deliver(world, "TRK-1")
    assert report == {"received": 1, "applied": 1, "replayed": 0, "delivered": [fid]}
    order = read_order(world, order_id)
    assert order["status"] == "delivered"
    assert order["lines"][0]["buckets"]["delivered"] == 3
    assert position(world.db, "ST1", "A") == (2, 0)
    got = world.client.get(f"/v1/fulfilments/{fid}", headers=world.store1).json()
    assert got["status"] == "delivered"
    assert [(p["tracking_number"], p["status"]) for p in got["parcels"]] == [("TRK-1", "delivered")]
    assert event_types(world.db, order_id) == [
        "order.placed",
        "fulfilment.offered",
        "offer.opened",
        "fulfilment.claimed",
        "offer.withdrawn",
        "fulfilment.picked",
        "fulfilment.packed",
        "fulfilment.shipped",
        "parcel.delivered",
        "fulfilment.delivered",
    ]


def test_a_warehouse_fulfilment_is_claimed_at_placement_and_shipped_from_there(
    world: World,
) -> None:
    stocked(world, [("WH1", "A", 10)])
    order = place(world, order_body(("1", "A", 2)), "k-1")
    [fulfilment] = order["fulfilments"]
    assert fulfilment["status"] == "claimed"
    warehouse = bearer(world.db, Role.STORE, "WH1")
    act(world, fulfilment["id"], "pick", warehouse)
    act(world, fulfilment["id"], "pack", warehouse)
    act(world, fulfilment["id"], "ship", warehouse, {"parcels": [parcel("TRK-W")]})
    assert position(world.db, "WH1", "A") == (8, 0)
    assert read_order(world, order["id"])["status"] == "shipped"


def test_an_illegal_transition_is_409_naming_what_is_allowed_and_changes_nothing(
    world: World,
) -> None:
    order_id, fid = offered_at_st1(world)
    before = world.client.get(f"/v1/fulfilments/{fid}", headers=world.admin).json()
    answer = world.client.post(f"/v1/fulfilments/{fid}/pack", headers=world.store1)
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["code"] == "illegal_transition"
    assert "claim" in problem["detail"]
    assert "reject" in problem["detail"]
    shipped = world.client.post(
        f"/v1/fulfilments/{fid}/ship", json={"parcels": [parcel("T")]}, headers=world.store1
    )
    assert shipped.status_code == 409
    after = world.client.get(f"/v1/fulfilments/{fid}", headers=world.admin).json()
    assert after == before
    assert position(world.db, "ST1", "A") == (5, 3)
    assert event_types(world.db, order_id) == ["order.placed", "fulfilment.offered", "offer.opened"]


def test_a_role_acts_only_as_the_state_machine_allows(world: World) -> None:
    _, fid = offered_at_st1(world)
    assert world.client.post(f"/v1/fulfilments/{fid}/claim", headers=world.channel).status_code == (
        403
    )
    assert world.client.post(f"/v1/fulfilments/{fid}/cancel", headers=world.store1).status_code == (
        403
    )
    assert world.client.post(f"/v1/fulfilments/{fid}/claim", headers=world.carrier).status_code == (
        403
    )


def test_a_store_key_neither_sees_nor_acts_on_another_stores_fulfilment(world: World) -> None:
    stocked(world, [("ST2", "A", 5)], BROADCAST)
    order = place(world, order_body(("1", "A", 1)), "k-1")
    fid = order["fulfilments"][0]["id"]
    assert world.client.post(f"/v1/fulfilments/{fid}/claim", headers=world.store1).status_code == (
        404
    )
    assert world.client.get(f"/v1/fulfilments/{fid}", headers=world.store1).status_code == 404
    theirs = world.client.get("/v1/fulfilments", params={"location": "ST2"}, headers=world.store1)
    assert theirs.status_code == 403
    assert theirs.json()["errors"][0]["field"] == "location"
    assert world.client.get("/v1/fulfilments", headers=world.store1).json()["items"] == []
    store2 = bearer(world.db, Role.STORE, "ST2")
    act(world, fid, "claim", store2)
    queue = world.client.get("/v1/fulfilments", params={"status": "claimed"}, headers=store2).json()
    assert [f["id"] for f in queue["items"]] == [fid]


def test_two_concurrent_claims_of_one_fulfilment_have_exactly_one_winner(
    world: World, morning: datetime
) -> None:
    _, fid = offered_at_st1(world)
    outcomes = race(world, lambda db: service.claim_fulfilment(db, fid, st1(), now=morning))
    assert sorted(outcomes) == ["TransitionRefused", "claimed"] or sorted(outcomes) == [
        "ChangedMeanwhile",
        "claimed",
    ]
    done = world.client.get(f"/v1/fulfilments/{fid}", headers=world.admin).json()
    assert (done["status"], done["version"]) == ("claimed", 2)


def test_two_concurrent_ships_take_the_units_off_the_shelf_once(
    world: World, morning: datetime
) -> None:
    _, fid = offered_at_st1(world)
    for action in ("claim", "pick", "pack"):
        act(world, fid, action, world.store1)
    numbers = iter(["TRK-A", "TRK-B"])
    lock = threading.Lock()

    def ship(db: Database) -> service.FulfilmentDetail:
        with lock:
            number = next(numbers)
        parcels = [service.Parcel(number, "parcel_standard", 900)]
        return service.ship_fulfilment(db, fid, st1(), parcels=parcels, now=morning)

    outcomes = race(world, ship)
    assert outcomes.count("shipped") == 1
    assert position(world.db, "ST1", "A") == (2, 0)
    got = world.client.get(f"/v1/fulfilments/{fid}", headers=world.admin).json()
    assert len(got["parcels"]) == 1


def st1() -> service.Caller:
    return service.Caller(Actor.STORE, "ST1")


def race(world: World, transition: Any, threads: int = 2) -> list[str]:
    """Run the transition in `threads` threads at once, each with its own engine (as two API
    processes would); the fulfilment's status or the exception's name of each."""
    barrier = threading.Barrier(threads)
    outcomes: list[str] = []

    def run() -> None:
        db = Database(world.db.url)
        try:
            barrier.wait()
            outcomes.append(transition(db).fulfilment.status.value)
        except Exception as error:  # the loser's refusal is what is asserted
            outcomes.append(type(error).__name__)
        finally:
            db.dispose()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return outcomes


def test_reject_out_of_stock_sets_what_was_found_and_reroutes_to_another_store(
    world: World,
) -> None:
    order_id, fid = offered_at_st1(world)
    act(world, fid, "claim", world.store1)
    body = {"reason": "out_of_stock", "found": {"A": 1}}
    rejected = act(world, fid, "reject", world.store1, body)
    assert rejected["status"] == "rejected"
    assert rejected["allocations"] == [{"line_id": "1", "sku": "A", "units": 0}]
    assert position(world.db, "ST1", "A") == (1, 0)
    assert position(world.db, "ST2", "A") == (5, 3)
    order = read_order(world, order_id)
    assert order["status"] == "allocated"
    [_, moved] = order["fulfilments"]
    assert (moved["location"], moved["status"], moved["allocations"][0]["units"]) == (
        "ST2",
        "offered",
        3,
    )
    assert order["lines"][0]["buckets"]["allocated"] == {"ST2": 3}
    last = order["decisions"][-1]
    assert last["outcome"] == "rerouted"
    assert last["record"]["reroute"]["reason"] == "out_of_stock"
    assert "ST1" in last["record"]["reroute"]["excluded_locations"]
    assert event_types(world.db, order_id)[-4:] == [
        "fulfilment.rejected",
        "fulfilment.offered",
        "offer.opened",
        "order.rerouted",
    ]


def test_reject_damaged_writes_the_units_off_and_reroutes(world: World) -> None:
    order_id, fid = offered_at_st1(world, units=2)
    act(world, fid, "reject", world.store1, {"reason": "damaged"})
    assert position(world.db, "ST1", "A") == (3, 0)
    assert position(world.db, "ST2", "A") == (5, 2)
    order = read_order(world, order_id)
    assert order["lines"][0]["buckets"]["allocated"] == {"ST2": 2}
    assert order["decisions"][-1]["record"]["reroute"]["reason"] == "damaged"


def test_reject_no_capacity_keeps_the_stock_and_closes_the_store_to_reroutes_for_the_day(
    world: World,
) -> None:
    order_id, fid = offered_at_st1(world, units=2)
    act(world, fid, "reject", world.store1, {"reason": "no_capacity"})
    assert position(world.db, "ST1", "A") == (5, 0)
    assert read_order(world, order_id)["lines"][0]["buckets"]["allocated"] == {"ST2": 2}
    with world.db.read() as conn:
        closed = list(conn.execute(select(location_closures.c.location_code)).scalars())
    assert closed == ["ST1"]
    # ST2 gives up an order of B while ST1 has B, but ST1 is closed for today: a backorder.
    answer = world.client.post(
        "/v1/stock/snapshots",
        json={"rows": [{"location": "ST2", "sku": "B", "on_hand": 5, "as_of": now_iso()}]},
        headers=world.admin,
    )
    assert answer.status_code == 200
    settle(world, ["B"])
    other = place(world, order_body(("1", "B", 1)), "k-2")
    assert other["fulfilments"][0]["location"] == "ST2"
    answer = world.client.post(
        "/v1/stock/snapshots",
        json={"rows": [{"location": "ST1", "sku": "B", "on_hand": 5, "as_of": now_iso()}]},
        headers=world.admin,
    )
    store2 = bearer(world.db, Role.STORE, "ST2")
    act(world, other["fulfilments"][0]["id"], "reject", store2, {"reason": "damaged"})
    order = read_order(world, other["id"])
    assert order["status"] == "pending"
    line = order["lines"][0]
    assert (line["buckets"]["unallocated"], line["unallocated_reason"]) == (1, "no_stock")
    reroute = order["decisions"][-1]["record"]["reroute"]
    assert reroute["excluded_locations"] == ["ST1", "ST2"]
    assert position(world.db, "ST1", "B") == (5, 0)


def now_iso() -> str:
    return datetime.now().astimezone().isoformat()


def test_a_rejected_fulfilment_nobody_else_can_serve_is_backordered_with_a_reason(
    world: World,
) -> None:
    stocked(world, [("ST1", "A", 5)], BROADCAST)
    order = place(world, order_body(("1", "A", 2)), "k-1")
    act(world, order["fulfilments"][0]["id"], "reject", world.store1, {"reason": "damaged"})
    after = read_order(world, order["id"])
    assert after["status"] == "pending"
    assert after["lines"][0]["buckets"]["unallocated"] == 2
    assert after["lines"][0]["unallocated_reason"] == "no_stock"
    assert after["decisions"][-1]["outcome"] == "shortfall"


def test_a_short_pick_goes_on_with_what_was_picked_and_reroutes_the_missing_units(
    world: World,
) -> None:
    order_id, fid = offered_at_st1(world, units=3)
    act(world, fid, "claim", world.store1)
    picked = act(world, fid, "pick", world.store1, {"picked": {"1": 2}})
    assert picked["status"] == "picking"
    assert picked["allocations"] == [{"line_id": "1", "sku": "A", "units": 2}]
    assert position(world.db, "ST1", "A") == (5, 2)
    assert position(world.db, "ST2", "A") == (5, 1)
    order = read_order(world, order_id)
    assert order["lines"][0]["buckets"]["allocated"] == {"ST1": 2, "ST2": 1}
    assert order["decisions"][-1]["record"]["reroute"]["reason"] == "missing"
    act(world, fid, "pack", world.store1)
    act(world, fid, "ship", world.store1, {"parcels": [parcel("TRK-1")]})
    assert position(world.db, "ST1", "A") == (3, 0)
    assert read_order(world, order_id)["status"] == "partially_shipped"


def test_a_pick_of_nothing_or_of_unknown_lines_is_refused_naming_the_field(world: World) -> None:
    _, fid = offered_at_st1(world, units=3)
    act(world, fid, "claim", world.store1)
    none = act(world, fid, "pick", world.store1, {"picked": {"1": 0}}, status=422)
    assert none["errors"][0]["field"] == "picked"
    unknown = act(world, fid, "pick", world.store1, {"picked": {"9": 1}}, status=422)
    assert unknown["errors"][0]["field"] == "picked.9"
    assert position(world.db, "ST1", "A") == (5, 3)


def test_a_snapshot_counted_before_an_out_of_stock_reject_does_not_undo_what_was_found(
    world: World, morning: datetime
) -> None:
    _, fid = offered_at_st1(world)
    act(world, fid, "reject", world.store1, {"reason": "out_of_stock", "found": {"A": 1}})
    assert position(world.db, "ST1", "A")[0] == 1
    earlier = (morning - timedelta(minutes=5)).isoformat()
    row = {"location": "ST1", "sku": "A", "on_hand": 5, "as_of": earlier}
    answer = world.client.post("/v1/stock/snapshots", json={"rows": [row]}, headers=world.admin)
    assert answer.json()["stale"] == 1
    assert position(world.db, "ST1", "A")[0] == 1
    later = {**row, "on_hand": 4, "as_of": (morning + timedelta(minutes=5)).isoformat()}
    world.client.post("/v1/stock/snapshots", json={"rows": [later]}, headers=world.admin)
    assert position(world.db, "ST1", "A")[0] == 4


def test_out_of_stock_needs_what_was_found_of_the_fulfilments_skus(world: World) -> None:
    _, fid = offered_at_st1(world)
    missing = act(world, fid, "reject", world.store1, {"reason": "out_of_stock"}, status=422)
    assert missing["errors"][0]["field"] == "found"
    other = {"reason": "out_of_stock", "found": {"B": 1}}
    assert act(world, fid, "reject", world.store1, other, status=422)["errors"][0]["field"] == (
        "found.B"
    )
    assert position(world.db, "ST1", "A") == (5, 3)


@pytest.mark.parametrize("steps", [[], ["claim"], ["claim", "pick"], ["claim", "pick", "pack"]])
@pytest.mark.parametrize("via", ["fulfilment", "order"])
def test_cancelling_before_shipping_releases_the_units(
    world: World, steps: list[str], via: str
) -> None:
    order_id, fid = offered_at_st1(world)
    for action in steps:
        act(world, fid, action, world.store1)
    if via == "fulfilment":
        act(world, fid, "cancel", world.channel)
    else:
        answer = world.client.post(f"/v1/orders/{order_id}/cancel", headers=world.channel)
        assert answer.status_code == 200, answer.text
    assert position(world.db, "ST1", "A") == (5, 0)
    order = read_order(world, order_id)
    assert order["status"] == "cancelled"
    assert order["fulfilments"][0]["status"] == "cancelled"
    assert order["lines"][0]["buckets"]["cancelled"] == 3


def test_cancelling_after_shipping_is_refused_and_changes_nothing(world: World) -> None:
    order_id, fid = offered_at_st1(world)
    for action in ("claim", "pick", "pack"):
        act(world, fid, action, world.store1)
    act(world, fid, "ship", world.store1, {"parcels": [parcel("TRK-1")]})
    refused = act(world, fid, "cancel", world.channel, status=409)
    assert refused["code"] == "illegal_transition"
    answer = world.client.post(f"/v1/orders/{order_id}/cancel", headers=world.channel)
    assert answer.status_code == 409
    assert position(world.db, "ST1", "A") == (2, 0)
    assert read_order(world, order_id)["status"] == "shipped"


def test_a_snapshot_counted_before_the_shipment_does_not_count_the_shipped_units_twice(
    world: World, morning: datetime
) -> None:
    _, fid = offered_at_st1(world)
    for action in ("claim", "pick", "pack"):
        act(world, fid, action, world.store1)
    act(world, fid, "ship", world.store1, {"parcels": [parcel("TRK-1")]})
    assert position(world.db, "ST1", "A") == (2, 0)
    counted_before = (morning - timedelta(minutes=5)).isoformat()
    answer = world.client.post(
        "/v1/stock/snapshots",
        json={"rows": [{"location": "ST1", "sku": "A", "on_hand": 5, "as_of": counted_before}]},
        headers=world.admin,
    )
    assert answer.status_code == 200, answer.text
    assert position(world.db, "ST1", "A") == (2, 0)
    counted_after = (morning + timedelta(minutes=5)).isoformat()
    answer = world.client.post(
        "/v1/stock/snapshots",
        json={"rows": [{"location": "ST1", "sku": "A", "on_hand": 4, "as_of": counted_after}]},
        headers=world.admin,
    )
    assert answer.status_code == 200, answer.text
    assert position(world.db, "ST1", "A") == (4, 0)


def test_a_tracking_number_is_used_once(world: World) -> None:
    stocked(world, [("WH1", "A", 10)])
    warehouse = bearer(world.db, Role.STORE, "WH1")
    ids = []
    for key in ("k-1", "k-2"):
        fid = place(world, order_body(("1", "A", 1)), key)["fulfilments"][0]["id"]
        act(world, fid, "pick", warehouse)
        act(world, fid, "pack", warehouse)
        ids.append(fid)
    act(world, ids[0], "ship", warehouse, {"parcels": [parcel("TRK-1")]})
    taken = act(world, ids[1], "ship", warehouse, {"parcels": [parcel("TRK-1")]}, status=409)
    assert "TRK-1" in taken["detail"]
    twice = {"parcels": [parcel("TRK-2"), parcel("TRK-2")]}
    assert act(world, ids[1], "ship", warehouse, twice, status=422)["errors"][0]["field"] == (
        "parcels[1].tracking_number"
    )
    assert act(world, ids[1], "ship", warehouse, {"parcels": []}, status=422)
    assert position(world.db, "WH1", "A") == (9, 1)


def test_a_reroute_reads_the_sourcing_view_of_the_order(world: World) -> None:
    """The service used directly (as the worker would), with its own sourcing view."""
    order_id, fid = offered_at_st1(world, units=1)
    view = SourcingView(world.db, criteria=cast(FastAPI, world.client.app).state.criteria)
    service.reject_fulfilment(
        world.db,
        view,
        fid,
        service.Caller(Actor.ADMIN),
        reason=service.RejectReason.DAMAGED,
        found=None,
        now=a_weekday_morning(),
        record=lambda result: {"rule": result.rule},
    )
    order = read_order(world, order_id)
    assert order["lines"][0]["buckets"]["allocated"] == {"ST2": 1}
    assert order["decisions"][-1]["record"]["rule"] == "stores"


def test_a_parcel_names_a_carrier_service_the_oms_knows(world: World) -> None:
    _, fid = offered_at_st1(world)
    for action in ("claim", "pick", "pack"):
        act(world, fid, action, world.store1)
    body = {"parcels": [parcel("T-1"), {**parcel("T-2"), "carrier_service": "pigeon"}]}
    problem = act(world, fid, "ship", world.store1, body, status=422)
    assert [e["field"] for e in problem["errors"]] == ["parcels[1].carrier_service"]
    assert position(world.db, "ST1", "A") == (5, 3)
