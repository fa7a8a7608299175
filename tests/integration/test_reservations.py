"""E-reservations over the API, on both databases: units kept at a store for a customer,
set aside, sold at the till, cancelled or expired (exactly at `expires_at`), within the
customer's limits, never two customers for one unit."""

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
from openoms.db.tables import events, reservations, stock_movements, stock_positions
from openoms.db.uow import Database
from openoms.domain.availability import PublicationRule
from openoms.domain.network import LocationKind
from openoms.domain.reservations import ReservationLimits
from openoms.services import channels
from openoms.services import reservations as service
from openoms.services.keys import Role
from openoms.services.timers import run_due
from tests.conftest import NOW, World, bearer
from tests.integration.test_holds import hold_body, make_hold
from tests.integration.test_orders import order_body, place
from tests.integration.test_promise_api import a_weekday_morning, put_location
from tests.integration.test_sourcing_api import publish, set_stock
from tests.integration.test_worker import timers

STORES_ONLY = PublicationRule(kinds=frozenset({LocationKind.STORE}))
NOW_MORNING = a_weekday_morning()


@pytest.fixture(autouse=True)
def clock(world: World) -> Iterator[list[datetime]]:
    """The API's clock, a weekday morning; tests move it by setting `clock[0]`."""
    now = [a_weekday_morning()]
    app = cast(FastAPI, world.client.app)
    app.dependency_overrides[get_now] = lambda: now[0]
    yield now
    app.dependency_overrides.clear()


def stores(world: World, rows: list[tuple[str, str, int]], **st1: Any) -> None:
    """ST1 takes e-reservations (its holding time as given), ST2 does not; `shelf` publishes
    store stock without buffers, so availability is the stores' ATP."""
    put_location(world, "WH1", "warehouse", ["ship"])
    put_location(world, "ST1", "store", ["ship", "click_collect", "e_reservation"])
    if st1:
        body = {**world.client.get("/v1/locations/ST1", headers=world.admin).json(), **st1}
        saved = world.client.put("/v1/locations/ST1", json=body, headers=world.admin)
        assert saved.status_code == 200, saved.text
    put_location(world, "ST2", "store", ["ship", "click_collect"])
    channels.put_channel(world.db, channels.Channel("shelf", "Stores", STORES_ONLY), NOW)
    publish(world)
    set_stock(world, rows)


def reservation_body(*lines: tuple[str, str, int], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "web",
        "location": "ST1",
        "customer": {"name": "Camille Martin", "email": "camille@example.com"},
        "lines": [{"line_id": i, "sku": s, "quantity": q} for i, s, q in lines],
    }
    body.update(extra)
    return body


KEYS = iter(range(1, 1_000_000))


def reserve(
    world: World, body: dict[str, Any], status: int = 201, key: str | None = None
) -> dict[str, Any]:
    headers = {**world.channel, "Idempotency-Key": key or f"r-{next(KEYS)}"}
    answer = world.client.post("/v1/reservations", json=body, headers=headers)
    assert answer.status_code == status, answer.text
    result: dict[str, Any] = answer.json()
    return result


def act(
    world: World, reservation_id: str, action: str, status: int = 200, headers: Any = None
) -> dict[str, Any]:
    answer = world.client.post(
        f"/v1/reservations/{reservation_id}/{action}", headers=headers or world.store1
    )
    assert answer.status_code == status, answer.text
    result: dict[str, Any] = answer.json()
    return result


def shelf(world: World, sku: str, expected: int) -> int:
    """What the `shelf` channel may sell of the sku (the stores' ATP less reservations), once
    it is `expected` or after 10 s: on PostgreSQL the index shows a change once no older
    transaction of the server is running (other test runs share it)."""
    deadline = time.monotonic() + 10
    while True:
        answer = world.client.get(f"/v1/channels/shelf/availability/{sku}", headers=world.channel)
        assert answer.status_code == 200, answer.text
        found = int(answer.json()["quantity"])
        if found == expected or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def on_hand(db: Database, location: str, sku: str) -> int:
    p = stock_positions.c
    with db.read() as conn:
        query = select(p.on_hand).where(p.location_code == location, p.sku_code == sku)
        return int(conn.execute(query).scalar_one())


def event_types(db: Database) -> list[str]:
    with db.read() as conn:
        query = select(events.c.type).where(events.c.type.like("reservation.%"))
        return list(conn.execute(query.order_by(events.c.seq)).scalars())


def stored_state(db: Database, reservation_id: str) -> str:
    with db.read() as conn:
        query = select(reservations.c.state).where(reservations.c.id == reservation_id)
        return str(conn.execute(query).scalar_one())


def test_a_reservation_takes_the_units_out_of_availability_at_once(world: World) -> None:
    stores(world, [("ST1", "A", 5), ("ST2", "A", 2)])
    assert shelf(world, "A", 7) == 7
    made = reserve(world, reservation_body(("1", "A", 3)))
    assert made["status"] == "open"
    assert made["lines"] == [{"line_id": "1", "sku": "A", "units": 3}]
    assert shelf(world, "A", 4) == 4
    assert on_hand(world.db, "ST1", "A") == 5  # nothing left the shelf yet


def test_an_order_cannot_take_units_a_reservation_keeps(world: World) -> None:
    stores(world, [("ST1", "A", 4)])
    reserve(world, reservation_body(("1", "A", 4)))
    order = place(world, order_body(("1", "A", 1)), "k-1")
    assert order["lines"][0]["buckets"]["unallocated"] == 1
    set_stock(world, [("ST1", "A", 5)])
    assert shelf(world, "A", 1) == 1
    order = place(world, order_body(("1", "A", 1)), "k-2")
    assert order["lines"][0]["buckets"]["allocated"] == {"ST1": 1}  # the fifth unit


def test_the_store_sets_aside_then_the_customer_pays_and_the_units_leave_on_hand(
    world: World,
) -> None:
    stores(world, [("ST1", "A", 5)])
    made = reserve(world, reservation_body(("1", "A", 2)))
    assert act(world, made["id"], "set-aside")["status"] == "set_aside"
    assert shelf(world, "A", 3) == 3
    sold = act(world, made["id"], "convert")
    assert sold["status"] == "converted"
    assert on_hand(world.db, "ST1", "A") == 3
    assert shelf(world, "A", 3) == 3  # the units were out of availability already
    with world.db.read() as conn:
        m = stock_movements.c
        rows = conn.execute(select(m.location_code, m.sku_code, m.delta, m.reason)).all()
    assert [tuple(r) for r in rows] == [("ST1", "A", -2, "sale")]
    assert event_types(world.db) == [
        "reservation.created",
        "reservation.set_aside",
        "reservation.converted",
    ]
    act(world, made["id"], "convert", status=409)  # sold once
    assert on_hand(world.db, "ST1", "A") == 3


def test_a_cancelled_reservation_gives_its_units_back(world: World) -> None:
    stores(world, [("ST1", "A", 2)])
    made = reserve(world, reservation_body(("1", "A", 2)))
    assert shelf(world, "A", 0) == 0
    assert act(world, made["id"], "cancel", headers=world.channel)["status"] == "cancelled"
    assert shelf(world, "A", 2) == 2
    act(world, made["id"], "cancel", status=409)
    act(world, made["id"], "convert", status=409)
    assert "reservation.cancelled" in event_types(world.db)


def test_the_store_holding_time_sets_the_expiry(world: World, clock: list[datetime]) -> None:
    stores(world, [("ST1", "A", 5)], reservation_hours=2)
    made = reserve(world, reservation_body(("1", "A", 1)))
    assert datetime.fromisoformat(made["expires_at"]) == clock[0] + timedelta(hours=2)


def test_a_reservation_expires_exactly_at_expires_at_and_its_units_come_back(
    world: World, clock: list[datetime]
) -> None:
    stores(world, [("ST1", "A", 3)])
    made = reserve(world, reservation_body(("1", "A", 3)))
    expires_at = datetime.fromisoformat(made["expires_at"])
    assert expires_at == clock[0] + timedelta(hours=48)  # the default holding time
    clock[0] = expires_at - timedelta(microseconds=1)
    assert shelf(world, "A", 0) == 0
    assert act(world, made["id"], "set-aside")["status"] == "set_aside"
    clock[0] = expires_at
    got = world.client.get(f"/v1/reservations/{made['id']}", headers=world.store1).json()
    assert got["status"] == "expired"
    assert shelf(world, "A", 3) == 3
    act(world, made["id"], "convert", status=409)
    assert on_hand(world.db, "ST1", "A") == 3
    other = reservation_body(("1", "A", 3), customer={"name": "Lou", "email": "lou@example.com"})
    reserve(world, other)  # the units are available again: another customer takes them
    assert run_due(world.db, timers(world), expires_at) >= 1
    assert stored_state(world.db, made["id"]) == "expired"
    assert event_types(world.db).count("reservation.expired") == 1


def test_the_expiry_job_leaves_a_converted_reservation_alone(
    world: World, clock: list[datetime]
) -> None:
    stores(world, [("ST1", "A", 3)])
    made = reserve(world, reservation_body(("1", "A", 1)))
    act(world, made["id"], "convert")
    run_due(world.db, timers(world), datetime.fromisoformat(made["expires_at"]))
    assert stored_state(world.db, made["id"]) == "converted"
    assert "reservation.expired" not in event_types(world.db)


def test_a_customer_may_hold_only_so_many_reservations_and_units(world: World) -> None:
    stores(world, [("ST1", "A", 50), ("ST1", "B", 50)])
    limits = ReservationLimits()
    first = reserve(world, reservation_body(("1", "A", limits.max_units_per_sku)))
    refused = reserve(world, reservation_body(("1", "A", 1)), status=409)
    assert refused["code"] == "reservation_limit_exceeded"
    assert "max_units_per_sku" in refused["detail"]
    for _ in range(limits.max_open - 1):
        reserve(world, reservation_body(("1", "B", 1)))
    refused = reserve(world, reservation_body(("1", "B", 1)), status=409)
    assert "max_open" in refused["detail"]
    shouting = {"name": "Camille", "email": "CAMILLE@example.com"}  # the same customer
    reserve(world, reservation_body(("1", "B", 1), customer=shouting), status=409)
    other = {"name": "Lou", "email": "lou@example.com"}
    reserve(world, reservation_body(("1", "A", 1), customer=other))
    act(world, first["id"], "cancel")
    reserve(world, reservation_body(("1", "A", 1)))  # room again once one is cancelled


def test_two_customers_racing_for_the_last_unit_one_wins(world: World) -> None:
    stores(world, [("ST1", "A", 1)])
    app = cast(FastAPI, world.client.app)
    view = app.state.sourcing
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(index: int) -> None:
        db = Database(world.db.url)
        request = service.ReservationRequest(
            channel="web",
            location="ST1",
            customer_name=f"Customer {index}",
            customer_email=f"c{index}@example.com",
            lines=(service.ReservedLine("1", "A", 1),),
            idempotency_key=f"race-{index}",
            request_hash=f"hash-{index}",
        )
        try:
            barrier.wait()
            made = service.create_reservation(
                db, view, request, limits=ReservationLimits(), now=a_weekday_morning()
            )
            outcomes.append(made.reservation.status.value)
        except Exception as error:  # the loser's refusal is what is asserted
            outcomes.append(type(error).__name__)
        finally:
            db.dispose()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ReservationDoesNotFit", "open"]
    with world.db.read() as conn:
        assert len(conn.execute(select(reservations.c.id)).all()) == 1


def test_a_retry_with_the_same_key_answers_the_first_reservation(world: World) -> None:
    stores(world, [("ST1", "A", 5)])
    body = reservation_body(("1", "A", 2))
    first = reserve(world, body, key="same")
    again = reserve(world, body, status=200, key="same")
    assert again["id"] == first["id"]
    assert shelf(world, "A", 3) == 3
    reused = reserve(world, reservation_body(("1", "A", 1)), status=409, key="same")
    assert reused["code"] == "idempotency_key_reused"


def test_units_the_store_does_not_have_are_refused_and_nothing_is_reserved(
    world: World,
) -> None:
    stores(world, [("ST1", "A", 5), ("ST1", "B", 1)])
    refused = reserve(world, reservation_body(("1", "A", 2), ("2", "B", 2)), status=409)
    assert refused["code"] == "reservation_does_not_fit"
    assert "2" in refused["detail"]
    assert shelf(world, "A", 5) == 5
    assert shelf(world, "B", 1) == 1


def test_a_store_sees_and_acts_on_its_own_reservations_only(world: World) -> None:
    stores(world, [("ST1", "A", 5)])
    made = reserve(world, reservation_body(("1", "A", 1)))
    st2 = bearer(world.db, Role.STORE, "ST2")
    assert world.client.get(f"/v1/reservations/{made['id']}", headers=st2).status_code == 404
    act(world, made["id"], "set-aside", status=404, headers=st2)
    act(world, made["id"], "set-aside", status=403, headers=world.channel)
    listed = world.client.get("/v1/reservations?location=ST1", headers=st2)
    assert listed.status_code == 403
    assert listed.json()["errors"][0]["field"] == "location"
    own = world.client.get("/v1/reservations", headers=world.store1).json()
    assert [r["id"] for r in own["items"]] == [made["id"]]
    assert world.client.get("/v1/reservations", headers=st2).json()["items"] == []


def test_listing_filters_by_status_as_of_now(world: World, clock: list[datetime]) -> None:
    stores(world, [("ST1", "A", 5)], reservation_hours=1)
    early = reserve(world, reservation_body(("1", "A", 1)))
    clock[0] += timedelta(minutes=30)
    late = reserve(world, reservation_body(("1", "A", 1)))
    act(world, late["id"], "set-aside")
    clock[0] += timedelta(minutes=30)  # early expires now

    def listed(status: str) -> list[str]:
        answer = world.client.get(
            f"/v1/reservations?location=ST1&status={status}", headers=world.admin
        )
        assert answer.status_code == 200, answer.text
        return [r["id"] for r in answer.json()["items"]]

    assert listed("expired") == [early["id"]]
    assert listed("open") == []
    assert listed("set_aside") == [late["id"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"location": "ST2"}, "location"),
        ({"location": "NOPE"}, "location"),
        ({"channel": "nope"}, "channel"),
        ({"lines": [{"line_id": "1", "sku": "ZZZ", "quantity": 1}]}, "lines[0].sku"),
        ({"lines": [{"line_id": "1", "sku": "A", "quantity": 0}]}, "lines[0].quantity"),
        (
            {"lines": [{"line_id": "1", "sku": "A", "quantity": 1}] * 2},
            "lines",
        ),
        ({"customer": {"name": "X", "email": "not-an-email"}}, "customer.email"),
        ({"lines": []}, "lines"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_reserves_nothing(
    world: World, change: dict[str, Any], field: str
) -> None:
    stores(world, [("ST1", "A", 5), ("ST2", "A", 5)])
    answer = reserve(world, reservation_body(("1", "A", 1), **change), status=422)
    assert field in [e["field"] for e in answer["errors"]]
    assert shelf(world, "A", 10) == 10


def test_an_order_planned_before_a_reservation_cannot_take_its_units(world: World) -> None:
    """An order's plan may come from a hold (or a stale index) that did not count the
    reservation: its conditional reserve in the database still does (on PostgreSQL too, where
    it is hand-written SQL in one round trip)."""
    stores(world, [("ST1", "A", 2)])
    assert shelf(world, "A", 2) == 2  # the hold is sourced from the index
    hold = make_hold(world, hold_body(("1", "A", 1)))
    assert hold["lines"][0]["location"] == "ST1"
    reservation = reserve(world, reservation_body(("1", "A", 1)))
    set_stock(world, [("ST1", "A", 1)])  # one unit left for the hold and the reservation
    order = place(world, order_body(("1", "A", 1), hold_id=hold["id"]), "k-1")
    assert order["lines"][0]["buckets"]["allocated"] == {}
    assert order["lines"][0]["buckets"]["unallocated"] == 1
    sold = act(world, reservation["id"], "convert")
    assert sold["status"] == "converted"
    assert on_hand(world.db, "ST1", "A") == 0


def test_one_customer_asking_twice_at_once_gets_no_more_than_the_limit(world: World) -> None:
    stores(world, [("ST1", "A", 10)])
    limits = ReservationLimits(max_open=1, max_units_per_sku=4)
    app = cast(FastAPI, world.client.app)
    view = app.state.sourcing
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(index: int) -> None:
        db = Database(world.db.url)
        request = service.ReservationRequest(
            "web",
            "ST1",
            "Lou",
            "lou@example.com",
            (service.ReservedLine("1", "A", 1),),
            f"same-customer-{index}",
            f"hash-{index}",
        )
        try:
            barrier.wait()
            made = service.create_reservation(db, view, request, limits=limits, now=NOW_MORNING)
            outcomes.append(made.reservation.status.value)
        except Exception as error:  # the loser's refusal is what is asserted
            outcomes.append(type(error).__name__)
        finally:
            db.dispose()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ReservationLimitReached", "open"]
