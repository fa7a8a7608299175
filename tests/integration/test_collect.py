"""Click & collect and express click & collect over the API, on both databases: the store's own
shelf, transfers and their receipt, the pickup code and its tries, handover, the holding time,
an overdue transfer, express deadlines and an express order its store cannot make, the mail."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import select

from openoms.api.deps import get_now
from openoms.api.routes.orders import decision_record
from openoms.config import Settings
from openoms.db.tables import events, notifications, orders, stock_movements
from openoms.db.uow import Database
from openoms.domain.fulfilments import Actor
from openoms.services import collect as collect_service
from openoms.services.fulfilment import Caller
from openoms.services.keys import Role
from openoms.services.mail import SmtpMailer, mailer_from
from openoms.services.notifications import send_due
from openoms.services.timers import Timers, run_due
from tests.conftest import World, bearer
from tests.integration.test_fulfilments import act, event_types, parcel, position, read_order
from tests.integration.test_orders import order_body, place
from tests.integration.test_promise_api import a_weekday_morning
from tests.integration.test_sourcing_api import EVERY_DAY, PROFILE, publish, set_stock

SHELF = {
    "name": "the pickup store's shelf",
    "filters": {"kinds": ["store"], "max_distance_km": 0.5},
    "split": {"mode": "never"},
}
COLLECT: dict[str, Any] = {
    "code": "web-collect",
    "name": "Web, click & collect",
    "channel": "web",
    "delivery_method": "click_collect",
    "rules": [
        SHELF,
        {"name": "warehouses", "filters": {"kinds": ["warehouse"]}, "split": {"mode": "never"}},
        {
            "name": "anywhere",
            "filters": {"kinds": ["warehouse", "store"]},
            "split": {"mode": "max_parcels", "max_parcels": 2},
        },
    ],
}
EXPRESS: dict[str, Any] = {
    "code": "web-express-collect",
    "name": "Web, express click & collect",
    "channel": "web",
    "delivery_method": "express_collect",
    "rules": [SHELF],
}
PARIS = (48.85, 2.35)
NEAR_PARIS = (48.86, 2.36)  # about 1.3 km away: not "the shelf" of the other
LYON = (45.76, 4.84)


@pytest.fixture(autouse=True)
def morning(world: World) -> Iterator[datetime]:
    now = a_weekday_morning()
    app = cast(FastAPI, world.client.app)
    app.dependency_overrides[get_now] = lambda: now
    yield now
    app.dependency_overrides.clear()


def put_location(
    world: World, code: str, kind: str, capabilities: list[str], at: tuple[float, float]
) -> None:
    body = {
        "code": code,
        "name": code.title(),
        "kind": kind,
        "latitude": at[0],
        "longitude": at[1],
        "timezone": "Europe/Paris",
        "opening_hours": {"weekly": EVERY_DAY},
        "capabilities": capabilities,
        "daily_capacity": 100,
        "preparation_minutes": 30,
        "handling_cost": 200,
    }
    answer = world.client.put(f"/v1/locations/{code}", json=body, headers=world.admin)
    assert answer.status_code == 200, answer.text


def collect_network(world: World, rows: list[tuple[str, str, int]]) -> None:
    """WH1 near Paris; ST1 in Paris (click & collect, express); ST2 in Lyon (click & collect)."""
    put_location(world, "WH1", "warehouse", ["ship"], NEAR_PARIS)
    put_location(world, "ST1", "store", ["ship", "click_collect", "express_collect"], PARIS)
    put_location(world, "ST2", "store", ["ship", "click_collect"], LYON)
    for profile in (PROFILE, COLLECT, EXPRESS):
        publish(world, profile)
    set_stock(world, rows)


def collect_body(*lines: tuple[str, str, int], method: str = "click_collect") -> dict[str, Any]:
    return order_body(*lines, delivery_method=method, destination=None, pickup_store="ST1")


def timers(world: World) -> Timers:
    app = cast(FastAPI, world.client.app)
    return Timers(app.state.sourcing, decision_record)


def collect_order(
    world: World, order_id: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    answer = world.client.get(
        f"/v1/orders/{order_id}/collect-order", headers=headers or world.store1
    )
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def payloads(db: Database, order_id: str, kind: str) -> list[dict[str, Any]]:
    e = events.c
    with db.read() as conn:
        query = (
            select(e.payload).where(e.order_id == order_id, e.type == kind).order_by(e.stamp, e.seq)
        )
        return [dict(p) for p in conn.execute(query).scalars()]


def code_of(world: World, order_id: str) -> str:
    return str(payloads(world.db, order_id, "order.ready_for_pickup")[-1]["code"])


def hand_over(
    world: World, order_id: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Any:
    return world.client.post(
        f"/v1/orders/{order_id}/collect", json=body, headers=headers or world.store1
    )


def prepare(world: World, fulfilment_id: str, headers: dict[str, str]) -> None:
    for action in ("pick", "pack"):
        act(world, fulfilment_id, action, headers)


def ready_at_st1(world: World, units: int = 2) -> tuple[str, str]:
    """An order served from ST1's own shelf, picked, packed and ready."""
    collect_network(world, [("ST1", "A", 5)])
    order = place(world, collect_body(("1", "A", units)), "k-1")
    [f] = order["fulfilments"]
    assert (f["location"], f["status"]) == ("ST1", "claimed")
    prepare(world, f["id"], world.store1)
    done = act(world, f["id"], "ready", world.store1)
    assert (done["status"], done["order_status"]) == ("ready_for_pickup", "ready_for_pickup")
    return order["id"], f["id"]


def test_an_order_from_the_pickup_stores_shelf_is_ready_there_and_handed_over_with_its_code(
    world: World, morning: datetime
) -> None:
    order_id, _ = ready_at_st1(world)
    assert position(world.db, "ST1", "A") == (5, 2)
    waiting = collect_order(world, order_id)
    assert (waiting["state"], waiting["tries_left"], waiting["waiting_minutes"]) == ("ready", 5, 0)
    assert waiting["holding_until"] == (morning + timedelta(days=5)).isoformat().replace(
        "+00:00", "Z"
    )
    [ready] = payloads(world.db, order_id, "order.ready_for_pickup")
    assert ready["store"] == "ST1"
    assert ready["customer"]["email"] == "camille@example.com"
    assert len(ready["code"]) == 6
    answer = hand_over(world, order_id, {"code": ready["code"].lower(), "associate": "Lea"})
    assert answer.status_code == 200, answer.text
    done = answer.json()
    assert (done["state"], done["handover"], done["associate"]) == ("collected", "code", "Lea")
    assert done["collected_by"] is not None
    order = read_order(world, order_id)
    assert order["status"] == "collected"
    assert order["lines"][0]["buckets"]["collected"] == 2
    assert position(world.db, "ST1", "A") == (3, 0)
    assert event_types(world.db, order_id)[-3:] == [
        "order.ready_for_pickup",
        "fulfilment.collected",
        "order.collected",
    ]
    again = hand_over(world, order_id, {"code": ready["code"]})
    assert (again.status_code, again.json()["code"]) == (409, "not_ready_for_pickup")


def test_an_order_the_store_lacks_is_transferred_from_a_warehouse_and_received_by_scanning(
    world: World,
) -> None:
    collect_network(world, [("WH1", "A", 5)])
    order = place(world, collect_body(("1", "A", 2)), "k-1")
    [f] = order["fulfilments"]
    assert (f["location"], f["status"]) == ("WH1", "claimed")
    prepare(world, f["id"], world.admin)
    shipped = act(world, f["id"], "ship", world.admin, {"parcels": [parcel("TRK-1")]}, status=409)
    assert shipped["code"] == "not_at_pickup_store"
    assert act(world, f["id"], "ready", world.admin, status=409)["code"] == "not_at_pickup_store"
    moved = act(world, f["id"], "transfer", world.admin, {"parcels": [parcel("TRK-1")]})
    assert (moved["status"], moved["order_status"]) == ("in_transfer", "in_progress")
    assert position(world.db, "WH1", "A") == (3, 0)
    [transfer] = collect_order(world, order["id"])["transfers"]
    assert (transfer["from_location"], transfer["status"]) == ("WH1", "in_transfer")
    assert transfer["tracking_numbers"] == ["TRK-1"]
    assert transfer["latest_arrival"] >= moved["updated_at"][:10]
    store2 = bearer(world.db, Role.STORE, "ST2")
    refused = world.client.post("/v1/transfers/TRK-1/receive", headers=store2)
    assert refused.status_code == 403
    unknown = world.client.post("/v1/transfers/NOPE/receive", headers=world.store1)
    assert unknown.status_code == 404
    received = world.client.post("/v1/transfers/TRK-1/receive", headers=world.store1)
    assert received.status_code == 200, received.text
    assert (received.json()["status"], received.json()["location"]) == ("ready_for_pickup", "ST1")
    assert position(world.db, "ST1", "A") == (2, 2)
    order_now = read_order(world, order["id"])
    assert order_now["status"] == "ready_for_pickup"
    assert order_now["lines"][0]["buckets"]["allocated"] == {"ST1": 2}
    assert collect_order(world, order["id"])["transfers"][0]["received_at"] is not None
    with world.db.read() as conn:
        m = stock_movements.c
        moves = conn.execute(select(m.location_code, m.reason, m.delta).order_by(m.delta)).all()
    assert [tuple(r) for r in moves] == [("WH1", "transfer_out", -2), ("ST1", "transfer_in", 2)]
    answer = hand_over(world, order["id"], {"code": code_of(world, order["id"])})
    assert answer.status_code == 200, answer.text
    assert position(world.db, "ST1", "A") == (0, 0)
    assert read_order(world, order["id"])["status"] == "collected"


def test_a_split_order_is_ready_only_once_every_part_is_at_the_store(world: World) -> None:
    collect_network(world, [("ST1", "A", 2), ("WH1", "B", 5)])
    order = place(world, collect_body(("1", "A", 1), ("2", "B", 1)), "k-1")
    by_location = {f["location"]: f["id"] for f in order["fulfilments"]}
    assert sorted(by_location) == ["ST1", "WH1"]
    prepare(world, by_location["ST1"], world.store1)
    assert act(world, by_location["ST1"], "ready", world.store1)["order_status"] == "allocated"
    assert payloads(world.db, order["id"], "order.ready_for_pickup") == []
    assert collect_order(world, order["id"])["state"] == "preparing"
    prepare(world, by_location["WH1"], world.admin)
    act(world, by_location["WH1"], "transfer", world.admin, {"parcels": [parcel("TRK-2")]})
    other = act(
        world, by_location["WH1"], "receive", world.store1, {"tracking_number": "TRK-9"}, status=422
    )
    assert other["errors"][0]["field"] == "tracking_number"
    done = act(world, by_location["WH1"], "receive", world.store1, {"tracking_number": "TRK-2"})
    assert done["order_status"] == "ready_for_pickup"
    assert len(payloads(world.db, order["id"], "order.ready_for_pickup")) == 1
    answer = hand_over(world, order["id"], {"code": code_of(world, order["id"])})
    assert answer.status_code == 200, answer.text
    statuses = [f["status"] for f in read_order(world, order["id"])["fulfilments"]]
    assert statuses == ["collected", "collected"]


def test_wrong_codes_are_counted_and_lock_the_collect_order_until_the_channel_issues_a_new_one(
    world: World,
) -> None:
    order_id, _ = ready_at_st1(world)
    first = code_of(world, order_id)
    wrong = "ZZZZZZ" if first != "ZZZZZZ" else "YYYYYY"
    for left in (4, 3, 2, 1, 0):
        answer = hand_over(world, order_id, {"code": wrong})
        assert answer.status_code == 422
        problem = answer.json()
        assert problem["code"] == "wrong_pickup_code"
        assert problem["errors"][0]["field"] == "code"
        assert f"{left} tries left" in problem["errors"][0]["message"]
    locked = hand_over(world, order_id, {"code": first})
    assert (locked.status_code, locked.json()["code"]) == (409, "pickup_locked")
    assert read_order(world, order_id)["status"] == "ready_for_pickup"
    assert (
        world.client.post(f"/v1/orders/{order_id}/pickup-code", headers=world.store1).status_code
        == 403
    )
    reissued = world.client.post(f"/v1/orders/{order_id}/pickup-code", headers=world.channel)
    assert reissued.status_code == 200, reissued.text
    assert reissued.json()["tries_left"] == 5
    second = code_of(world, order_id)
    assert payloads(world.db, order_id, "order.ready_for_pickup")[-1]["reissued"] is True
    if second != first:
        stale = hand_over(world, order_id, {"code": first})
        assert stale.status_code == 422
    answer = hand_over(world, order_id, {"code": second})
    assert answer.status_code == 200, answer.text


def test_handover_by_the_customers_name_records_it(world: World) -> None:
    order_id, _ = ready_at_st1(world)
    wrong = hand_over(world, order_id, {"customer_name": "Someone Else"})
    assert (wrong.status_code, wrong.json()["errors"][0]["field"]) == (422, "customer_name")
    missing = hand_over(world, order_id, {})
    assert missing.status_code == 422
    answer = hand_over(world, order_id, {"customer_name": "  camille   MARTIN "})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["handover"], answer.json()["tries_left"]) == ("name", 4)


def test_handover_by_another_store_is_refused_and_changes_nothing(world: World) -> None:
    order_id, _ = ready_at_st1(world)
    store2 = bearer(world.db, Role.STORE, "ST2")
    answer = hand_over(world, order_id, {"code": code_of(world, order_id)}, store2)
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["field"] == "location"
    assert (
        world.client.get(f"/v1/orders/{order_id}/collect-order", headers=store2).status_code == 403
    )
    listed = world.client.get("/v1/collect-orders?store=ST1", headers=store2)
    assert listed.status_code == 403
    assert collect_order(world, order_id)["tries_left"] == 5
    assert read_order(world, order_id)["status"] == "ready_for_pickup"
    assert position(world.db, "ST1", "A") == (5, 2)


def test_an_order_not_collected_in_time_goes_back_to_stock_and_is_cancelled(
    world: World, morning: datetime
) -> None:
    order_id, _ = ready_at_st1(world)
    run_due(world.db, timers(world), morning + timedelta(days=4))
    assert read_order(world, order_id)["status"] == "ready_for_pickup"
    run_due(world.db, timers(world), morning + timedelta(days=5, minutes=1))
    order = read_order(world, order_id)
    assert order["status"] == "cancelled"
    assert order["lines"][0]["buckets"]["cancelled"] == 2
    assert position(world.db, "ST1", "A") == (5, 0)
    assert collect_order(world, order_id)["state"] == "uncollected"
    [cancelled] = payloads(world.db, order_id, "order.cancelled")
    assert (cancelled["reason"], cancelled["policy"]) == ("not_collected", "cancel")
    [void] = payloads(world.db, order_id, "payment.void_requested")
    assert (void["amount"], void["currency"]) == (2 * 2999, "EUR")
    late = hand_over(world, order_id, {"code": code_of(world, order_id)})
    assert late.status_code == 409


def test_a_store_that_refunds_keeps_its_own_holding_time(world: World, morning: datetime) -> None:
    collect_network(world, [("ST1", "A", 5)])
    settings = {"holding_days": 2, "express_minutes": 30, "uncollected": "refund"}
    answer = world.client.put(
        "/v1/locations/ST1/collect-settings", json=settings, headers=world.admin
    )
    assert answer.status_code == 200, answer.text
    bad = world.client.put("/v1/locations/WH1/collect-settings", json=settings, headers=world.admin)
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "store")
    wrong = world.client.put(
        "/v1/locations/ST1/collect-settings", json={"holding_days": 0}, headers=world.admin
    )
    assert (wrong.status_code, wrong.json()["errors"][0]["field"]) == (422, "holding_days")
    read = world.client.get("/v1/locations/ST1/collect-settings", headers=world.store1)
    assert read.json() == settings
    defaults = world.client.get("/v1/locations/ST2/collect-settings", headers=world.store1)
    assert defaults.json() == {"holding_days": 5, "express_minutes": 60, "uncollected": "cancel"}
    none = world.client.get("/v1/locations/NOPE/collect-settings", headers=world.store1)
    assert none.status_code == 404
    order = place(world, collect_body(("1", "A", 1)), "k-1")
    [f] = order["fulfilments"]
    prepare(world, f["id"], world.store1)
    act(world, f["id"], "ready", world.store1)
    run_due(world.db, timers(world), morning + timedelta(days=2, minutes=1))
    assert read_order(world, order["id"])["status"] == "cancelled"
    [refund] = payloads(world.db, order["id"], "payment.refund_requested")
    assert (refund["amount"], refund["reason"]) == (2999, "not_collected")


def test_a_transfer_that_never_arrives_is_flagged_overdue_and_may_still_be_received(
    world: World, morning: datetime
) -> None:
    collect_network(world, [("WH1", "A", 5)])
    order = place(world, collect_body(("1", "A", 1)), "k-1")
    [f] = order["fulfilments"]
    prepare(world, f["id"], world.admin)
    act(world, f["id"], "transfer", world.admin, {"parcels": [parcel("TRK-3")]})
    run_due(world.db, timers(world), morning + timedelta(hours=12))
    assert collect_order(world, order["id"])["transfers"][0]["overdue"] is False
    run_due(world.db, timers(world), morning + timedelta(days=14))
    [transfer] = collect_order(world, order["id"])["transfers"]
    assert (transfer["overdue"], transfer["status"]) == (True, "in_transfer")
    [flag] = payloads(world.db, order["id"], "transfer.overdue")
    assert (flag["from"], flag["to"]) == ("WH1", "ST1")
    listed = world.client.get("/v1/collect-orders?state=preparing", headers=world.store1).json()
    assert [p["order_id"] for p in listed["items"]] == [order["id"]]
    done = act(world, f["id"], "receive", world.store1)
    assert done["order_status"] == "ready_for_pickup"


def test_an_express_order_carries_its_deadline_and_is_flagged_late(
    world: World, morning: datetime
) -> None:
    collect_network(world, [("ST1", "A", 5)])
    order = place(world, collect_body(("1", "A", 1), method="express_collect"), "k-1")
    [f] = order["fulfilments"]
    assert (f["location"], f["status"]) == ("ST1", "claimed")
    express = collect_order(world, order["id"])
    assert express["ready_by"] == (morning + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert (express["seconds_left"], express["late"]) == (3600, False)
    run_due(world.db, timers(world), morning + timedelta(minutes=59))
    assert collect_order(world, order["id"])["late"] is False
    run_due(world.db, timers(world), morning + timedelta(minutes=61))
    assert collect_order(world, order["id"])["late"] is True
    assert len(payloads(world.db, order["id"], "order.express_late")) == 1
    late = world.client.get("/v1/collect-orders?late=true", headers=world.store1).json()["items"]
    assert [p["order_id"] for p in late] == [order["id"]]
    later = morning + timedelta(minutes=70)
    cast(FastAPI, world.client.app).dependency_overrides[get_now] = lambda: later
    prepare(world, f["id"], world.store1)
    act(world, f["id"], "ready", world.store1)
    ready = collect_order(world, order["id"])
    assert (ready["state"], ready["late"], ready["seconds_left"]) == ("ready", True, None)
    assert ready["ready_at"] == later.isoformat().replace("+00:00", "Z")


def test_an_express_order_the_store_cannot_prepare_goes_on_as_click_and_collect(
    world: World,
) -> None:
    collect_network(world, [("ST1", "A", 5), ("WH1", "A", 5)])
    order = place(world, collect_body(("1", "A", 1), method="express_collect"), "k-1")
    [f] = order["fulfilments"]
    act(world, f["id"], "reject", world.store1, {"reason": "no_capacity"})
    now = read_order(world, order["id"])
    assert now["delivery_method"] == "click_collect"
    live = [g for g in now["fulfilments"] if g["status"] != "rejected"]
    assert [(g["location"], g["status"]) for g in live] == [("WH1", "claimed")]
    [declined] = payloads(world.db, order["id"], "order.express_declined")
    assert (declined["reason"], declined["delivery_method"]) == ("no_capacity", "click_collect")
    after = collect_order(world, order["id"])
    assert (after["delivery_method"], after["ready_by"], after["seconds_left"]) == (
        "click_collect",
        None,
        None,
    )
    assert position(world.db, "ST1", "A") == (5, 0)


def test_express_collect_is_refused_when_the_shelf_lacks_units_and_nothing_is_written(
    world: World,
) -> None:
    collect_network(world, [("ST1", "A", 1), ("WH1", "A", 5)])
    headers = {**world.channel, "Idempotency-Key": "k-1"}
    body = collect_body(("1", "A", 2), method="express_collect")
    answer = world.client.post("/v1/orders", json=body, headers=headers)
    assert answer.status_code == 409
    assert answer.json()["code"] == "express_collect_unavailable"
    with world.db.read() as conn:
        assert conn.execute(select(orders.c.id)).all() == []


def test_an_order_placed_twice_with_its_key_has_one_collect_order(world: World) -> None:
    collect_network(world, [("ST1", "A", 5)])
    first = place(world, collect_body(("1", "A", 1)), "k-1")
    again = world.client.post(
        "/v1/orders",
        json=collect_body(("1", "A", 1)),
        headers={**world.channel, "Idempotency-Key": "k-1"},
    )
    assert again.status_code == 200
    listed = world.client.get("/v1/collect-orders", headers=world.admin).json()["items"]
    assert [p["order_id"] for p in listed] == [first["id"]]


def test_the_pickup_code_is_owed_by_mail_with_the_order(world: World) -> None:
    order_id, _ = ready_at_st1(world)
    with world.db.read() as conn:
        n = notifications.c
        rows = conn.execute(
            select(n.recipient, n.body, n.state).where(n.order_id == order_id)
        ).all()
    [(recipient, body, state)] = rows
    assert (recipient, state) == ("camille@example.com", "pending")
    assert code_of(world, order_id) in body


class Inbox:
    """A real SMTP server on localhost (aiosmtpd): what it received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_the_pickup_code_is_mailed_over_smtp_after_commit_and_not_kept(
    world: World, morning: datetime, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    order_id, _ = ready_at_st1(world)
    code = code_of(world, order_id)
    mailer = mailer_from(
        Settings(smtp_url=f"smtp://127.0.0.1:{port}", mail_from="shop@example.com")
    )
    assert mailer is not None
    assert send_due(world.db, mailer, morning) == 1
    [message] = inbox.messages
    assert (message["To"], message["From"]) == ("camille@example.com", "shop@example.com")
    assert code in message.get_content()
    assert "ST1" in message.get_content()
    with world.db.read() as conn:
        n = notifications.c
        [(state, body)] = conn.execute(select(n.state, n.body)).all()
    assert (state, body) == ("sent", "")
    assert send_due(world.db, mailer, morning + timedelta(hours=1)) == 0
    assert len(inbox.messages) == 1


def test_a_mail_server_that_is_down_leaves_the_message_for_a_later_try(
    world: World, morning: datetime, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    order_id, _ = ready_at_st1(world)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    down = SmtpMailer("127.0.0.1", closed, "shop@example.com")
    assert send_due(world.db, down, morning) == 1
    with world.db.read() as conn:
        n = notifications.c
        [(state, attempts, due_at)] = conn.execute(select(n.state, n.attempts, n.due_at)).all()
    assert (state, attempts) == ("pending", 1)
    assert due_at > morning
    up = SmtpMailer("127.0.0.1", port, "shop@example.com")
    assert send_due(world.db, up, morning) == 0  # not due yet
    assert send_due(world.db, up, due_at) == 1
    assert code_of(world, order_id) in inbox.messages[0].get_content()


def test_cancelling_the_part_still_missing_makes_the_rest_ready_with_its_code(
    world: World,
) -> None:
    collect_network(world, [("ST1", "A", 2), ("WH1", "B", 5)])
    order = place(world, collect_body(("1", "A", 1), ("2", "B", 1)), "k-1")
    by_location = {f["location"]: f["id"] for f in order["fulfilments"]}
    prepare(world, by_location["ST1"], world.store1)
    act(world, by_location["ST1"], "ready", world.store1)
    answer = world.client.post(
        f"/v1/orders/{order['id']}/cancel",
        json={"lines": [{"line_id": "2", "units": 1}]},
        headers=world.channel,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "ready_for_pickup"
    assert collect_order(world, order["id"])["state"] == "ready"
    collected = hand_over(world, order["id"], {"code": code_of(world, order["id"])})
    assert collected.status_code == 200, collected.text


def test_a_cancelled_collect_order_leaves_the_stores_queue(world: World, morning: datetime) -> None:
    order_id, fid = ready_at_st1(world)
    act(world, fid, "cancel", world.channel)
    assert collect_order(world, order_id)["state"] == "cancelled"
    assert (
        world.client.get("/v1/collect-orders?state=ready", headers=world.store1).json()["items"]
        == []
    )
    assert position(world.db, "ST1", "A") == (5, 0)
    run_due(world.db, timers(world), morning + timedelta(days=6))
    assert payloads(world.db, order_id, "payment.void_requested") == []
    other = place(world, collect_body(("1", "A", 1)), "k-2")
    answer = world.client.post(f"/v1/orders/{other['id']}/cancel", headers=world.channel)
    assert answer.status_code == 200, answer.text
    assert collect_order(world, other["id"])["state"] == "cancelled"


def at_once(world: World, call: Callable[[Database], str], threads: int = 2) -> list[str]:
    """`call` in `threads` threads at once, each with its own engine (as two API processes);
    what each answered, or the name of what it raised."""
    barrier = threading.Barrier(threads)
    outcomes: list[str] = []

    def run() -> None:
        db = Database(world.db.url)
        try:
            barrier.wait()
            outcomes.append(call(db))
        except Exception as error:  # the loser's refusal is what is asserted
            outcomes.append(type(error).__name__)
        finally:
            db.dispose()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sorted(outcomes)


def test_two_handovers_at_once_collect_the_order_once(world: World, morning: datetime) -> None:
    order_id, _ = ready_at_st1(world)
    code = code_of(world, order_id)
    store = Caller(Actor.STORE, "ST1")

    def hand(db: Database) -> str:
        found = collect_service.collect_order(
            db, order_id, store, collect_service.Handover(code), key_id=None, now=morning
        )
        return found.state

    assert at_once(world, hand) == ["NotReadyForPickup", "collected"]
    assert position(world.db, "ST1", "A") == (3, 0)
    assert len(payloads(world.db, order_id, "order.collected")) == 1


def test_wrong_codes_at_once_are_each_counted(world: World, morning: datetime) -> None:
    order_id, _ = ready_at_st1(world)
    wrong = "ZZZZZZ" if code_of(world, order_id) != "ZZZZZZ" else "YYYYYY"
    store = Caller(Actor.STORE, "ST1")

    def guess(db: Database) -> str:
        handover = collect_service.Handover(wrong)
        collect_service.collect_order(db, order_id, store, handover, key_id=None, now=morning)
        return "collected"

    assert at_once(world, guess, threads=3) == ["WrongPickupCode"] * 3
    assert collect_order(world, order_id)["tries_left"] == 2


def test_a_transfer_naming_a_tracking_number_already_used_is_refused(world: World) -> None:
    collect_network(world, [("WH1", "A", 5)])
    order = place(world, collect_body(("1", "A", 1)), "k-1")
    other = place(world, collect_body(("1", "A", 1)), "k-2")
    first, second = order["fulfilments"][0]["id"], other["fulfilments"][0]["id"]
    for fid in (first, second):
        prepare(world, fid, world.admin)
    act(world, first, "transfer", world.admin, {"parcels": [parcel("TRK-7")]})
    taken = act(world, second, "transfer", world.admin, {"parcels": [parcel("TRK-7")]}, status=409)
    assert taken["code"] == "duplicate_tracking_number"
    twice = {"parcels": [parcel("TRK-8"), parcel("TRK-8")]}
    doubled = act(world, second, "transfer", world.admin, twice, status=422)
    assert doubled["errors"][0]["field"] == "parcels[1].tracking_number"
    unknown = {"parcels": [{**parcel("TRK-9"), "carrier_service": "pigeon"}]}
    refused = act(world, second, "transfer", world.admin, unknown, status=422)
    assert refused["errors"][0]["field"] == "parcels[0].carrier_service"
    assert read_order(world, other["id"])["fulfilments"][0]["status"] == "packed"
    assert position(world.db, "WH1", "A") == (4, 1)
