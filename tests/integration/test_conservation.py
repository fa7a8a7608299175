"""Invariant 3 under any sequence of operations: every unit of an order line is in exactly one
bucket, and every reserved unit of a position is held by exactly one fulfilment there.

Hypothesis draws sequences of placements (home delivery and click & collect at ST1), transitions
(claim, full and short picks, pack, ship, deliver, rejects of every reason, cancel, and for
click & collect: transfer, ready, receive, handover with the pickup code), order cancellations
of whole orders or some units, tracking events, stock snapshots, the worker's jobs run days
later (holding times ending, transfers overdue, offers timing out), fulfilments taken through
to delivery, returns asked and received (resold, second-hand, damaged) and e-reservations made,
set aside, converted and cancelled, and applies them over the API; refusals (409, 422) are
fine, a 5xx never is. After each sequence, every order reads back conserved, and the database
agrees: reserved = the units of the allocations whose fulfilment still holds them
(e-reservations keep their units apart from `reserved`: decision 0014), no return asked for
units its order had not delivered or had returned already, and the units of received returns
are the lines' `returned` bucket.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from openoms.api.deps import get_now
from openoms.api.routes.orders import decision_record
from openoms.db.tables import (
    allocations,
    events,
    fulfilments,
    return_lines,
    returns,
    stock_positions,
)
from openoms.domain.fulfilments import FulfilmentStatus, holds_allocation
from openoms.services.timers import Timers, run_due
from tests.conftest import World
from tests.integration.test_collect import COLLECT
from tests.integration.test_fulfilments import read_order, settle
from tests.integration.test_orders import BROADCAST, network, order_body
from tests.integration.test_promise_api import a_weekday_morning, put_location
from tests.integration.test_sourcing_api import publish

SKUS = ("A", "B", "C")
LOCATIONS = ("WH1", "ST1", "ST2")
NUMBERS = itertools.count(1)
COLLECT_AT_ST1 = {"delivery_method": "click_collect", "destination": None, "pickup_store": "ST1"}

lines = st.lists(
    st.tuples(st.sampled_from(SKUS), st.integers(1, 3)),
    min_size=1,
    max_size=3,
    unique_by=lambda t: t[0],
)
returning = st.tuples(
    st.just("return"),
    st.integers(0, 50),
    st.sampled_from(("in_store", "carrier")),
    st.integers(1, 3),
)
receiving = st.tuples(
    st.just("receive"), st.integers(0, 50), st.sampled_from(("resell", "second_hand", "damaged"))
)
act = st.tuples(
    st.just("act"),
    st.integers(0, 50),
    st.sampled_from(
        (
            "claim",
            "pick",
            "short_pick",
            "pack",
            "ship",
            "deliver",
            "cancel",
            "transfer",
            "ready",
            "receive",
            "collect",
        )
    ),
)
reject = st.tuples(
    st.just("reject"),
    st.integers(0, 50),
    st.sampled_from(("out_of_stock", "damaged", "no_capacity")),
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("place"), lines),
        st.tuples(st.just("place_collect"), lines),
        act,
        act,
        act,
        reject,
        st.tuples(st.just("cancel_order"), st.integers(0, 50), st.booleans()),
        st.tuples(st.just("track"), st.integers(0, 50)),
        st.tuples(st.just("advance"), st.integers(0, 50), st.integers(2, 8)),
        st.tuples(st.just("advance"), st.integers(0, 50), st.integers(2, 8)),
        st.tuples(
            st.just("snapshot"),
            st.sampled_from(LOCATIONS),
            st.sampled_from(SKUS),
            st.integers(0, 8),
        ),
        st.tuples(st.just("fulfil"), st.integers(0, 50)),
        st.tuples(st.just("fulfil"), st.integers(0, 50)),
        returning,
        returning,
        receiving,
        receiving,
        st.tuples(st.just("reserve"), st.sampled_from(SKUS), st.integers(1, 3)),
        st.tuples(
            st.just("reservation"),
            st.integers(0, 50),
            st.sampled_from(("set-aside", "convert", "cancel")),
        ),
        st.tuples(st.just("jobs"), st.integers(1, 7)),
    ),
    min_size=4,
    max_size=24,
)


@pytest.fixture(autouse=True)
def morning(world: World) -> Iterator[datetime]:
    now = a_weekday_morning()
    app = cast(FastAPI, world.client.app)
    app.dependency_overrides[get_now] = lambda: now
    yield now
    app.dependency_overrides.clear()


class Run:
    """What a sequence has made so far, so that operations can pick targets by index."""

    def __init__(self, world: World, now: datetime) -> None:
        self.world = world
        self.now = now
        self.orders: list[str] = []
        self.fulfilments: list[str] = []
        self.parcels: dict[str, str] = {}
        self.order_of: dict[str, str] = {}
        self.returns: list[str] = []
        self.delivered: list[str] = []
        """Orders seen delivered: returns go to them mostly (to the others, to be refused)."""
        self.reservations: list[str] = []

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        answer = self.world.client.request(
            method, path, json=body, headers={**self.world.admin, **headers}
        )
        assert answer.status_code < 500, answer.text
        return answer

    def remember(self, order: dict[str, Any]) -> None:
        if order["id"] not in self.orders:
            self.orders.append(order["id"])
        for fulfilment in order["fulfilments"]:
            if fulfilment["id"] not in self.order_of:
                self.fulfilments.append(fulfilment["id"])
                self.order_of[fulfilment["id"]] = order["id"]

    def apply(self, operation: tuple[Any, ...]) -> None:
        kind = operation[0]
        if kind in ("place", "place_collect"):
            extra = COLLECT_AT_ST1 if kind == "place_collect" else {}
            ordered = ((str(i), s, q) for i, (s, q) in enumerate(operation[1], 1))
            body = order_body(*ordered, **extra)
            answer = self.call("POST", "/v1/orders", body, **{"Idempotency-Key": key()})
            if answer.status_code == 201:
                self.remember(answer.json())
        elif kind == "jobs":
            app = cast(FastAPI, self.world.client.app)
            timers = Timers(app.state.sourcing, decision_record)
            run_due(self.world.db, timers, self.now + timedelta(days=operation[1]))
            self.refresh(self.orders)
        elif kind == "snapshot":
            _, location, sku, on_hand = operation
            row = {"location": location, "sku": sku, "on_hand": on_hand, "as_of": as_of()}
            self.call("POST", "/v1/stock/snapshots", {"rows": [row]})
            self.refresh(self.orders)  # stock drift may re-route any order
        elif kind == "cancel_order" and self.orders:
            order_id = self.orders[operation[1] % len(self.orders)]
            body = None
            if operation[2]:
                body = {"lines": [{"line_id": "1", "units": 1}]}
            self.call("POST", f"/v1/orders/{order_id}/cancel", body)
            self.refresh([order_id])
        elif kind in ("return", "receive", "reserve", "reservation"):
            self.store_service(operation)
        elif kind in ("fulfil", "advance") and self.fulfilments:
            self.take_along(operation)
        elif kind in ("act", "reject", "track") and self.fulfilments:
            fid = self.fulfilments[operation[1] % len(self.fulfilments)]
            self.transition(fid, operation)
            self.refresh(self.orders if kind == "reject" else [self.order_of[fid]])

    def take_along(self, operation: tuple[Any, ...]) -> None:
        """`fulfil`: a fulfilment taken to the customer; `advance`: a click & collect one moved
        on its way by so many steps."""
        fid = self.fulfilments[operation[1] % len(self.fulfilments)]
        order_id = self.order_of[fid]
        if operation[0] == "advance":
            for _ in range(operation[2]):
                self.advance(fid)
            self.refresh([order_id])
            return
        for action in ("claim", "pick", "pack", "ship", "deliver"):
            self.transition(fid, ("act", operation[1], action))
        self.refresh([order_id])
        status = self.call("GET", f"/v1/orders/{order_id}").json()["status"]
        if status == "delivered" and order_id not in self.delivered:
            self.delivered.append(order_id)

    def store_service(self, operation: tuple[Any, ...]) -> None:
        """Returns and e-reservations at ST1 (the second-hand hub is HUB)."""
        kind = operation[0]
        if kind == "return" and self.orders:
            _, index, method, units = operation
            targets = self.delivered if self.delivered and index % 4 else self.orders
            order_id = targets[index % len(targets)]
            body = {
                "order_id": order_id,
                "method": method,
                "location": "ST1" if method == "in_store" else None,
                "reason": "changed_mind",
                "lines": [{"line_id": "1", "units": units}],
            }
            answer = self.call("POST", "/v1/returns", body, **{"Idempotency-Key": key()})
            if answer.status_code == 201:
                self.returns.append(answer.json()["id"])
        elif kind == "receive" and self.returns:
            _, index, outcome = operation
            return_id = self.returns[index % len(self.returns)]
            asked = self.call("GET", f"/v1/returns/{return_id}").json()
            grade = {"grade": "good"} if outcome == "second_hand" else {}
            items = [
                {"line_id": line["line_id"], "outcome": outcome, "units": line["units"], **grade}
                for line in asked["lines"]
            ]
            body = {"location": "ST1", "items": items}
            self.call("POST", f"/v1/returns/{return_id}/receive", body)
            self.refresh([asked["order_id"]])
        elif kind == "reserve":
            _, sku, units = operation
            number = next(NUMBERS)
            body = {
                "channel": "web",
                "location": "ST1",
                "customer": {"name": "Lou", "email": f"lou{number}@example.com"},
                "lines": [{"line_id": "1", "sku": sku, "quantity": units}],
            }
            answer = self.call("POST", "/v1/reservations", body, **{"Idempotency-Key": key()})
            if answer.status_code == 201:
                self.reservations.append(answer.json()["id"])
        elif kind == "reservation" and self.reservations:
            _, index, action = operation
            reservation_id = self.reservations[index % len(self.reservations)]
            self.call("POST", f"/v1/reservations/{reservation_id}/{action}")
            self.refresh(self.orders)  # a sale below what is held re-routes orders

    def refresh(self, order_ids: list[str]) -> None:
        """Re-routes make new fulfilments: learn them."""
        for order_id in order_ids:
            self.remember(read_order(self.world, order_id))

    def advance(self, fid: str) -> None:
        """The next step on the fulfilment's way: to delivery, or to the pickup store and
        into the customer's hands."""
        status = self.call("GET", f"/v1/fulfilments/{fid}").json().get("status")
        packed = "transfer" if self.pickup_store_of(fid) else "ship"
        if packed == "transfer" and self.location_of(fid) == "ST1":
            packed = "ready"
        step = {
            "offered": ("act", "claim"),
            "claimed": ("act", "pick"),
            "picking": ("act", "pack"),
            "packed": ("act", packed),
            "in_transfer": ("act", "receive"),
            "ready_for_pickup": ("act", "collect"),
            "shipped": ("track", "deliver"),
        }.get(str(status))
        if step is not None:
            self.transition(fid, (step[0], 0, step[1]))

    def pickup_store_of(self, fid: str) -> str | None:
        order = self.call("GET", f"/v1/orders/{self.order_of[fid]}").json()
        store = order.get("pickup_store")
        return str(store) if store else None

    def location_of(self, fid: str) -> str | None:
        location = self.call("GET", f"/v1/fulfilments/{fid}").json().get("location")
        return str(location) if location else None

    def transition(self, fid: str, operation: tuple[Any, ...]) -> None:
        kind, action = operation[0], operation[-1]
        path = f"/v1/fulfilments/{fid}"
        held = self.call("GET", path).json()["allocations"]
        if kind == "track":
            if fid in self.parcels:
                event = {"tracking_number": self.parcels[fid], "status": "delivered", "at": as_of()}
                self.call("POST", "/v1/carriers/tracking", {"events": [event]}, **carrier(self))
        elif kind == "reject":
            body: dict[str, Any] = {"reason": action}
            if action == "out_of_stock":
                body["found"] = {a["sku"]: 0 for a in held}
            self.call("POST", f"{path}/reject", body)
        elif action == "short_pick":
            picked = {a["line_id"]: a["units"] - 1 for a in held[:1]}
            self.call("POST", f"{path}/pick", {"picked": picked})
        elif action in ("ship", "transfer"):
            number = f"TRK-{next(NUMBERS)}"
            box = {"tracking_number": number, "carrier_service": "parcel_standard", "weight_g": 900}
            if self.call("POST", f"{path}/{action}", {"parcels": [box]}).status_code == 200:
                self.parcels[fid] = number
        elif action == "collect":
            order_id = self.order_of[fid]
            code = ready_code(self.world, order_id)
            self.call("POST", f"/v1/orders/{order_id}/collect", {"code": code or "AAAAAA"})
        else:
            self.call("POST", f"{path}/{action}")


def ready_code(world: World, order_id: str) -> str | None:
    """The latest pickup code sent for the order, if any."""
    e = events.c
    query = (
        select(e.payload)
        .where(e.order_id == order_id, e.type == "order.ready_for_pickup")
        .order_by(e.stamp.desc(), e.seq.desc())
    )
    with world.db.read() as conn:
        payload = conn.execute(query).scalars().first()
    return str(payload["code"]) if payload else None


def carrier(run: Run) -> dict[str, str]:
    return run.world.carrier


def key() -> str:
    return f"k-{next(NUMBERS)}"


def as_of() -> str:
    return (datetime.now(UTC) - timedelta(seconds=1)).isoformat()


def held_by_fulfilments(world: World) -> dict[tuple[str, str], int]:
    a, f = allocations.c, fulfilments.c
    query = select(f.status, a.location_code, a.sku_code, a.units).join(
        fulfilments, f.id == a.fulfilment_id
    )
    held: dict[tuple[str, str], int] = defaultdict(int)
    with world.db.read() as conn:
        for status, location, sku, units in conn.execute(query):
            if holds_allocation(FulfilmentStatus(status)):
                held[(location, sku)] += units
    return held


def returns_by_line(world: World) -> dict[tuple[str, str], tuple[int, int]]:
    """(order, line) -> (units of all its returns, units of its received returns)."""
    r, rl = returns.c, return_lines.c
    query = select(r.order_id, rl.line_id, r.state, rl.units).join_from(
        return_lines, returns, r.id == rl.return_id
    )
    found: dict[tuple[str, str], tuple[int, int]] = {}
    with world.db.read() as conn:
        for order_id, line_id, state, units in conn.execute(query):
            asked, received = found.get((order_id, line_id), (0, 0))
            found[(order_id, line_id)] = (
                asked + units,
                received + (units if state == "received" else 0),
            )
    return found


def check_returns(world: World, order_ids: list[str]) -> None:
    """No unit returned twice or without being delivered; received ones are in `returned`."""
    by_line = returns_by_line(world)
    for order_id in order_ids:
        for line in read_order(world, order_id)["lines"]:
            b = line["buckets"]
            asked, received = by_line.get((order_id, line["line_id"]), (0, 0))
            assert asked <= b["delivered"] + b["collected"] + b["returned"]
            assert received == b["returned"]


def reserved(world: World) -> dict[tuple[str, str], int]:
    p = stock_positions.c
    with world.db.read() as conn:
        rows = conn.execute(select(p.location_code, p.sku_code, p.reserved, p.on_hand))
        found = {}
        for location, sku, units, on_hand in rows:
            assert units >= 0
            assert on_hand >= 0
            if units:
                found[(location, sku)] = units
    return found


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=operations)
def test_any_sequence_of_operations_keeps_every_unit_in_exactly_one_bucket(
    world: World, morning: datetime, sequence: list[tuple[Any, ...]]
) -> None:
    run: Run | None = getattr(world, "run", None)
    if run is None:  # the first example sets up; later ones act on what earlier ones made
        network(world, [(at, sku, 6) for at in LOCATIONS for sku in SKUS], BROADCAST)
        put_location(world, "ST1", "store", ["ship", "click_collect", "returns", "e_reservation"])
        put_location(world, "HUB", "second_hand", [])
        publish(world, COLLECT)
        settle(world, list(SKUS))
        run = Run(world, morning)
        world.run = run  # type: ignore[attr-defined]
    for operation in sequence:
        run.apply(operation)
    for order_id in run.orders:
        read_order(world, order_id)  # checks every line's buckets
    check_returns(world, run.orders)
    assert reserved(world) == {k: v for k, v in held_by_fulfilments(world).items() if v}


collect_operations = st.lists(
    st.one_of(
        st.tuples(st.just("place_collect"), lines),
        st.tuples(st.just("advance"), st.integers(0, 50), st.integers(2, 8)),
        st.tuples(st.just("advance"), st.integers(0, 50), st.integers(2, 8)),
        reject,
        st.tuples(st.just("cancel_order"), st.integers(0, 50), st.booleans()),
        st.tuples(
            st.just("snapshot"),
            st.sampled_from(LOCATIONS),
            st.sampled_from(SKUS),
            st.integers(0, 20),
        ),
        st.tuples(st.just("jobs"), st.integers(1, 7)),
    ),
    min_size=4,
    max_size=16,
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=collect_operations)
def test_any_sequence_of_click_and_collect_operations_keeps_every_unit_in_one_bucket(
    world: World, morning: datetime, sequence: list[tuple[Any, ...]]
) -> None:
    """Orders to collect at ST1 only, from its shelf or transferred from ST2 or WH1, taken all
    the way to the customer (or not collected in time), with rejects, cancellations,
    snapshots and the worker's jobs among them."""
    run: Run | None = getattr(world, "run", None)
    if run is None:
        network(world, [(at, sku, 20) for at in LOCATIONS for sku in SKUS], BROADCAST)
        publish(world, COLLECT)
        settle(world, list(SKUS))
        run = Run(world, morning)
        world.run = run  # type: ignore[attr-defined]
    for operation in sequence:
        run.apply(operation)
    for order_id in run.orders:
        read_order(world, order_id)
    assert reserved(world) == {k: v for k, v in held_by_fulfilments(world).items() if v}
