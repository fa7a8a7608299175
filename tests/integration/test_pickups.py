"""Carrier pickups over the API, on both databases: pack, label, the pickup booked by the
worker before the cut-off, the manifest, the handover that ships, the carrier's tracking; bad
input, another store's key, a cancelled fulfilment left out, two handovers at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, cast

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from openoms.api.deps import get_now
from openoms.api.routes.orders import decision_record
from openoms.db.tables import events, pickups
from openoms.db.uow import Database
from openoms.domain.calendars import is_public_holiday, local_instant
from openoms.domain.fulfilments import Actor
from openoms.services import keys
from openoms.services.fulfilment import Caller
from openoms.services.keys import Role
from openoms.services.pickups import book_pickup, hand_over
from openoms.services.sourcing_view import SourcingView
from openoms.services.timers import Timers, run_due
from tests.conftest import NOW, World, bearer
from tests.integration.test_fulfilments import (
    act,
    deliver,
    offered_at_st1,
    position,
    read_order,
)
from tests.integration.test_orders import order_body, place
from tests.integration.test_promise_api import PARIS, a_weekday_morning
from tests.pdf_reading import page_sizes_mm, pdf_text

COLIS = "Colis National"


@dataclass
class Clock:
    now: datetime

    def at(self, hour: int, minute: int = 0) -> datetime:
        """That time in Paris on the test's weekday."""
        self.now = local_instant(self.now.astimezone(PARIS).date(), time(hour, minute), PARIS)
        return self.now


@pytest.fixture(autouse=True)
def clock(world: World) -> Iterator[Clock]:
    """The API's clock, moved by the tests: a weekday, 09:00 in Paris to start with."""
    found = Clock(a_weekday_morning())
    app = cast(FastAPI, world.client.app)
    app.dependency_overrides[get_now] = lambda: found.now
    yield found
    app.dependency_overrides.clear()


def timers(world: World) -> Timers:
    app = cast(FastAPI, world.client.app)
    return Timers(app.state.sourcing, decision_record)


def packed(world: World, fid: str) -> None:
    for action in ("claim", "pick", "pack"):
        act(world, fid, action, world.store1)


def labelled(world: World, fid: str, box: str = "M") -> str:
    answer = world.client.post(
        f"/v1/fulfilments/{fid}/parcels", json={"parcels": [{"box": box}]}, headers=world.store1
    )
    assert answer.status_code == 200, answer.text
    number: str = answer.json()["parcels"][0]["tracking_number"]
    return number


def get(world: World, path: str, headers: dict[str, str], status: int = 200) -> Any:
    answer = world.client.get(path, headers=headers)
    assert answer.status_code == status, answer.text
    return answer.json()


def pickup_events(db: Database) -> list[tuple[str, dict[str, Any]]]:
    e = events.c
    with db.read() as conn:
        query = select(e.type, e.payload).where(e.type.like("pickup.%")).order_by(e.stamp, e.seq)
        return [(row.type, dict(row.payload)) for row in conn.execute(query)]


def pickup_count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(pickups)).scalar_one())


def two_orders_labelled(world: World, clock: Clock) -> tuple[list[str], list[str], list[str]]:
    """Two orders packed and labelled at ST1: (order ids, fulfilment ids, tracking numbers)."""
    first_order, first = offered_at_st1(world, units=2)
    packed(world, first)
    clock.at(11)
    first_number = labelled(world, first)
    second_order = place(world, order_body(("1", "A", 2)), "k-2")
    second = second_order["fulfilments"][0]["id"]
    packed(world, second)
    second_number = labelled(world, second, box="S")
    return [first_order, second_order["id"]], [first, second], [first_number, second_number]


def test_packed_labelled_booked_before_the_cut_off_handed_over_shipped_and_delivered(
    world: World, clock: Clock
) -> None:
    orders, fids, numbers = two_orders_labelled(world, clock)
    assert position(world.db, "ST1", "A") == (5, 4)

    waiting = get(world, "/v1/pickups/waiting?location=ST1", world.store1)
    assert [(w["carrier"], len(w["parcels"]), w["pickup_ids"]) for w in waiting] == [(COLIS, 2, [])]
    assert run_due(world.db, timers(world), clock.at(15, 59)) == 0  # not before the time
    assert get(world, "/v1/pickups?location=ST1", world.store1)["items"] == []

    assert run_due(world.db, timers(world), clock.at(16, 0)) == 2  # one job per fulfilment
    [pickup] = get(world, "/v1/pickups?location=ST1&status=booked", world.store1)["items"]
    assert (pickup["carrier"], pickup["status"], pickup["booked_by"]) == (COLIS, "booked", "auto")
    collect = datetime.fromisoformat(pickup["collect_at"]).astimezone(PARIS)
    assert (collect.hour, collect.minute) == (16, 30)
    assert sorted(p["tracking_number"] for p in pickup["parcels"]) == sorted(numbers)
    assert pickup["weight_g"] == (1000 + 200) + (1000 + 120)  # two units, box M; two, box S
    assert [kind for kind, _ in pickup_events(world.db)] == ["pickup.booked"]

    # a third order labelled after the booking joins the same pickup
    third_order = place(world, order_body(("1", "A", 1)), "k-3")
    third = third_order["fulfilments"][0]["id"]
    packed(world, third)
    clock.at(16, 10)
    numbers.append(labelled(world, third, box="S"))
    run_due(world.db, timers(world), clock.now)
    got = get(world, f"/v1/pickups/{pickup['id']}", world.store1)
    assert sorted(p["tracking_number"] for p in got["parcels"]) == sorted(numbers)
    assert pickup_count(world.db) == 1

    manifest = world.client.get(pickup["manifest_url"], headers=world.carrier)
    assert manifest.status_code == 200
    assert page_sizes_mm(manifest.content) == [(210.0, 297.0)]
    text = pdf_text(manifest.content)
    assert f"Transporteur: {COLIS}" in text
    assert "Total : 3 colis" in text
    for number in numbers:
        assert number in text
    for order_id in [*orders, third_order["id"]]:
        assert order_id in text
    assert "Reçu par le transporteur (nom, signature)" in text

    clock.at(16, 35)
    answer = world.client.post(f"/v1/pickups/{pickup['id']}/handover", headers=world.store1)
    assert answer.status_code == 200, answer.text
    done = answer.json()
    assert done["status"] == "handed_over"
    assert {p["status"] for p in done["parcels"]} == {"shipped"}
    assert position(world.db, "ST1", "A") == (0, 0)
    for fid in [*fids, third]:
        assert get(world, f"/v1/fulfilments/{fid}", world.store1)["status"] == "shipped"
    assert read_order(world, orders[0])["status"] == "shipped"
    kinds = [kind for kind, _ in pickup_events(world.db)]
    assert kinds == ["pickup.booked", "pickup.parcels_added", "pickup.handed_over"]
    assert sorted(pickup_events(world.db)[-1][1]["parcels"]) == sorted(numbers)

    report = deliver(world, *numbers, at=clock.now + timedelta(days=1))
    assert sorted(report["delivered"]) == sorted([*fids, third])
    assert read_order(world, orders[1])["status"] == "delivered"

    again = world.client.post(f"/v1/pickups/{pickup['id']}/handover", headers=world.store1)
    assert again.status_code == 409
    assert again.json()["code"] == "pickup_not_booked"
    assert position(world.db, "ST1", "A") == (0, 0)
    assert len(pickup_events(world.db)) == 3


def test_a_pickup_booked_by_hand_takes_the_parcels_waiting_and_a_replay_books_nothing_new(
    world: World, clock: Clock
) -> None:
    _, _, numbers = two_orders_labelled(world, clock)
    body = {"location": "ST1", "carrier": COLIS}
    first = world.client.post("/v1/pickups", json=body, headers=world.store1)
    assert first.status_code == 200, first.text
    booked = first.json()
    assert booked["booked_by"] == "store"
    assert sorted(p["tracking_number"] for p in booked["parcels"]) == sorted(numbers)
    again = world.client.post("/v1/pickups", json=body, headers=world.store1).json()
    assert (again["id"], again["version"]) == (booked["id"], booked["version"])
    assert pickup_count(world.db) == 1
    run_due(world.db, timers(world), clock.at(16, 0))  # the jobs find their parcels booked
    assert pickup_count(world.db) == 1
    assert [kind for kind, _ in pickup_events(world.db)] == ["pickup.booked"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"location": "ST1", "carrier": "Nobody Express"}, 422, "carrier"),
        ({"location": "ST1"}, 422, "carrier"),
        ({"location": "ST1", "carrier": ""}, 422, "carrier"),
        ({"location": "ST1", "carrier": COLIS, "when": "now"}, 422, "when"),
        ({"location": "ST2", "carrier": COLIS}, 403, "location"),
        ({"location": "ST1", "carrier": "Express National"}, 409, None),
    ],
)
def test_booking_bad_input_is_refused_naming_the_field_and_books_nothing(
    world: World, clock: Clock, body: dict[str, Any], status: int, field: str | None
) -> None:
    two_orders_labelled(world, clock)
    answer = world.client.post("/v1/pickups", json=body, headers=world.store1)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    if field is not None:
        assert field in str(problem), problem
    else:
        assert problem["code"] == "nothing_to_collect"
    assert pickup_count(world.db) == 0


def test_another_stores_key_and_another_carriers_key_find_no_pickup(
    world: World, clock: Clock
) -> None:
    two_orders_labelled(world, clock)
    run_due(world.db, timers(world), clock.at(16, 0))
    [pickup] = get(world, "/v1/pickups", world.admin)["items"]
    store2 = bearer(world.db, Role.STORE, "ST2")
    for path in (f"/v1/pickups/{pickup['id']}", f"/v1/pickups/{pickup['id']}/manifest.pdf"):
        assert world.client.get(path, headers=store2).status_code == 404
    handover = world.client.post(f"/v1/pickups/{pickup['id']}/handover", headers=store2)
    assert handover.status_code == 404
    assert get(world, "/v1/pickups", store2)["items"] == []
    assert get(world, "/v1/pickups?location=ST1", store2, status=403)["code"] == "forbidden"
    assert get(world, "/v1/pickups/waiting?location=ST1", store2, status=403)
    assert get(world, "/v1/pickups", world.channel, status=403)
    assert world.client.post(
        f"/v1/pickups/{pickup['id']}/handover", headers=world.carrier
    ).status_code == (403)

    other = keys.create_key(
        world.db, name="x", role=Role.CARRIER, location=None, carrier="Express National", now=NOW
    )
    express = {"Authorization": f"Bearer {other.secret}"}
    assert get(world, "/v1/pickups", express)["items"] == []
    assert world.client.get(f"/v1/pickups/{pickup['id']}", headers=express).status_code == 404
    ours = keys.create_key(
        world.db, name="y", role=Role.CARRIER, location=None, carrier=COLIS, now=NOW
    )
    colis = {"Authorization": f"Bearer {ours.secret}"}
    assert [p["id"] for p in get(world, "/v1/pickups", colis)["items"]] == [pickup["id"]]
    assert get(world, f"/v1/pickups/{pickup['id']}", world.store1)["status"] == "booked"


def test_a_fulfilment_cancelled_after_labelling_is_left_out_of_the_handover(
    world: World, clock: Clock
) -> None:
    orders, fids, numbers = two_orders_labelled(world, clock)
    run_due(world.db, timers(world), clock.at(16, 0))
    [pickup] = get(world, "/v1/pickups", world.admin)["items"]
    act(world, fids[1], "cancel", world.channel)
    assert position(world.db, "ST1", "A") == (5, 2)
    assert [
        p["tracking_number"]
        for p in get(world, f"/v1/pickups/{pickup['id']}", world.store1)["parcels"]
    ] == [numbers[0]]
    done = world.client.post(f"/v1/pickups/{pickup['id']}/handover", headers=world.store1).json()
    assert [p["tracking_number"] for p in done["parcels"]] == [numbers[0]]
    assert position(world.db, "ST1", "A") == (3, 0)
    assert get(world, f"/v1/fulfilments/{fids[1]}", world.admin)["status"] == "cancelled"
    handed = pickup_events(world.db)[-1][1]
    assert (handed["parcels"], handed["left_out"]) == ([numbers[0]], [numbers[1]])
    assert read_order(world, orders[1])["status"] == "cancelled"


def test_two_handovers_at_once_hand_over_once(world: World, clock: Clock) -> None:
    _, fids, _ = two_orders_labelled(world, clock)
    run_due(world.db, timers(world), clock.at(16, 0))
    [pickup] = get(world, "/v1/pickups", world.admin)["items"]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    handed_at = clock.at(16, 30)

    def run() -> None:
        db = Database(world.db.url)
        try:
            barrier.wait()
            found = hand_over(db, pickup["id"], Caller(Actor.STORE, "ST1"), now=handed_at)
            outcomes.append(found.status.value)
        except Exception as error:  # the loser's refusal is what is asserted
            outcomes.append(type(error).__name__)
        finally:
            db.dispose()

    workers = [threading.Thread(target=run) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(outcomes) == ["PickupNotBooked", "handed_over"]
    assert position(world.db, "ST1", "A") == (1, 0)
    for fid in fids:
        assert get(world, f"/v1/fulfilments/{fid}", world.admin)["status"] == "shipped"
    assert [kind for kind, _ in pickup_events(world.db)] == ["pickup.booked", "pickup.handed_over"]


def test_only_a_carrier_key_is_scoped_to_a_carrier(world: World) -> None:
    body = {"name": "x", "role": "channel", "carrier": COLIS}
    answer = world.client.post("/v1/keys", json=body, headers=world.admin)
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["carrier"]
    made = world.client.post(
        "/v1/keys", json={**body, "role": "carrier"}, headers=world.admin
    ).json()
    assert (made["role"], made["carrier"]) == ("carrier", COLIS)
    listed = get(world, "/v1/keys", world.admin)
    assert [k["carrier"] for k in listed if k["id"] == made["id"]] == [COLIS]


def test_a_parcel_the_carrier_scanned_before_the_handover_still_ships_and_keeps_its_status(
    world: World, clock: Clock
) -> None:
    _, fids, numbers = two_orders_labelled(world, clock)
    run_due(world.db, timers(world), clock.at(16, 0))
    [pickup] = get(world, "/v1/pickups", world.admin)["items"]
    scanned = {
        "events": [
            {
                "tracking_number": numbers[0],
                "status": "in_transit",
                "at": clock.at(16, 25).isoformat(),
            }
        ]
    }
    assert world.client.post(
        "/v1/carriers/tracking", json=scanned, headers=world.carrier
    ).status_code == (200)
    clock.at(16, 30)
    done = world.client.post(f"/v1/pickups/{pickup['id']}/handover", headers=world.store1).json()
    statuses = {p["tracking_number"]: p["status"] for p in done["parcels"]}
    assert statuses == {numbers[0]: "in_transit", numbers[1]: "shipped"}
    for fid in fids:
        assert get(world, f"/v1/fulfilments/{fid}", world.admin)["status"] == "shipped"
    assert position(world.db, "ST1", "A") == (1, 0)


def test_two_bookings_at_once_make_one_pickup_with_every_parcel(world: World, clock: Clock) -> None:
    _, _, numbers = two_orders_labelled(world, clock)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    booked_at = clock.at(15, 0)

    def run() -> None:
        db = Database(world.db.url)
        try:
            view = SourcingView(db)
            barrier.wait()
            found = book_pickup(
                db, view, Caller(Actor.STORE, "ST1"), location="ST1", carrier=COLIS, now=booked_at
            )
            outcomes.append(found.id)
        except Exception as error:  # a failure would be named in the assertion below
            outcomes.append(type(error).__name__)
        finally:
            db.dispose()

    workers = [threading.Thread(target=run) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(set(outcomes)) == 1, outcomes
    assert pickup_count(world.db) == 1
    [pickup] = get(world, "/v1/pickups", world.admin)["items"]
    assert pickup["id"] == outcomes[0]
    assert sorted(p["tracking_number"] for p in pickup["parcels"]) == sorted(numbers)


def test_a_pickup_the_driver_missed_moves_to_the_next_collection_when_parcels_join_it(
    world: World, clock: Clock
) -> None:
    two_orders_labelled(world, clock)
    run_due(world.db, timers(world), clock.at(16, 0))
    [pickup] = get(world, "/v1/pickups", world.admin)["items"]
    first_collection = datetime.fromisoformat(pickup["collect_at"])

    late = place(world, order_body(("1", "A", 1)), "k-late")["fulfilments"][0]["id"]
    packed(world, late)
    clock.at(16, 45)  # after the cut-off, the driver not come yet: it joins today's pickup
    labelled(world, late, box="S")
    body = {"location": "ST1", "carrier": COLIS}
    today = world.client.post("/v1/pickups", json=body, headers=world.store1).json()
    assert (today["id"], today["parcel_count"]) == (pickup["id"], 3)
    assert datetime.fromisoformat(today["collect_at"]) == first_collection

    # the driver never came; the next working day a parcel joins and the pickup moves to then
    nxt = first_collection.astimezone(PARIS).date() + timedelta(days=1)
    while nxt.weekday() >= 5 or is_public_holiday(nxt, "FR"):
        nxt += timedelta(days=1)
    clock.now = local_instant(nxt, time(10, 0), PARIS)
    row = {"location": "ST1", "sku": "A", "on_hand": 6, "as_of": clock.now.isoformat()}
    fed = world.client.post("/v1/stock/snapshots", json={"rows": [row]}, headers=world.admin)
    assert fed.status_code == 200, fed.text
    next_day = place(world, order_body(("1", "A", 1)), "k-next")["fulfilments"][0]["id"]
    packed(world, next_day)
    labelled(world, next_day, box="S")
    moved = world.client.post("/v1/pickups", json=body, headers=world.store1).json()
    assert (moved["id"], moved["parcel_count"]) == (pickup["id"], 4)
    collect = datetime.fromisoformat(moved["collect_at"]).astimezone(PARIS)
    assert (collect.date(), collect.hour, collect.minute) == (nxt, 16, 30)
