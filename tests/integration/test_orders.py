"""Orders over the API, on both databases: placed, allocated without oversell, read, cancelled."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, select

from openoms.api.app import create_app
from openoms.api.deps import get_now
from openoms.api.routes.orders import decision_record
from openoms.config import Settings
from openoms.db.tables import allocations, events, stock_positions
from openoms.db.uow import Database
from openoms.domain.profiles import DeliveryMethod, installed_criteria
from openoms.services import ordering
from openoms.services.availability import AvailabilityIndex
from openoms.services.ordering import Customer, OrderRequest
from openoms.services.promise import place_city
from openoms.services.sourcing import RequestedLine
from openoms.services.sourcing_view import SourcingView
from tests.conftest import World
from tests.integration.test_promise_api import a_weekday_morning, put_location
from tests.integration.test_sourcing_api import PROFILE, publish, set_stock

LYON = {"latitude": 45.76, "longitude": 4.86}

BROADCAST: dict[str, Any] = {
    **PROFILE,
    "rules": [
        {"name": "warehouses", "filters": {"kinds": ["warehouse"]}},
        {
            "name": "stores",
            "filters": {"kinds": ["store"]},
            "offer": {"mode": "broadcast", "stores": 2, "minutes": 10},
        },
    ],
}


@pytest.fixture(autouse=True)
def morning(world: World) -> Iterator[datetime]:
    """Sourcing depends on opening hours: the API's clock is a weekday morning."""
    now = a_weekday_morning()
    app = cast(FastAPI, world.client.app)
    app.dependency_overrides[get_now] = lambda: now
    yield now
    app.dependency_overrides.clear()


def network(
    world: World, rows: list[tuple[str, str, int]], profile: dict[str, Any] = PROFILE
) -> None:
    put_location(world, "WH1", "warehouse", ["ship"])
    put_location(world, "ST1", "store", ["ship", "click_collect"])
    put_location(world, "ST2", "store", ["ship", "click_collect"])
    publish(world, profile)
    set_stock(world, rows)


def order_body(*lines: tuple[str, str, int], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "web",
        "lines": [{"line_id": i, "sku": s, "quantity": q} for i, s, q in lines],
        "customer": {"name": "Camille Martin", "email": "camille@example.com"},
        "delivery_method": "home_standard",
        "destination": LYON,
    }
    body.update(extra)
    return body


def place(world: World, body: dict[str, Any], key: str, status: int = 201) -> dict[str, Any]:
    headers = {**world.channel, "Idempotency-Key": key}
    answer = world.client.post("/v1/orders", json=body, headers=headers)
    assert answer.status_code == status, answer.text
    result: dict[str, Any] = answer.json()
    return result


def reserved(db: Database, location: str, sku: str) -> int:
    p = stock_positions.c
    with db.read() as conn:
        query = select(p.reserved).where(p.location_code == location, p.sku_code == sku)
        return int(conn.execute(query).scalar_one())


def availability(world: World, sku: str) -> int:
    answer = world.client.get(f"/v1/channels/web/availability/{sku}", headers=world.channel)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["quantity"])


def count_allocations(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(allocations)).scalar_one())


def test_a_warehouse_order_is_claimed_at_once_and_its_units_reserved(world: World) -> None:
    network(world, [("WH1", "A", 10), ("ST1", "A", 5)])
    before = availability(world, "A")
    order = place(world, order_body(("1", "A", 3)), "k-1")
    assert order["status"] == "allocated"
    [fulfilment] = order["fulfilments"]
    assert (fulfilment["location"], fulfilment["status"], fulfilment["rule"]) == (
        "WH1",
        "claimed",
        "warehouses",
    )
    assert fulfilment["allocations"] == [{"line_id": "1", "sku": "A", "units": 3}]
    [line] = order["lines"]
    assert line["buckets"]["allocated"] == {"WH1": 3}
    assert line["buckets"]["unallocated"] == 0
    assert line["unit_price"] == 2999
    assert reserved(world.db, "WH1", "A") == 3
    assert availability(world, "A") == before - 3
    assert [d["outcome"] for d in order["decisions"]] == ["allocated"]
    assert order["decisions"][0]["record"]["rule"] == "warehouses"
    read = world.client.get(f"/v1/orders/{order['id']}", headers=world.channel)
    assert read.status_code == 200
    assert read.json() == order


def test_a_broadcast_rule_leaves_the_fulfilment_offered(world: World) -> None:
    network(world, [("ST1", "A", 5)], BROADCAST)
    order = place(world, order_body(("1", "A", 1)), "k-1")
    assert [(f["location"], f["status"]) for f in order["fulfilments"]] == [("ST1", "offered")]
    assert order["status"] == "allocated"
    assert reserved(world.db, "ST1", "A") == 1


def test_a_retry_with_the_same_key_answers_the_first_order_and_creates_nothing(
    world: World,
) -> None:
    network(world, [("WH1", "A", 10)])
    body = order_body(("1", "A", 2))
    first = place(world, body, "k-1")
    again = place(world, body, "k-1", status=200)
    assert again == first
    assert reserved(world.db, "WH1", "A") == 2
    assert count_allocations(world.db) == 1
    listed = world.client.get("/v1/orders", headers=world.channel).json()
    assert [o["id"] for o in listed["items"]] == [first["id"]]


def test_a_key_reused_with_another_body_is_a_conflict_naming_the_header(world: World) -> None:
    network(world, [("WH1", "A", 10)])
    place(world, order_body(("1", "A", 2)), "k-1")
    headers = {**world.channel, "Idempotency-Key": "k-1"}
    answer = world.client.post("/v1/orders", json=order_body(("1", "A", 3)), headers=headers)
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    assert "Idempotency-Key" in answer.json()["detail"]
    assert reserved(world.db, "WH1", "A") == 2


def test_an_order_without_an_idempotency_key_is_refused_naming_the_header(world: World) -> None:
    network(world, [("WH1", "A", 10)])
    answer = world.client.post("/v1/orders", json=order_body(("1", "A", 1)), headers=world.channel)
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["Idempotency-Key"]


def test_units_short_of_stock_are_kept_unallocated_with_a_reason(world: World) -> None:
    network(world, [("WH1", "A", 2)])
    order = place(world, order_body(("1", "A", 5), ("2", "B", 1)), "k-1")
    assert order["status"] == "pending"
    first, second = order["lines"]
    assert first["buckets"]["allocated"] == {"WH1": 2}
    assert first["buckets"]["unallocated"] == 3
    assert first["unallocated_reason"] == "no_stock"
    assert second["buckets"]["unallocated"] == 1
    assert second["unallocated_reason"] == "no_stock"
    assert reserved(world.db, "WH1", "A") == 2
    assert [d["outcome"] for d in order["decisions"]] == ["shortfall", "allocated"]


def test_an_unknown_sku_is_refused_naming_the_line(world: World) -> None:
    network(world, [("WH1", "A", 2)])
    headers = {**world.channel, "Idempotency-Key": "k-1"}
    answer = world.client.post("/v1/orders", json=order_body(("1", "NOPE", 1)), headers=headers)
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["lines[0].sku"]
    assert world.client.get("/v1/orders", headers=world.admin).json()["items"] == []


def test_a_collected_order_needs_a_pickup_store_that_offers_click_and_collect(
    world: World,
) -> None:
    network(world, [("WH1", "A", 2)])
    headers = {**world.channel, "Idempotency-Key": "k-1"}
    body = order_body(("1", "A", 1), delivery_method="click_collect", destination=None)
    answer = world.client.post("/v1/orders", json=body, headers=headers)
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["pickup_store"]
    body["pickup_store"] = "WH1"
    answer = world.client.post("/v1/orders", json=body, headers=headers)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["code"] == "not_a_pickup_store"


def test_cancelling_the_whole_order_releases_its_units(world: World) -> None:
    network(world, [("WH1", "A", 10), ("WH1", "B", 10)])
    before = availability(world, "A")
    order = place(world, order_body(("1", "A", 3), ("2", "B", 1)), "k-1")
    answer = world.client.post(f"/v1/orders/{order['id']}/cancel", headers=world.channel)
    assert answer.status_code == 200, answer.text
    cancelled = answer.json()
    assert cancelled["status"] == "cancelled"
    assert [f["status"] for f in cancelled["fulfilments"]] == ["cancelled"]
    assert [line["buckets"]["cancelled"] for line in cancelled["lines"]] == [3, 1]
    assert reserved(world.db, "WH1", "A") == 0
    assert reserved(world.db, "WH1", "B") == 0
    assert availability(world, "A") == before
    again = world.client.post(f"/v1/orders/{order['id']}/cancel", headers=world.channel)
    assert again.status_code == 409


def test_cancelling_units_of_a_line_releases_those_units_only(world: World) -> None:
    network(world, [("WH1", "A", 10)])
    order = place(world, order_body(("1", "A", 3)), "k-1")
    answer = world.client.post(
        f"/v1/orders/{order['id']}/cancel",
        json={"lines": [{"line_id": "1", "units": 2}]},
        headers=world.channel,
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["status"] == "allocated"
    assert result["lines"][0]["buckets"]["allocated"] == {"WH1": 1}
    assert result["lines"][0]["buckets"]["cancelled"] == 2
    assert result["fulfilments"][0]["status"] == "claimed"
    assert reserved(world.db, "WH1", "A") == 1
    too_many = world.client.post(
        f"/v1/orders/{order['id']}/cancel",
        json={"lines": [{"line_id": "1", "units": 2}]},
        headers=world.channel,
    )
    assert too_many.status_code == 409
    unknown = world.client.post(
        f"/v1/orders/{order['id']}/cancel",
        json={"lines": [{"line_id": "9", "units": 1}]},
        headers=world.channel,
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "lines[0].line_id"
    assert reserved(world.db, "WH1", "A") == 1


def test_cancelling_backordered_units_takes_them_before_held_ones(world: World) -> None:
    network(world, [("WH1", "A", 2)])
    order = place(world, order_body(("1", "A", 3)), "k-1")
    answer = world.client.post(
        f"/v1/orders/{order['id']}/cancel",
        json={"lines": [{"line_id": "1", "units": 1}]},
        headers=world.channel,
    )
    assert answer.status_code == 200, answer.text
    buckets = answer.json()["lines"][0]["buckets"]
    assert (buckets["unallocated"], buckets["allocated"], buckets["cancelled"]) == (
        0,
        {"WH1": 2},
        1,
    )
    assert answer.json()["status"] == "allocated"
    assert reserved(world.db, "WH1", "A") == 2


def test_a_store_reads_the_orders_it_serves_and_no_other(world: World) -> None:
    network(world, [("ST1", "A", 5), ("ST2", "B", 5)], BROADCAST)
    at_st1 = place(world, order_body(("1", "A", 1)), "k-1")
    at_st2 = place(world, order_body(("1", "B", 1)), "k-2")
    assert at_st2["fulfilments"][0]["location"] == "ST2"
    mine = world.client.get(f"/v1/orders/{at_st1['id']}", headers=world.store1)
    assert mine.status_code == 200
    theirs = world.client.get(f"/v1/orders/{at_st2['id']}", headers=world.store1)
    assert theirs.status_code == 404
    listed = world.client.get("/v1/orders", headers=world.store1).json()
    assert [o["id"] for o in listed["items"]] == [at_st1["id"]]


def test_a_store_key_may_not_place_or_cancel_orders(world: World) -> None:
    network(world, [("WH1", "A", 5)])
    headers = {**world.store1, "Idempotency-Key": "k-1"}
    answer = world.client.post("/v1/orders", json=order_body(("1", "A", 1)), headers=headers)
    assert answer.status_code == 403


def test_orders_are_listed_by_creation_with_a_cursor_and_filters(world: World) -> None:
    network(world, [("WH1", "A", 2)])
    ids = [place(world, order_body(("1", "A", 1)), f"k-{i}")["id"] for i in range(3)]
    first = world.client.get("/v1/orders", params={"limit": 2}, headers=world.channel).json()
    assert [o["id"] for o in first["items"]] == ids[:2]
    rest = world.client.get(
        "/v1/orders", params={"limit": 2, "after": first["next_cursor"]}, headers=world.channel
    ).json()
    assert [o["id"] for o in rest["items"]] == ids[2:]
    assert rest["next_cursor"] is None
    pending = world.client.get(
        "/v1/orders", params={"status": "pending", "channel": "web"}, headers=world.channel
    ).json()
    assert [o["id"] for o in pending["items"]] == ids[2:]


def request(key: str, units: int) -> OrderRequest:
    return OrderRequest(
        channel="web",
        lines=(RequestedLine("1", "A", units),),
        customer=Customer("Camille", "camille@example.com"),
        method=DeliveryMethod.HOME_STANDARD,
        destination=place_city("Lyon"),
        pickup_store=None,
        promise_option=None,
        idempotency_key=key,
        request_hash=key,
    )


def test_concurrent_orders_never_sell_more_units_than_there_are(
    world: World, morning: datetime
) -> None:
    """Each thread is its own process as far as the database goes: its own engine and its
    own sourcing view, planning from an index that does not know the others' orders."""
    network(world, [("WH1", "A", 3), ("ST1", "A", 4)])
    there = 3 + 4
    threads, per_thread = 4, 3
    barrier = threading.Barrier(threads)
    failures: list[BaseException] = []

    def sell(n: int) -> None:
        db = Database(world.db.url)
        view = SourcingView(db, criteria=installed_criteria())
        try:
            view.refresh()
            barrier.wait()
            for i in range(per_thread):
                placed = ordering.place_order(
                    db, view, request(f"t{n}-{i}", 1), now=morning, record=decision_record
                )
                assert placed.created
        except BaseException as error:
            failures.append(error)
        finally:
            db.dispose()

    workers = [threading.Thread(target=sell, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    with world.db.read() as conn:
        sold = int(conn.execute(select(func.sum(allocations.c.units))).scalar_one())
        held = int(conn.execute(select(func.sum(stock_positions.c.reserved))).scalar_one())
    assert sold <= there
    assert held == sold
    listed = world.client.get("/v1/orders", headers=world.admin).json()["items"]
    assert len(listed) == threads * per_thread
    unallocated = 0
    for summary in listed:
        order = world.client.get(f"/v1/orders/{summary['id']}", headers=world.admin).json()
        unallocated += order["lines"][0]["buckets"]["unallocated"]
    assert sold + unallocated == threads * per_thread


def test_a_race_lost_to_another_process_writes_nothing_and_sources_again(
    world: World, morning: datetime
) -> None:
    """This process's index still sees the warehouse's last unit, which another process sold:
    the write that would reserve it finds no room and is rolled back whole (on PostgreSQL in
    the round trip that would have committed it), and the basket is sourced again from fresh
    figures: the store's unit."""
    network(world, [("WH1", "A", 1), ("ST1", "A", 1)])
    index = AvailabilityIndex(world.db, max_staleness=3600)  # catches up when marked stale
    stale = SourcingView(world.db, criteria=installed_criteria(), index=index)
    stale.refresh()
    elsewhere = SourcingView(world.db, criteria=installed_criteria())
    first = ordering.place_order(
        world.db, elsewhere, request("elsewhere", 1), now=morning, record=decision_record
    )
    assert [f.location for f in first.order.fulfilments] == ["WH1"]

    second = ordering.place_order(
        world.db, stale, request("here", 1), now=morning, record=decision_record
    )

    assert [f.location for f in second.order.fulfilments] == ["ST1"]
    assert [d.outcome for d in second.order.decisions] == ["race_lost", "allocated"]
    assert (reserved(world.db, "WH1", "A"), reserved(world.db, "ST1", "A")) == (1, 1)
    assert count_allocations(world.db) == 2
    listed = world.client.get("/v1/orders", headers=world.admin).json()["items"]
    assert sorted(o["id"] for o in listed) == sorted(
        [first.order.summary.id, second.order.summary.id]
    )
    cancelled = world.client.post(
        f"/v1/orders/{second.order.summary.id}/cancel", headers=world.admin
    )
    assert cancelled.status_code == 200, cancelled.text
    assert reserved(world.db, "ST1", "A") == 0


def stamp_of(db: Database, order_id: str) -> int:
    """The change stamp the order's transaction wrote (its events carry it)."""
    with db.read() as conn:
        query = select(func.max(events.c.stamp)).where(events.c.order_id == order_id)
        return int(conn.execute(query).scalar_one())


def atp_at(index: AvailabilityIndex, location: str, sku: str) -> int:
    return index.atp_by_location([sku]).get(location, {}).get(sku, 0)


def test_an_order_shows_in_its_process_index_at_once_without_a_catch_up(
    world: World, morning: datetime
) -> None:
    """The order's service takes its reserves off the index itself: no statement reads them
    back, and a later catch-up, which sees them in the database, does not take them twice."""
    network(world, [("WH1", "A", 10)])
    index = AvailabilityIndex(world.db, max_staleness=3600)
    view = SourcingView(world.db, criteria=installed_criteria(), index=index)
    view.refresh()
    assert atp_at(index, "WH1", "A") == 10
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(world.db.engine, "before_cursor_execute", count)
    try:
        ordering.place_order(world.db, view, request("k", 3), now=morning, record=decision_record)
        view.refresh()
        assert atp_at(index, "WH1", "A") == 7
    finally:
        event.remove(world.db.engine, "before_cursor_execute", count)
    assert not index.marked_stale
    assert not [s for s in statements if "feed_clock WHERE name" in s]  # no catch-up
    index.mark_stale()
    index.catch_up()
    assert atp_at(index, "WH1", "A") == 7


def test_own_reserves_a_catch_up_has_already_read_are_not_taken_twice(
    world: World, morning: datetime
) -> None:
    """Reserves reach the index after their commit: a catch-up in between (another thread's)
    read the positions with them, and its snapshot says so."""
    network(world, [("WH1", "A", 10)])
    before = AvailabilityIndex(world.db)
    before.catch_up()
    placed = ordering.place_order(
        world.db,
        SourcingView(world.db, criteria=installed_criteria()),
        request("k", 3),
        now=morning,
        record=decision_record,
    )
    stamp = stamp_of(world.db, placed.order.summary.id)
    after = AvailabilityIndex(world.db)
    after.catch_up()
    assert atp_at(after, "WH1", "A") == 7

    after.apply_own(stamp, [("WH1", "A", 3)])
    before.apply_own(stamp, [("WH1", "A", 3)])

    assert atp_at(after, "WH1", "A") == 7  # seen: nothing taken
    assert atp_at(before, "WH1", "A") == 7  # not seen: taken
    before.mark_stale()
    before.catch_up()
    assert atp_at(before, "WH1", "A") == 7  # read again, not taken twice


def test_own_reserves_taken_off_while_a_catch_up_reads_are_taken_off_again_after_it(
    world: World, morning: datetime
) -> None:
    """An order commits and takes its units off while a catch-up is reading the database from
    a snapshot before that commit: the figures the catch-up then writes lack the order, and
    the order does not wait for it either; its units are taken off again."""
    network(world, [("WH1", "A", 10)])
    index = AvailabilityIndex(world.db, max_staleness=3600)
    index.catch_up()
    elsewhere = SourcingView(world.db, criteria=installed_criteria())
    ordering.place_order(
        world.db, elsewhere, request("first", 1), now=morning, record=decision_record
    )
    meanwhile: list[str] = []

    def order_meanwhile(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if meanwhile or not statement.startswith("SELECT stock_changes."):
            return
        meanwhile.append(statement)  # the catch-up has read the changes: order now
        placed = ordering.place_order(
            world.db, elsewhere, request("second", 3), now=morning, record=decision_record
        )
        index.apply_own(stamp_of(world.db, placed.order.summary.id), [("WH1", "A", 3)])

    event.listen(world.db.engine, "after_cursor_execute", order_meanwhile)
    try:
        index.mark_stale()
        index.catch_up()
    finally:
        event.remove(world.db.engine, "after_cursor_execute", order_meanwhile)
    assert meanwhile
    assert atp_at(index, "WH1", "A") == 6  # the first order read, the second taken again
    index.mark_stale()
    index.catch_up()
    assert atp_at(index, "WH1", "A") == 6


def test_a_placed_order_shows_in_availability_at_once_within_a_staleness_window(
    world: World, morning: datetime
) -> None:
    network(world, [("WH1", "A", 10)])
    settings = Settings(database_url=world.db.url, availability_max_staleness_ms=60_000)
    app = create_app(settings, db=world.db)
    app.dependency_overrides[get_now] = lambda: morning
    with TestClient(app) as client:
        for key, left in (("k-1", 8), ("k-2", 6)):
            headers = {**world.channel, "Idempotency-Key": key}
            answer = client.post("/v1/orders", json=order_body(("1", "A", 2)), headers=headers)
            assert answer.status_code == 201, answer.text
            read = client.get("/v1/channels/web/availability/A", headers=world.channel)
            assert read.json()["quantity"] == left


near_lines = st.fixed_dictionaries(
    {
        "line_id": st.sampled_from(["1", "2", "", "1\x00"]),
        "sku": st.sampled_from(["A", "B", "NOPE", "A\t"]),
        "quantity": st.one_of(st.integers(-2, 2**40), st.text(max_size=2)),
    }
)
near_orders = st.fixed_dictionaries(
    {
        "lines": st.lists(near_lines, max_size=3),
        "delivery_method": st.sampled_from(["home_standard", "click_collect", "teleport"]),
        "destination": st.sampled_from(
            [LYON, {"city": "Lyon"}, {"city": "Atlantis"}, {"latitude": 91}, None]
        ),
        "pickup_store": st.sampled_from([None, "ST1", "WH1", "NOPE"]),
        "promise_option": st.sampled_from(
            [None, {"method": "home_standard", "price": 499, "currency": "EUR"}, {"x": "\x00"}]
        ),
    }
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fields=near_orders, key=st.sampled_from(["k-1", "k-2", " ", "k\x00"]))
def test_almost_right_orders_never_answer_500(
    world: World, fields: dict[str, Any], key: str
) -> None:
    if world.client.get("/v1/profiles/web-home", headers=world.admin).status_code == 404:
        network(world, [("WH1", "A", 3), ("ST1", "B", 3)])
    body = {**order_body(), **fields}
    answer = world.client.post(
        "/v1/orders", json=body, headers={**world.channel, "Idempotency-Key": key}
    )
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        assert answer.headers["content-type"] == "application/problem+json"
