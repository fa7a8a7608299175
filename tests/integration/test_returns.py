"""Returns over the API, on both databases: asked for units of a delivered order, refused
when they were not delivered, already returned or late; received and inspected, each outcome's
stock effect; the refund due; bad input naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from openoms.api.deps import get_now
from openoms.db.tables import events, return_items, returns, stock_movements, stock_positions
from openoms.db.uow import Database
from openoms.services.keys import Role
from openoms.services.timers import run_due
from tests.conftest import World, bearer
from tests.integration.test_fulfilments import act, parcel, read_order, settle, stocked
from tests.integration.test_orders import order_body, place
from tests.integration.test_promise_api import a_weekday_morning, put_location
from tests.integration.test_sourcing_api import set_stock
from tests.integration.test_worker import timers
from tests.pdf_reading import code128_values, pdf_text

PRICE = 2999
"""What the conftest's skus cost (order_lines.unit_price)."""
FEE = 495


@pytest.fixture(autouse=True)
def clock(world: World) -> Iterator[list[datetime]]:
    now = [a_weekday_morning()]
    app = cast(FastAPI, world.client.app)
    app.dependency_overrides[get_now] = lambda: now[0]
    yield now
    app.dependency_overrides.clear()


def delivered(world: World, *, hub: bool = True, deliver: bool = True) -> dict[str, Any]:
    """An order of 3 A and 1 B shipped from WH1 and delivered; ST1 takes returns; HUB is the
    second-hand hub."""
    stocked(world, [("WH1", "A", 10), ("WH1", "B", 10)])
    put_location(world, "ST1", "store", ["ship", "click_collect", "returns"])
    if hub:
        put_location(world, "HUB", "second_hand", [])
    order = place(world, order_body(("1", "A", 3), ("2", "B", 1)), "k-1")
    fid = order["fulfilments"][0]["id"]
    warehouse = bearer(world.db, Role.STORE, "WH1")
    act(world, fid, "pick", warehouse)
    act(world, fid, "pack", warehouse)
    act(world, fid, "ship", warehouse, {"parcels": [parcel("P-1")]})
    if deliver:
        act(world, fid, "deliver", world.carrier)
    return read_order(world, order["id"])


KEYS = iter(range(1, 1_000_000))


def return_body(order_id: str, *lines: tuple[str, int], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": order_id,
        "method": "in_store",
        "location": "ST1",
        "reason": "does_not_fit",
        "lines": [{"line_id": i, "units": n} for i, n in lines],
    }
    body.update(extra)
    return body


def ask(
    world: World,
    body: dict[str, Any],
    status: int = 201,
    key: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    answer = world.client.post(
        "/v1/returns",
        json=body,
        headers={**(headers or world.channel), "Idempotency-Key": key or f"r-{next(KEYS)}"},
    )
    assert answer.status_code == status, answer.text
    result: dict[str, Any] = answer.json()
    return result


def receive(
    world: World,
    return_id: str,
    *items: tuple[Any, ...],
    location: str = "ST1",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    body = {
        "location": location,
        "items": [
            dict(zip(("line_id", "outcome", "units", "grade"), item, strict=False))
            for item in items
        ],
    }
    answer = world.client.post(
        f"/v1/returns/{return_id}/receive", json=body, headers=headers or world.store1
    )
    assert answer.status_code == status, answer.text
    result: dict[str, Any] = answer.json()
    return result


def buckets(world: World, order_id: str, line_id: str) -> dict[str, Any]:
    order = read_order(world, order_id)  # checks conservation of every line
    found: dict[str, Any] = next(ln for ln in order["lines"] if ln["line_id"] == line_id)["buckets"]
    return found


def payloads(db: Database, kind: str) -> list[dict[str, Any]]:
    e = events.c
    with db.read() as conn:
        rows = conn.execute(select(e.payload).where(e.type == kind).order_by(e.seq))
        return [dict(row[0]) for row in rows]


def count_returns(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(returns)).scalar_one())


def position(db: Database, location: str, sku: str) -> tuple[int, int]:
    """(on_hand, reserved); (0, 0) where the location never had the sku."""
    p = stock_positions.c
    with db.read() as conn:
        query = select(p.on_hand, p.reserved).where(p.location_code == location, p.sku_code == sku)
        row = conn.execute(query).first()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def movements(db: Database, location: str, sku: str) -> list[tuple[int, str]]:
    m = stock_movements.c
    with db.read() as conn:
        query = (
            select(m.delta, m.reason)
            .where(m.location_code == location, m.sku_code == sku)
            .order_by(m.movement_id)
        )
        return [(int(d), str(r)) for d, r in conn.execute(query)]


def test_a_partial_return_in_store_is_resold_and_sent_second_hand_graded(world: World) -> None:
    order = delivered(world)
    asked = ask(world, return_body(order["id"], ("1", 2)))
    assert asked["status"] == "requested"
    assert asked["refund"] is None
    assert asked["lines"] == [{"line_id": "1", "sku": "A", "units": 2, "unit_price": PRICE}]
    assert buckets(world, order["id"], "1")["delivered"] == 3  # still the customer's
    done = receive(world, asked["id"], ("1", "resell", 1), ("1", "second_hand", 1, "good"))
    assert done["status"] == "received"
    assert done["refund"] == {"amount": 2 * PRICE, "currency": "EUR", "fee": 0}
    assert {(i["outcome"], i["grade"], i["location"]) for i in done["items"]} == {
        ("resell", None, "ST1"),
        ("second_hand", "good", "HUB"),
    }
    assert position(world.db, "ST1", "A") == (1, 0)  # back on a shelf: it sells again
    assert position(world.db, "HUB", "A") == (1, 0)
    with world.db.read() as conn:
        grades = conn.execute(select(return_items.c.grade).where(return_items.c.grade.is_not(None)))
        assert list(grades.scalars()) == ["good"]
    line = buckets(world, order["id"], "1")
    assert (line["delivered"], line["returned"]) == (1, 2)
    assert buckets(world, order["id"], "2")["returned"] == 0
    [due] = payloads(world.db, "return.refund_due")
    assert (due["amount"], due["currency"], due["order_id"]) == (2 * PRICE, "EUR", order["id"])
    assert len(payloads(world.db, "return.requested")) == 1
    assert len(payloads(world.db, "return.received")) == 1


def test_damaged_units_come_in_and_are_written_off(world: World) -> None:
    order = delivered(world)
    asked = ask(world, return_body(order["id"], ("2", 1), reason="damaged"))
    receive(world, asked["id"], ("2", "damaged", 1))
    assert position(world.db, "ST1", "B") == (0, 0)
    assert movements(world.db, "ST1", "B") == [(1, "returned"), (-1, "damaged")]
    assert buckets(world, order["id"], "2")["returned"] == 1


def test_a_return_by_carrier_pays_the_return_fee(world: World) -> None:
    order = delivered(world)
    asked = ask(
        world, return_body(order["id"], ("1", 3), ("2", 1), method="carrier", location=None)
    )
    assert asked["location"] is None
    done = receive(world, asked["id"], ("1", "resell", 3), ("2", "resell", 1))
    assert done["refund"] == {"amount": 4 * PRICE - FEE, "currency": "EUR", "fee": FEE}
    assert done["received_location"] == "ST1"
    assert position(world.db, "ST1", "A") == (3, 0)


def test_more_units_than_delivered_are_refused(world: World) -> None:
    order = delivered(world)
    refused = ask(world, return_body(order["id"], ("1", 4)), status=409)
    assert refused["code"] == "too_many_units"
    assert "line 1" in refused["detail"]
    assert count_returns(world.db) == 0


def test_a_second_return_of_the_same_units_is_refused_before_and_after_receipt(
    world: World,
) -> None:
    order = delivered(world)
    first = ask(world, return_body(order["id"], ("1", 2)))
    assert ask(world, return_body(order["id"], ("1", 2)), status=409)["code"] == "too_many_units"
    ask(world, return_body(order["id"], ("1", 1)))  # the third unit may still go back
    receive(world, first["id"], ("1", "resell", 2))
    assert ask(world, return_body(order["id"], ("1", 1)), status=409)["code"] == "too_many_units"
    assert count_returns(world.db) == 2


def test_a_return_after_the_time_limit_is_refused_with_the_reason(
    world: World, clock: list[datetime]
) -> None:
    order = delivered(world)
    deadline = clock[0] + timedelta(days=30)
    clock[0] = deadline + timedelta(microseconds=1)
    refused = ask(world, return_body(order["id"], ("1", 1)), status=409)
    assert refused["code"] == "return_window_closed"
    assert deadline.isoformat() in refused["detail"]
    clock[0] = deadline
    ask(world, return_body(order["id"], ("1", 1)))  # the last moment still counts


def test_an_order_not_delivered_cannot_be_returned(world: World) -> None:
    order = delivered(world, deliver=False)
    refused = ask(world, return_body(order["id"], ("1", 1)), status=409)
    assert refused["code"] == "order_not_delivered"
    assert "shipped" in refused["detail"]


def test_a_retry_with_the_same_key_answers_the_first_return(world: World) -> None:
    order = delivered(world)
    body = return_body(order["id"], ("1", 3))
    first = ask(world, body, key="same")
    assert ask(world, body, status=200, key="same")["id"] == first["id"]
    assert ask(world, return_body(order["id"], ("2", 1)), status=409, key="same")["code"] == (
        "idempotency_key_reused"
    )


def test_a_return_is_received_once_every_unit_inspected_where_it_was_brought(
    world: World,
) -> None:
    order = delivered(world)
    asked = ask(world, return_body(order["id"], ("1", 2)))
    st2 = bearer(world.db, Role.STORE, "ST2")
    receive(world, asked["id"], ("1", "resell", 2), location="ST2", headers=st2, status=404)
    mismatch = receive(world, asked["id"], ("1", "resell", 1), status=422)
    assert mismatch["errors"][0]["field"] == "items"
    ungraded = receive(world, asked["id"], ("1", "second_hand", 2), status=422)
    assert ungraded["errors"][0]["field"].startswith("items[0]")
    elsewhere = receive(
        world, asked["id"], ("1", "resell", 2), location="WH1", headers=world.admin, status=422
    )
    assert elsewhere["errors"][0]["field"] == "location"
    assert position(world.db, "ST1", "A") == (0, 0)
    receive(world, asked["id"], ("1", "resell", 2))
    again = receive(world, asked["id"], ("1", "resell", 2), status=409)
    assert again["code"] == "illegal_transition"
    assert position(world.db, "ST1", "A") == (2, 0)


def test_second_hand_units_need_a_hub(world: World) -> None:
    order = delivered(world, hub=False)
    asked = ask(world, return_body(order["id"], ("1", 1)))
    refused = receive(world, asked["id"], ("1", "second_hand", 1, "fair"), status=409)
    assert refused["code"] == "no_second_hand_hub"
    assert buckets(world, order["id"], "1")["returned"] == 0


def test_a_store_asks_returns_at_its_own_location_only(world: World) -> None:
    order = delivered(world)
    put_location(world, "ST2", "store", ["ship", "returns"])
    st2 = bearer(world.db, Role.STORE, "ST2")
    refused = ask(world, return_body(order["id"], ("1", 1)), status=403, headers=st2)
    assert refused["errors"][0]["field"] == "location"
    own = ask(world, return_body(order["id"], ("1", 1), location="ST2"), headers=st2)
    listed = world.client.get("/v1/returns", headers=world.store1).json()["items"]
    assert listed == []
    assert [r["id"] for r in world.client.get("/v1/returns", headers=st2).json()["items"]] == [
        own["id"]
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"order_id": "no-such-order"}, "order_id"),
        ({"lines": [{"line_id": "9", "units": 1}]}, "lines[0].line_id"),
        ({"lines": [{"line_id": "1", "units": 0}]}, "lines[0].units"),
        ({"lines": [{"line_id": "1", "units": 1}] * 2}, "lines"),
        ({"location": None}, "location"),
        ({"location": "ST2"}, "location"),
        ({"location": "NOPE"}, "location"),
        ({"method": "carrier"}, "location"),
        ({"method": "pigeon"}, "method"),
        ({"reason": "bored"}, "reason"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(
    world: World, change: dict[str, Any], field: str
) -> None:
    order = delivered(world)
    body = {**return_body(order["id"], ("1", 1)), **change}
    answer = ask(world, body, status=422)
    assert field in [e["field"] for e in answer["errors"]]
    assert count_returns(world.db) == 0


def test_a_resold_unit_serves_a_waiting_order_at_once(world: World, clock: list[datetime]) -> None:
    order = delivered(world)
    set_stock(world, [("WH1", "A", 0)])
    waiting = place(world, order_body(("1", "A", 1)), "k-2")
    assert waiting["lines"][0]["buckets"]["unallocated"] == 1
    asked = ask(world, return_body(order["id"], ("1", 1)))
    receive(world, asked["id"], ("1", "resell", 1))
    settle(world, ["A"])
    run_due(world.db, timers(world), clock[0])  # the backorder's retry, hastened
    assert buckets(world, waiting["id"], "1")["allocated"] == {"ST1": 1}


def test_a_return_by_carrier_has_a_label_to_the_warehouse_and_one_in_store_has_none(
    world: World,
) -> None:
    order = delivered(world)
    by_carrier = ask(world, return_body(order["id"], ("1", 1), method="carrier", location=None))
    answer = world.client.get(
        f"/v1/returns/{by_carrier['id']}/label.pdf", params={"lang": "en"}, headers=world.channel
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    text = pdf_text(answer.content)
    assert "RETURN" in text
    assert "Wh1" in text  # the warehouse that receives it (the only one in this network)
    assert code128_values(answer.content) == [by_carrier["id"]]
    in_store = ask(world, return_body(order["id"], ("2", 1)))
    refused = world.client.get(f"/v1/returns/{in_store['id']}/label.pdf", headers=world.channel)
    assert refused.status_code == 409
    assert refused.json()["code"] == "no_return_label"
    unknown = world.client.get("/v1/returns/NOPE/label.pdf", headers=world.channel)
    assert unknown.status_code == 404
