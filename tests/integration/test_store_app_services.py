"""The store app's screens for click & collect, e-reservations and returns, over a real
database (both kinds), through the same services as the API: the shelf and the handover (a
wrong code, a locked code, who handed it over), receiving a transfer by its parcel, and bad
input on every form that changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from html import unescape
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from openoms.api.deps import get_now
from openoms.domain.users import StoreRole
from tests.conftest import World
from tests.integration.test_collect import (
    code_of,
    collect_body,
    collect_network,
    collect_order,
    prepare,
    ready_at_st1,
)
from tests.integration.test_fulfilments import act, parcel, position, read_order
from tests.integration.test_orders import place
from tests.integration.test_promise_api import a_weekday_morning
from tests.integration.test_reservations import reservation_body, reserve, stores
from tests.integration.test_returns import ask, delivered, return_body
from tests.integration.test_store_app import associate, notices, signed_in, token


@pytest.fixture(autouse=True)
def clock(world: World) -> Iterator[list[datetime]]:
    """The app's clock, a weekday morning; tests move it by setting `clock[0]`."""
    now = [a_weekday_morning()]
    app = cast(FastAPI, world.client.app)
    app.dependency_overrides[get_now] = lambda: now[0]
    yield now
    app.dependency_overrides.clear()


@pytest.fixture
def shops(world: World) -> World:
    associate(world, "marie", "ST1", StoreRole.ASSOCIATE)
    associate(world, "paul", "ST2", StoreRole.ASSOCIATE)
    return world


def said(html: str) -> list[str]:
    return [unescape(text) for text in notices(html)]


def post(client: TestClient, path: str, form: dict[str, Any], page: str) -> Any:
    """A form sent from `page` (for its CSRF token), without following the redirect."""
    csrf = token(client.get(page).text)
    return client.post(path, data={**form, "csrf_token": csrf}, follow_redirects=False)


# --- click & collect ---------------------------------------------------------------------


def test_the_shelf_shows_how_long_each_order_has_waited_and_links_its_handover(
    shops: World,
) -> None:
    order_id, _ = ready_at_st1(shops)
    marie = signed_in(shops, "marie")
    shelf = marie.get("/store/collect")
    assert shelf.status_code == 200
    assert order_id in shelf.text
    assert "0 h 00" in shelf.text
    assert f"/store/collect/handover?order={order_id}" in shelf.text
    assert 'href="/store/collect" aria-current="page"' in shelf.text
    paul = signed_in(shops, "paul")
    assert order_id not in paul.get("/store/collect").text


def test_an_express_order_being_prepared_shows_its_countdown_to_ready_by(
    shops: World, clock: list[datetime]
) -> None:
    collect_network(shops, [("ST1", "A", 5)])
    order = place(shops, collect_body(("1", "A", 1), method="express_collect"), "k-1")
    marie = signed_in(shops, "marie")
    preparing = marie.get("/store/collect").text.split('id="preparing-title"')[1]
    assert order["id"] in preparing
    assert "Express: ready by" in preparing
    assert ">1:00:00</time>" in preparing  # the store's express_minutes, 60 by default
    clock[0] += timedelta(minutes=59, seconds=30)
    assert ">0:30</time>" in marie.get("/store/collect").text
    clock[0] += timedelta(minutes=1)
    late = marie.get("/store/collect").text.split('id="preparing-title"')[1]
    assert ">late</time>" in late


def test_a_wrong_code_then_the_right_one_hands_the_order_over_and_says_who(
    shops: World,
) -> None:
    order_id, _ = ready_at_st1(shops)
    marie = signed_in(shops, "marie")
    page = "/store/collect/handover"
    wrong = post(marie, page, {"order_id": order_id, "code": "000000"}, page)
    assert wrong.status_code == 422
    assert said(wrong.text) == ["Wrong pickup code: nothing was handed over. 4 tries left."]
    assert read_order(shops, order_id)["status"] == "ready_for_pickup"
    assert position(shops.db, "ST1", "A") == (5, 2)
    right = post(marie, page, {"order_id": order_id, "code": code_of(shops, order_id)}, page)
    assert right.status_code == 303
    assert right.headers["location"] == f"/store/collect/handover/{order_id}"
    done = marie.get(right.headers["location"])
    assert said(done.text) == [f"Order {order_id[-8:]} handed over by Marie."]
    assert "the pickup code" in done.text
    found = collect_order(shops, order_id)
    assert (found["state"], found["associate"], found["handover"]) == (
        "collected",
        "marie",
        "code",
    )
    assert position(shops.db, "ST1", "A") == (3, 0)
    replayed = post(marie, page, {"order_id": order_id, "code": code_of(shops, order_id)}, page)
    assert replayed.status_code == 409
    assert "is not waiting for collection" in said(replayed.text)[0]
    assert position(shops.db, "ST1", "A") == (3, 0)


def test_after_five_wrong_tries_the_code_is_locked_and_even_the_right_one_is_refused(
    shops: World,
) -> None:
    order_id, _ = ready_at_st1(shops)
    marie = signed_in(shops, "marie")
    page = "/store/collect/handover"
    for left in (4, 3, 2, 1, 0):
        wrong = post(marie, page, {"order_id": order_id, "customer_name": "Someone Else"}, page)
        assert wrong.status_code == 422
        assert f"{left} tries left" in said(wrong.text)[0]
    locked = post(marie, page, {"order_id": order_id, "code": code_of(shops, order_id)}, page)
    assert locked.status_code == 409
    assert said(locked.text) == [
        "Too many wrong tries: this code is locked. The customer asks for a new code."
    ]
    assert read_order(shops, order_id)["status"] == "ready_for_pickup"


def test_the_customers_name_hands_over_and_french_says_it(shops: World) -> None:
    order_id, _ = ready_at_st1(shops)
    marie = signed_in(shops, "marie", "fr")
    page = "/store/collect/handover"
    done = post(marie, page, {"order_id": order_id, "customer_name": "camille martin"}, page)
    assert done.status_code == 303
    confirmed = marie.get(done.headers["location"])
    assert said(confirmed.text) == [f"Commande {order_id[-8:]} remise par Marie."]
    assert "le nom du client" in confirmed.text
    assert collect_order(shops, order_id)["handover"] == "name"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"order_id": "", "code": "123456"}, "Order number: required."),
        ({"order_id": "ORDER", "code": ""}, "Pickup code: required (or the customer's name)."),
        ({"order_id": "x" * 65, "code": "1"}, "Order number: at most 64 characters."),
        ({"order_id": "ORDER", "code": "1" * 65}, "Pickup code: at most 64 characters."),
        ({"order_id": "nope", "code": "123456"}, "No order nope is collected at this store."),
    ],
)
def test_bad_handover_input_is_named_on_the_page_and_changes_nothing(
    shops: World, form: dict[str, str], message: str
) -> None:
    order_id, _ = ready_at_st1(shops)
    form = {k: v.replace("ORDER", order_id) for k, v in form.items()}
    marie = signed_in(shops, "marie")
    page = "/store/collect/handover"
    answer = post(marie, page, form, page)
    assert answer.status_code in (404, 422)
    assert said(answer.text) == [message]
    found = collect_order(shops, order_id)
    assert (found["state"], found["tries_left"]) == ("ready", 5)


def test_another_stores_order_cannot_be_handed_over_there(shops: World) -> None:
    order_id, _ = ready_at_st1(shops)
    paul = signed_in(shops, "paul")
    page = "/store/collect/handover"
    answer = post(paul, page, {"order_id": order_id, "code": code_of(shops, order_id)}, page)
    assert answer.status_code == 404
    assert collect_order(shops, order_id)["state"] == "ready"


def in_transfer(world: World) -> str:
    """An order for ST1 sent from the warehouse in parcel TRK-1."""
    collect_network(world, [("WH1", "A", 5)])
    order = place(world, collect_body(("1", "A", 2)), "k-1")
    [f] = order["fulfilments"]
    prepare(world, f["id"], world.admin)
    act(world, f["id"], "transfer", world.admin, {"parcels": [parcel("TRK-1")]})
    return str(order["id"])


def test_a_transfer_is_listed_then_received_by_scanning_its_parcel(shops: World) -> None:
    order_id = in_transfer(shops)
    marie = signed_in(shops, "marie")
    shelf = marie.get("/store/collect").text
    assert "TRK-1" in shelf
    assert "WH1" in shelf
    paul = signed_in(shops, "paul")
    other = post(paul, "/store/collect/receive", {"tracking_number": "TRK-1"}, "/store/collect")
    assert other.status_code == 403
    assert said(other.text) == ["Parcel TRK-1 is for another store: nothing was received."]
    received = post(
        marie, "/store/collect/receive", {"tracking_number": " TRK-1 "}, "/store/collect"
    )
    assert received.status_code == 303
    assert said(marie.get("/store/collect").text) == [
        f"Received: order {order_id[-8:]} is on the collect shelf."
    ]
    assert read_order(shops, order_id)["status"] == "ready_for_pickup"
    assert position(shops.db, "ST1", "A") == (2, 2)
    again = post(marie, "/store/collect/receive", {"tracking_number": "TRK-1"}, "/store/collect")
    assert again.status_code == 409
    assert said(again.text) == [
        "This was already done, or the order changed meanwhile: nothing was changed."
    ]
    assert position(shops.db, "ST1", "A") == (2, 2)


@pytest.mark.parametrize(
    ("tracking", "status", "message"),
    [
        ("", 422, "Parcel tracking number: required."),
        ("T" * 65, 422, "Parcel tracking number: at most 64 characters."),
        ("NOPE", 404, "No parcel NOPE is on its way here: check the number."),
    ],
)
def test_a_bad_tracking_number_is_named_and_receives_nothing(
    shops: World, tracking: str, status: int, message: str
) -> None:
    order_id = in_transfer(shops)
    marie = signed_in(shops, "marie")
    answer = post(marie, "/store/collect/receive", {"tracking_number": tracking}, "/store/collect")
    assert answer.status_code == status
    assert said(answer.text) == [message]
    assert read_order(shops, order_id)["status"] == "in_progress"
    assert collect_order(shops, order_id)["transfers"][0]["received_at"] is None


def test_a_form_without_its_csrf_token_is_refused(shops: World) -> None:
    order_id, _ = ready_at_st1(shops)
    marie = signed_in(shops, "marie")
    form = {"order_id": order_id, "code": code_of(shops, order_id), "csrf_token": "stale"}
    answer = marie.post("/store/collect/handover", data=form)
    assert answer.status_code == 403
    assert collect_order(shops, order_id)["state"] == "ready"


# --- e-reservations ----------------------------------------------------------------------


def reserved(world: World) -> dict[str, Any]:
    stores(world, [("ST1", "A", 5), ("ST1", "B", 5), ("ST2", "A", 5)])
    return reserve(world, reservation_body(("1", "A", 2), ("2", "B", 1)))


def reservation(world: World, reservation_id: str) -> dict[str, Any]:
    answer = world.client.get(f"/v1/reservations/{reservation_id}", headers=world.store1)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_a_reservation_is_set_aside_then_converted_into_a_sale_at_the_till(
    shops: World,
) -> None:
    made = reserved(shops)
    marie = signed_in(shops, "marie")
    listed = marie.get("/store/reservations")
    assert listed.status_code == 200
    assert "Camille Martin" in listed.text
    assert "2 × " in listed.text
    assert "48:00:00" in listed.text  # the expiry countdown: the default holding time
    page = "/store/reservations"
    aside = post(marie, f"{page}/{made['id']}/set-aside", {}, page)
    assert aside.status_code == 303
    assert said(marie.get(page).text) == ["Set aside for Camille Martin."]
    assert reservation(shops, made["id"])["status"] == "set_aside"
    sold = post(marie, f"{page}/{made['id']}/convert", {}, page)
    assert sold.status_code == 303
    assert said(marie.get(page).text) == ["Sold to Camille Martin: the units left the stock."]
    assert reservation(shops, made["id"])["status"] == "converted"
    assert position(shops.db, "ST1", "A")[0] == 3
    replayed = post(marie, f"{page}/{made['id']}/convert", {}, page)
    assert replayed.status_code == 409
    assert said(replayed.text) == [
        "Refused: this reservation is already sold. Nothing was changed."
    ]
    assert position(shops.db, "ST1", "A")[0] == 3
    assert made["id"] not in marie.get(page).text


def test_a_reservation_cannot_be_sold_at_its_exact_expiry(
    shops: World, clock: list[datetime]
) -> None:
    made = reserved(shops)
    marie = signed_in(shops, "marie")
    page = "/store/reservations"
    assert post(marie, f"{page}/{made['id']}/set-aside", {}, page).status_code == 303
    clock[0] = datetime.fromisoformat(made["expires_at"])
    marie = signed_in(shops, "marie")  # a new day, a new session
    late = post(marie, f"{page}/{made['id']}/convert", {}, page)
    assert late.status_code == 409
    assert said(late.text) == ["Refused: this reservation is expired. Nothing was changed."]
    assert position(shops.db, "ST1", "A")[0] == 5
    assert made["id"] not in marie.get(page).text
    clock[0] -= timedelta(microseconds=1)
    assert made["id"] in marie.get(page).text


def test_a_reservation_is_cancelled_and_bad_requests_change_nothing(shops: World) -> None:
    made = reserved(shops)
    marie = signed_in(shops, "marie")
    paul = signed_in(shops, "paul")
    page = "/store/reservations"
    assert made["id"] not in paul.get(page).text
    other = post(paul, f"{page}/{made['id']}/cancel", {}, page)
    assert other.status_code == 404
    unknown = post(marie, f"{page}/nope/convert", {}, page)
    assert unknown.status_code == 404
    wrong_action = post(marie, f"{page}/{made['id']}/sell", {}, page)
    assert wrong_action.status_code == 404
    stale = marie.post(f"{page}/{made['id']}/cancel", data={"csrf_token": "old"})
    assert stale.status_code == 403
    assert reservation(shops, made["id"])["status"] == "open"
    done = post(marie, f"{page}/{made['id']}/cancel", {}, page)
    assert done.status_code == 303
    assert said(marie.get(page).text) == [
        "Cancelled: the units of Camille Martin are for sale again."
    ]
    assert reservation(shops, made["id"])["status"] == "cancelled"
    assert position(shops.db, "ST1", "A")[0] == 5


# --- returns -----------------------------------------------------------------------------


def a_return(world: World) -> tuple[str, str]:
    """2 A and 1 B of a delivered order, brought back to ST1."""
    order = delivered(world)
    asked = ask(world, return_body(order["id"], ("1", 2), ("2", 1)))
    return order["id"], asked["id"]


def get_return(world: World, return_id: str) -> dict[str, Any]:
    answer = world.client.get(f"/v1/returns/{return_id}", headers=world.admin)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_a_return_is_found_by_its_id_inspected_and_shows_the_refund_due(shops: World) -> None:
    order_id, return_id = a_return(shops)
    marie = signed_in(shops, "marie")
    listed = marie.get("/store/returns")
    assert f'href="/store/returns/{return_id}"' in listed.text
    found = marie.get("/store/returns", params={"id": f" {return_id} "}, follow_redirects=False)
    assert (found.status_code, found.headers["location"]) == (303, f"/store/returns/{return_id}")
    page = f"/store/returns/{return_id}"
    form = {"resell.1": "1", "second_hand.1": "1", "grade.1": "good", "damaged.2": "1"}
    done = post(marie, f"{page}/receive", form, page)
    assert done.status_code == 303, done.text
    shown = marie.get(page)
    assert said(shown.text) == ["Received. Refund due: 89.97 EUR."]
    assert "Second-hand (Good)" in shown.text
    ret = get_return(shops, return_id)
    assert ret["status"] == "received"
    assert ret["refund"]["amount"] == 8997
    assert position(shops.db, "ST1", "A")[0] == 1
    assert position(shops.db, "HUB", "A")[0] == 1
    assert read_order(shops, order_id)["lines"][0]["buckets"]["returned"] == 2
    replayed = post(marie, f"{page}/receive", form, page)
    assert replayed.status_code == 409
    assert said(replayed.text) == ["This return was received already: nothing was changed."]
    assert position(shops.db, "ST1", "A")[0] == 1


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({}, "Item A: 0 of 2 units inspected. Inspect each unit once."),
        (
            {"resell.1": "2", "damaged.1": "1", "resell.2": "1"},
            "Item A: 3 of 2 units inspected. Inspect each unit once.",
        ),
        (
            {"resell.1": "3", "resell.2": "1"},
            "Item A – Back on sale: a whole number from 0 to 2.",
        ),
        (
            {"resell.1": "1", "resell.2": "1"},
            "Item A: 1 of 2 units inspected. Inspect each unit once.",
        ),
        (
            {"second_hand.1": "2", "resell.2": "1"},
            "Item A – Second-hand grade: choose one.",
        ),
        (
            {"resell.1": "two", "resell.2": "1"},
            "Item A – Back on sale: a whole number from 0 to 2.",
        ),
    ],
)
def test_a_bad_inspection_is_named_on_the_page_and_receives_nothing(
    shops: World, form: dict[str, str], message: str
) -> None:
    order_id, return_id = a_return(shops)
    marie = signed_in(shops, "marie")
    page = f"/store/returns/{return_id}"
    answer = post(marie, f"{page}/receive", form, page)
    assert answer.status_code == 422
    assert message in said(answer.text)
    assert get_return(shops, return_id)["status"] == "requested"
    assert read_order(shops, order_id)["lines"][0]["buckets"]["returned"] == 0


def test_an_unknown_or_another_stores_return_is_not_found_here(shops: World) -> None:
    _, return_id = a_return(shops)
    marie = signed_in(shops, "marie")
    unknown = marie.get("/store/returns", params={"id": "nope"})
    assert unknown.status_code == 404
    assert said(unknown.text) == ["No return nope is expected at this store: check the number."]
    too_long = marie.get("/store/returns", params={"id": "x" * 65})
    assert too_long.status_code == 422
    assert said(too_long.text) == ["Return number: at most 64 characters."]
    paul = signed_in(shops, "paul")
    assert paul.get(f"/store/returns/{return_id}").status_code == 404
    form = {"resell.1": "2", "resell.2": "1"}
    other = post(paul, f"/store/returns/{return_id}/receive", form, "/store/returns")
    assert other.status_code == 404
    assert get_return(shops, return_id)["status"] == "requested"
