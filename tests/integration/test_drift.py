"""Stock drift on both databases: a count below what is reserved re-routes the newest holds
(through the API, `oms import stock`'s Python API and the service), and nothing else moves."""

from __future__ import annotations

import io
import itertools
import threading
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from openoms import importing
from openoms.api.deps import get_now
from openoms.db.tables import allocations, fulfilments, order_lines, stock_positions
from openoms.db.uow import Database
from openoms.domain.fulfilments import FulfilmentStatus, holds_allocation
from openoms.services import drift
from openoms.services.keys import Role
from tests.conftest import World, bearer
from tests.integration.test_fulfilments import act, event_types, position, read_order, stocked
from tests.integration.test_orders import BROADCAST, order_body, place
from tests.integration.test_promise_api import a_weekday_morning

_later = itertools.count(1)


@pytest.fixture(autouse=True)
def morning(world: World) -> Iterator[datetime]:
    """Sourcing depends on opening hours: the API's clock is a weekday morning."""
    now = a_weekday_morning()
    app = cast(FastAPI, world.client.app)
    app.dependency_overrides[get_now] = lambda: now
    yield now
    app.dependency_overrides.clear()


def as_of() -> str:
    """Newer than any count before it in the test."""
    return (datetime.now(UTC) + timedelta(seconds=next(_later))).isoformat()


def count(world: World, rows: list[tuple[str, str, int]]) -> dict[str, Any]:
    """A snapshot through the API."""
    body = {
        "rows": [
            {"location": loc, "sku": sku, "on_hand": n, "as_of": as_of()} for loc, sku, n in rows
        ]
    }
    answer = world.client.post("/v1/stock/snapshots", json=body, headers=world.admin)
    assert answer.status_code == 200, answer.text
    report: dict[str, Any] = answer.json()
    return report


def holds(order: dict[str, Any]) -> dict[str, int]:
    """location -> units held there for the order."""
    held: dict[str, int] = defaultdict(int)
    for line in order["lines"]:
        for location, units in line["buckets"]["allocated"].items():
            held[location] += units
    return dict(held)


def line(order: dict[str, Any]) -> dict[str, Any]:
    [only] = order["lines"]
    return cast(dict[str, Any], only)


def assert_positions_agree_with_holds(db: Database) -> None:
    """reserved == the units that fulfilments holding an allocation have there, and never more
    than on_hand, at every position."""
    held_statuses = [s.value for s in FulfilmentStatus if holds_allocation(s)]
    a, f, p = allocations.c, fulfilments.c, stock_positions.c
    held: dict[tuple[str, str], int] = defaultdict(int)
    with db.read() as conn:
        query = (
            select(f.location_code, a.sku_code, a.units)
            .join_from(allocations, fulfilments, f.id == a.fulfilment_id)
            .where(f.status.in_(held_statuses))
        )
        for location, sku, units in conn.execute(query):
            held[(location, sku)] += units
        positions = list(conn.execute(select(p.location_code, p.sku_code, p.on_hand, p.reserved)))
    for location, sku, on_hand, reserved in positions:
        assert reserved == held[(location, sku)], (location, sku)
        assert reserved <= on_hand, (location, sku, on_hand, reserved)


def two_orders_at_wh1(world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two orders of 2 A claimed at WH1 (5 there), ST1 holding 5 as a fallback."""
    stocked(world, [("WH1", "A", 5), ("ST1", "A", 5)])
    older = place(world, order_body(("1", "A", 2)), "k-older")
    newer = place(world, order_body(("1", "A", 2)), "k-newer")
    assert holds(older) == holds(newer) == {"WH1": 2}
    assert position(world.db, "WH1", "A") == (5, 4)
    return older, newer


def test_a_count_below_reserved_reroutes_the_newest_order_and_keeps_the_older(
    world: World,
) -> None:
    older, newer = two_orders_at_wh1(world)
    report = count(world, [("WH1", "A", 2)])
    assert report["changed"] == 1
    assert position(world.db, "WH1", "A") == (2, 2)
    kept, moved = read_order(world, older["id"]), read_order(world, newer["id"])
    assert holds(kept) == {"WH1": 2}
    assert holds(moved) == {"ST1": 2}
    assert moved["status"] == "allocated"
    [withdrawn] = [f for f in moved["fulfilments"] if f["location"] == "WH1"]
    assert withdrawn["status"] == "withdrawn"
    assert position(world.db, "ST1", "A") == (5, 2)
    assert_positions_agree_with_holds(world.db)


def test_only_the_shortfall_leaves_a_hold_that_partly_fits(world: World) -> None:
    older, newer = two_orders_at_wh1(world)
    count(world, [("WH1", "A", 3)])
    assert holds(read_order(world, older["id"])) == {"WH1": 2}
    moved = read_order(world, newer["id"])
    assert holds(moved) == {"WH1": 1, "ST1": 1}
    assert "fulfilment.reduced" in event_types(world.db, newer["id"])
    assert position(world.db, "WH1", "A") == (3, 3)
    assert_positions_agree_with_holds(world.db)


def test_the_reroute_is_in_the_decision_history_and_the_events(world: World) -> None:
    older, newer = two_orders_at_wh1(world)
    count(world, [("WH1", "A", 2)])
    moved = read_order(world, newer["id"])
    last = moved["decisions"][-1]
    assert last["outcome"] == "rerouted"
    assert last["record"]["reroute"]["reason"] == drift.STOCK_DRIFT
    assert last["record"]["reroute"]["location"] == "WH1"
    assert "WH1" in last["record"]["reroute"]["excluded_locations"]
    assert [s["location"] for s in last["record"]["plan"]["shipments"]] == ["ST1"]
    assert event_types(world.db, newer["id"]) == [
        "order.placed",
        "fulfilment.claimed",
        "fulfilment.withdrawn",
        "fulfilment.claimed",
        "order.rerouted",
    ]
    assert event_types(world.db, older["id"]) == ["order.placed", "fulfilment.claimed"]
    assert len(read_order(world, older["id"])["decisions"]) == 1


def test_a_drop_that_nothing_else_can_serve_is_backordered_for_stock_drift(
    world: World,
) -> None:
    stocked(world, [("WH1", "A", 5)])
    order = place(world, order_body(("1", "A", 3)), "k-1")
    count(world, [("WH1", "A", 1)])
    after = read_order(world, order["id"])
    assert holds(after) == {"WH1": 1}
    buckets = line(after)["buckets"]
    assert buckets["unallocated"] == 2
    assert line(after)["unallocated_reason"] == drift.STOCK_DRIFT
    assert after["status"] == "pending"
    assert position(world.db, "WH1", "A") == (1, 1)
    ln = order_lines.c
    with world.db.read() as conn:
        reason = conn.execute(select(ln.unallocated_reason).where(ln.order_id == order["id"]))
        assert reason.scalar_one() == drift.STOCK_DRIFT
    assert "order.rerouted" in event_types(world.db, order["id"])
    assert_positions_agree_with_holds(world.db)


def test_a_count_that_still_covers_what_is_reserved_reroutes_nothing(world: World) -> None:
    older, newer = two_orders_at_wh1(world)
    report = count(world, [("WH1", "A", 4)])
    assert report["changed"] == 1
    assert position(world.db, "WH1", "A") == (4, 4)
    for order in (older, newer):
        assert holds(read_order(world, order["id"])) == {"WH1": 2}
        assert event_types(world.db, order["id"]) == ["order.placed", "fulfilment.claimed"]
    assert_positions_agree_with_holds(world.db)


def test_safety_stock_is_not_drift_the_units_are_on_the_shelf(world: World) -> None:
    _, newer = two_orders_at_wh1(world)
    answer = world.client.put(
        "/v1/stock/safety-stock",
        json={"rows": [{"location": "WH1", "sku": "A", "safety_stock": 2}]},
        headers=world.admin,
    )
    assert answer.status_code == 200, answer.text
    count(world, [("WH1", "A", 4)])
    assert holds(read_order(world, newer["id"])) == {"WH1": 2}


def test_a_file_imported_below_reserved_reroutes_the_newest_order(
    world: World, morning: datetime
) -> None:
    older, newer = two_orders_at_wh1(world)
    data = f"location,sku,on_hand,as_of\nWH1,A,2,{as_of()}\nST1,A,5,{as_of()}\n".encode()
    totals = importing.import_snapshots(world.db, io.BytesIO(data), morning)
    assert (totals.applied, totals.drifted) == (2, 1)
    assert holds(read_order(world, older["id"])) == {"WH1": 2}
    assert holds(read_order(world, newer["id"])) == {"ST1": 2}
    assert "order.rerouted" in event_types(world.db, newer["id"])
    assert_positions_agree_with_holds(world.db)


def test_work_not_started_goes_before_work_under_way(world: World) -> None:
    older, newer = two_orders_at_wh1(world)
    [fulfilment] = newer["fulfilments"]
    act(world, fulfilment["id"], "pick", bearer(world.db, Role.STORE, "WH1"))
    count(world, [("WH1", "A", 2)])
    assert holds(read_order(world, older["id"])) == {"ST1": 2}
    picking = read_order(world, newer["id"])
    assert holds(picking) == {"WH1": 2}
    assert picking["fulfilments"][0]["status"] == "picking"


def test_work_under_way_is_cancelled_and_rerouted_when_the_count_leaves_no_other_way(
    world: World,
) -> None:
    stocked(world, [("WH1", "A", 5), ("ST1", "A", 5)])
    order = place(world, order_body(("1", "A", 2)), "k-1")
    [fulfilment] = order["fulfilments"]
    act(world, fulfilment["id"], "pick", bearer(world.db, Role.STORE, "WH1"))
    count(world, [("WH1", "A", 0)])
    after = read_order(world, order["id"])
    assert holds(after) == {"ST1": 2}
    [cancelled] = [f for f in after["fulfilments"] if f["id"] == fulfilment["id"]]
    assert cancelled["status"] == "cancelled"
    assert "fulfilment.cancelled" in event_types(world.db, order["id"])
    assert_positions_agree_with_holds(world.db)


def lower_on_hand(db: Database, location: str, sku: str, on_hand: int) -> None:
    """A position left below reserved without its drift resolved (as a crash would leave it)."""
    p = stock_positions.c
    with db.write() as uow:
        uow.conn.execute(
            update(stock_positions)
            .where(p.location_code == location, p.sku_code == sku)
            .values(on_hand=on_hand)
        )
        uow.commit()


def test_resolving_twice_changes_nothing_the_second_time(world: World, morning: datetime) -> None:
    _, newer = two_orders_at_wh1(world)
    lower_on_hand(world.db, "WH1", "A", 2)
    first = drift.resolve_positions(world.db, [("WH1", "A")], morning)
    again = drift.resolve_positions(world.db, [("WH1", "A")], morning)
    assert (first.positions, first.orders, first.units, first.backordered) == (1, 1, 2, 0)
    assert (again.positions, again.units) == (0, 0)
    assert holds(read_order(world, newer["id"])) == {"ST1": 2}
    assert event_types(world.db, newer["id"]).count("order.rerouted") == 1


def test_two_resolutions_of_one_position_at_once_reroute_it_once(
    world: World, morning: datetime
) -> None:
    older, newer = two_orders_at_wh1(world)
    lower_on_hand(world.db, "WH1", "A", 2)
    reports: list[drift.DriftReport] = []
    barrier = threading.Barrier(2)

    def resolve() -> None:
        barrier.wait()
        reports.append(drift.resolve_positions(world.db, [("WH1", "A")], morning))

    threads = [threading.Thread(target=resolve) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.units for r in reports) == [0, 2]
    assert holds(read_order(world, older["id"])) == {"WH1": 2}
    assert holds(read_order(world, newer["id"])) == {"ST1": 2}
    assert event_types(world.db, newer["id"]).count("order.rerouted") == 1
    assert_positions_agree_with_holds(world.db)


def test_what_an_out_of_stock_store_found_reroutes_the_other_orders_holds_there(
    world: World,
) -> None:
    stocked(world, [("ST1", "A", 5), ("ST2", "A", 5)], BROADCAST)
    rejected = place(world, order_body(("1", "A", 2)), "k-rejected")
    other = place(world, order_body(("1", "A", 2)), "k-other")
    assert holds(rejected) == holds(other) == {"ST1": 2}
    [fulfilment] = rejected["fulfilments"]
    body = {"reason": "out_of_stock", "found": {"A": 1}}
    act(world, fulfilment["id"], "reject", world.store1, body)
    assert holds(read_order(world, rejected["id"])) == {"ST2": 2}
    moved = read_order(world, other["id"])
    assert holds(moved) == {"ST1": 1, "ST2": 1}
    assert moved["decisions"][-1]["record"]["reroute"]["reason"] == drift.STOCK_DRIFT
    assert position(world.db, "ST1", "A") == (1, 1)
    assert_positions_agree_with_holds(world.db)


def test_a_movement_that_takes_the_shelf_below_reserved_reroutes_the_newest_order(
    world: World,
) -> None:
    older, newer = two_orders_at_wh1(world)
    row = {
        "movement_id": "shrink-1",
        "location": "WH1",
        "sku": "A",
        "delta": -3,
        "reason": "shrinkage",
        "occurred_at": as_of(),
    }
    answer = world.client.post("/v1/stock/movements", json={"rows": [row]}, headers=world.admin)
    assert answer.status_code == 200, answer.text
    assert position(world.db, "WH1", "A") == (2, 2)
    assert holds(read_order(world, older["id"])) == {"WH1": 2}
    assert holds(read_order(world, newer["id"])) == {"ST1": 2}
    assert_positions_agree_with_holds(world.db)
