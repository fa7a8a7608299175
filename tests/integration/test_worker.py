"""The worker's timers, driven by `run_due` with an explicit `now`, on both databases: an offer
nobody claims goes to the next wave, then to the profile's next rule, then waits as a backorder
that is sourced again when stock arrives; two workers never run one job twice (PostgreSQL)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from fastapi import FastAPI
from sqlalchemy import Connection, select

from openoms.api.deps import get_now
from openoms.api.routes.orders import decision_record
from openoms.db.repositories import jobs as jobs_repo
from openoms.db.tables import jobs
from openoms.db.uow import Database
from openoms.services.timers import Timers, run_due
from tests.conftest import World
from tests.integration.test_broadcast import (
    STORES,
    broadcast_order,
    offer_rows,
    reserved_at,
    three_stores,
)
from tests.integration.test_fulfilments import event_types, position, settle
from tests.integration.test_orders import order_body, place
from tests.integration.test_promise_api import a_weekday_morning
from tests.integration.test_sourcing_api import PROFILE, set_stock

STORES_THEN_WAREHOUSES: dict[str, Any] = {
    **PROFILE,
    "rules": [
        {
            "name": "stores",
            "filters": {"kinds": ["store"]},
            "offer": {"mode": "broadcast", "stores": 2, "minutes": 10},
        },
        {"name": "warehouses", "filters": {"kinds": ["warehouse"]}},
    ],
}


@pytest.fixture(autouse=True)
def morning(world: World) -> Iterator[datetime]:
    """The API's clock: a weekday morning."""
    now = a_weekday_morning()
    app = cast(FastAPI, world.client.app)
    app.dependency_overrides[get_now] = lambda: now
    yield now
    app.dependency_overrides.clear()


def timers(world: World) -> Timers:
    app = cast(FastAPI, world.client.app)
    return Timers(app.state.sourcing, decision_record)


def job_kinds(db: Database) -> list[tuple[str, str]]:
    j = jobs.c
    with db.read() as conn:
        return [(r.kind, r.subject) for r in conn.execute(select(j.kind, j.subject))]


def order_of(world: World, order_id: str) -> dict[str, Any]:
    got: dict[str, Any] = world.client.get(f"/v1/orders/{order_id}", headers=world.admin).json()
    return got


def test_an_offer_nobody_claims_goes_to_the_next_wave_then_the_next_rule(
    world: World, morning: datetime
) -> None:
    three_stores(world, profile=STORES_THEN_WAREHOUSES)
    set_stock(world, [("WH1", "A", 10)])
    order_id, fulfilment = broadcast_order(world)
    fid, first = fulfilment["id"], set(fulfilment["offer"]["locations"])
    assert job_kinds(world.db) == [("offer_timeout", fid)]
    assert run_due(world.db, timers(world), morning + timedelta(minutes=9)) == 0

    run_due(world.db, timers(world), morning + timedelta(minutes=10))
    [third] = set(STORES) - first
    wave2 = world.client.get(f"/v1/fulfilments/{fid}", headers=world.admin).json()
    assert (wave2["status"], wave2["location"], wave2["offer"]["wave"]) == ("offered", third, 2)
    assert wave2["offer"]["locations"] == [third]
    assert reserved_at(world.db) == {store: 3 if store == third else 0 for store in STORES}
    assert offer_rows(world.db, fid) == {
        **dict.fromkeys(first, (1, "expired")),
        third: (2, "open"),
    }

    run_due(world.db, timers(world), morning + timedelta(minutes=20))
    order = order_of(world, order_id)
    gone, moved = order["fulfilments"]
    assert (gone["status"], moved["location"], moved["status"]) == ("withdrawn", "WH1", "claimed")
    assert reserved_at(world.db) == dict.fromkeys(STORES, 0)
    assert position(world.db, "WH1", "A") == (10, 3)
    assert order["decisions"][-1]["record"]["reroute"]["reason"] == "offer_timeout"
    assert job_kinds(world.db) == []
    types = event_types(world.db, order_id)
    assert types.count("offer.expired") == 3
    assert types[-3:] == ["fulfilment.withdrawn", "fulfilment.claimed", "order.rerouted"]


def test_with_no_rule_left_the_units_wait_as_a_backorder_retried_when_stock_arrives(
    world: World, morning: datetime
) -> None:
    three_stores(world, profile=STORES_THEN_WAREHOUSES)
    order_id, _ = broadcast_order(world)
    run_due(world.db, timers(world), morning + timedelta(minutes=10))
    run_due(world.db, timers(world), morning + timedelta(minutes=20))
    order = order_of(world, order_id)
    line = order["lines"][0]
    assert (line["buckets"]["unallocated"], line["unallocated_reason"]) == (3, "no_stock")
    assert job_kinds(world.db) == [("backorder_retry", order_id)]

    set_stock(world, [(store, "A", 0) for store in STORES])
    later = morning + timedelta(minutes=25)
    assert run_due(world.db, timers(world), later) == 1  # nothing anywhere: it waits again
    assert order_of(world, order_id)["lines"][0]["buckets"]["unallocated"] == 3
    assert job_kinds(world.db) == [("backorder_retry", order_id)]

    set_stock(world, [("WH1", "A", 4)])
    settle(world, ["A"])
    run_due(world.db, timers(world), later + timedelta(minutes=5))
    order = order_of(world, order_id)
    assert order["lines"][0]["buckets"]["allocated"] == {"WH1": 3}
    assert order["fulfilments"][-1]["status"] == "claimed"
    assert order["decisions"][-1]["record"]["reroute"]["reason"] == "backorder_retry"
    assert job_kinds(world.db) == []


def test_an_order_placed_short_is_retried_on_a_timer(world: World, morning: datetime) -> None:
    three_stores(world, units=1, profile=STORES_THEN_WAREHOUSES)
    order = place(world, order_body(("1", "A", 5)), "k-short")
    assert order["lines"][0]["buckets"]["unallocated"] > 0
    assert ("backorder_retry", order["id"]) in job_kinds(world.db)


def test_a_failing_job_is_put_back_with_a_backoff(world: World, morning: datetime) -> None:
    def broken(conn: Connection, timers: Timers, subject: str, now: datetime) -> None:
        raise RuntimeError("carrier down")

    with world.db.write() as uow:
        jobs_repo.schedule(uow.conn, "broken", "s-1", morning, morning)
        uow.commit()
    ran = run_due(world.db, timers(world), morning, handlers={"broken": broken})
    assert ran == 1
    with world.db.read() as conn:
        row = jobs_repo.find(conn, "broken", "s-1")
    assert row is not None
    assert (row.attempts, row.leased_until) == (1, None)
    assert row.due_at == morning + timedelta(seconds=2)
    assert "carrier down" in row.last_error
    assert run_due(world.db, timers(world), morning + timedelta(seconds=1)) == 0


def test_two_workers_at_once_never_run_the_same_job_twice(world: World, morning: datetime) -> None:
    """On PostgreSQL: SKIP LOCKED and the conditional lease; SQLite serialises the leases."""
    runs: Counter[str] = Counter()
    lock = threading.Lock()

    def count(conn: Connection, timers: Timers, subject: str, now: datetime) -> None:
        time.sleep(0.005)  # long enough for the workers to overlap
        with lock:
            runs[subject] += 1

    subjects = [f"s-{i:03}" for i in range(60)]
    with world.db.write() as uow:
        for subject in subjects:
            jobs_repo.schedule(uow.conn, "count", subject, morning, morning)
        uow.commit()
    barrier = threading.Barrier(3)

    def work() -> None:
        db = Database(world.db.url)
        try:
            barrier.wait()
            while run_due(db, timers(world), morning, handlers={"count": count}, limit=5):
                pass
        finally:
            db.dispose()

    workers = [threading.Thread(target=work) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(runs) == subjects
    assert set(runs.values()) == {1}
    assert job_kinds(world.db) == []


def test_stock_arriving_makes_waiting_backorders_due_at_once(
    world: World, morning: datetime
) -> None:
    three_stores(world, units=1, profile=STORES_THEN_WAREHOUSES)
    order = place(world, order_body(("1", "A", 5)), "k-short")
    j = jobs.c
    with world.db.read() as conn:
        due = conn.execute(select(j.due_at).where(j.subject == order["id"])).scalar_one()
    assert due > morning
    set_stock(world, [("WH1", "A", 9)])
    with world.db.read() as conn:
        due = conn.execute(select(j.due_at).where(j.subject == order["id"])).scalar_one()
    assert due == morning
