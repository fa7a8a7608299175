"""The store app's pages over a real database (both kinds), through the same services as the
API: sign-in and lock-out, the queue, claim, reject, pick short with the re-route, scope, CSRF
and bad input that changes nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from openoms.api.deps import get_now
from openoms.domain.users import StoreRole
from openoms.services import users
from openoms.services.keys import Role
from tests.conftest import World, bearer
from tests.integration.test_fulfilments import position, settle
from tests.integration.test_orders import BROADCAST, network, order_body, place
from tests.integration.test_promise_api import a_weekday_morning

PASSWORD = "a long password"
BROADCAST_ONE = {
    **BROADCAST,
    "rules": [
        {
            "name": "stores",
            "filters": {"kinds": ["store"]},
            "offer": {"mode": "broadcast", "stores": 1, "minutes": 10},
        },
    ],
}


@pytest.fixture(autouse=True)
def morning(world: World) -> Iterator[datetime]:
    now = a_weekday_morning()
    app = cast(FastAPI, world.client.app)
    app.dependency_overrides[get_now] = lambda: now
    yield now
    app.dependency_overrides.clear()


def associate(world: World, username: str, location: str, role: StoreRole) -> None:
    users.create_user(
        world.db,
        username=username,
        display_name=username.title(),
        location=location,
        role=role,
        password=PASSWORD,
        now=a_weekday_morning(),
    )


def browser(world: World, language: str = "en") -> TestClient:
    """A second client on the same app: its own cookies."""
    client = TestClient(world.client.app, raise_server_exceptions=False)
    client.headers["Accept-Language"] = language
    return client


def token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    page = client.get("/store/sign-in")
    assert page.status_code == 200
    body = {"username": username, "password": password, "csrf_token": token(page.text)}
    return client.post("/store/sign-in", data=body, follow_redirects=False)


def signed_in(world: World, username: str, language: str = "en") -> TestClient:
    client = browser(world, language)
    answer = sign_in(client, username)
    assert answer.status_code == 303, answer.text
    return client


def notices(html: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", text).strip()
        for text in re.findall(r'<p class="notice [a-z]+"[^>]*>(.*?)</p>', html, re.S)
    ]


def offered(world: World, lines: tuple[tuple[str, str, int], ...]) -> tuple[str, str]:
    """An order broadcast to ST1 only (it holds more than ST2); ST2 a fallback for re-routes."""
    network(
        world, [("ST1", "A", 9), ("ST1", "B", 9), ("ST2", "A", 5), ("ST2", "B", 5)], BROADCAST_ONE
    )
    settle(world, ["A", "B"])
    order = place(world, order_body(*lines), "k-1")
    [fulfilment] = order["fulfilments"]
    assert (fulfilment["location"], fulfilment["status"]) == ("ST1", "offered")
    return order["id"], fulfilment["id"]


@pytest.fixture
def shops(world: World) -> World:
    associate(world, "marie", "ST1", StoreRole.ASSOCIATE)
    associate(world, "paul", "ST2", StoreRole.ASSOCIATE)
    return world


def api_fulfilment(world: World, fulfilment_id: str) -> dict[str, Any]:
    answer = world.client.get(f"/v1/fulfilments/{fulfilment_id}", headers=world.admin)
    assert answer.status_code == 200
    result: dict[str, Any] = answer.json()
    return result


def test_pages_need_a_session(shops: World) -> None:
    client = browser(shops)
    answer = client.get("/store/queue", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/store/sign-in")
    polled = client.get("/store/queue/offers", headers={"HX-Request": "true"})
    assert polled.headers["HX-Redirect"] == "/store/sign-in"


def test_a_wrong_password_says_so_and_five_lock_the_account(shops: World) -> None:
    client = browser(shops)
    for _ in range(4):
        answer = sign_in(client, "marie", "not the password")
        assert answer.status_code == 401
        assert notices(answer.text) == ["Wrong username or password."]
    answer = sign_in(client, "marie", "not the password")
    assert answer.status_code == 403
    assert "locked for 15 minutes, until 09:15" in notices(answer.text)[0]
    still = sign_in(client, "marie")
    assert still.status_code == 403
    assert "locked" in notices(still.text)[0]


def test_an_empty_or_too_long_sign_in_is_named_on_the_page(shops: World) -> None:
    client = browser(shops)
    page = client.get("/store/sign-in")
    body = {"username": "", "password": "x" * 201, "csrf_token": token(page.text)}
    answer = client.post("/store/sign-in", data=body)
    assert answer.status_code == 422
    assert notices(answer.text) == ["Username: required.", "Password: at most 200 characters."]
    body = {"username": "m" * 65, "password": PASSWORD, "csrf_token": token(page.text)}
    assert notices(client.post("/store/sign-in", data=body).text) == [
        "Username: at most 64 characters."
    ]


def test_a_sign_in_without_its_token_is_refused(shops: World) -> None:
    client = browser(shops)
    answer = client.post(
        "/store/sign-in", data={"username": "marie", "password": PASSWORD, "csrf_token": "x"}
    )
    assert answer.status_code == 403
    assert "nothing was changed" in notices(answer.text)[0]


def test_the_queue_shows_an_offer_with_its_lines_method_promise_and_time_left(
    shops: World,
) -> None:
    _, fulfilment_id = offered(shops, (("1", "A", 2), ("2", "B", 1)))
    client = signed_in(shops, "marie")
    page = client.get("/store/queue")
    assert page.status_code == 200
    assert "Offers waiting for a claim" in page.text
    assert "Home, standard" in page.text
    assert "Item A" in page.text
    assert "Item B" in page.text
    assert "10:00" in page.text  # the countdown: 10 minutes left
    assert f"/store/fulfilments/{fulfilment_id}/claim" in page.text
    fragment = client.get("/store/queue/offers")
    assert "<html" not in fragment.text
    assert f"/store/fulfilments/{fulfilment_id}/claim" in fragment.text
    other = signed_in(shops, "paul")
    assert fulfilment_id not in other.get("/store/queue").text


def test_claim_then_pick_short_declares_the_missing_unit_and_the_oms_re_routes_it(
    shops: World,
) -> None:
    order_id, fulfilment_id = offered(shops, (("1", "A", 2), ("2", "B", 1)))
    client = signed_in(shops, "marie")
    queue = client.get("/store/queue")
    claimed = client.post(
        f"/store/fulfilments/{fulfilment_id}/claim", data={"csrf_token": token(queue.text)}
    )
    assert claimed.status_code == 200
    assert "Claimed: pick it now." in notices(claimed.text)
    assert "Scan a barcode" in claimed.text
    csrf = token(claimed.text)
    replay = client.post(f"/store/fulfilments/{fulfilment_id}/claim", data={"csrf_token": csrf})
    assert replay.status_code == 409
    assert "already done" in notices(replay.text)[0]

    short = {"csrf_token": csrf, "picked.1": "1", "picked.2": "1", "confirm": "1"}
    undeclared = client.post(f"/store/fulfilments/{fulfilment_id}/pick", data=short)
    assert undeclared.status_code == 422
    assert notices(undeclared.text) == [
        "Item A: 1 of 2 picked. Scan the rest or tick “The rest is missing”."
    ]
    assert api_fulfilment(shops, fulfilment_id)["status"] == "claimed"

    wrong = client.post(
        f"/store/fulfilments/{fulfilment_id}/pick", data={**short, "picked.2": "many"}
    )
    assert wrong.status_code == 422
    assert notices(wrong.text) == ["Item B: a whole number from 0 to 100000."]

    picked = client.post(f"/store/fulfilments/{fulfilment_id}/pick", data={**short, "missing": "1"})
    assert picked.status_code == 200
    assert notices(picked.text) == [
        "Picked: pack it now.",
        "Missing 1 × Item A: the OMS re-routed it to another location.",
    ]
    after = api_fulfilment(shops, fulfilment_id)
    assert after["status"] == "picking"
    assert {a["line_id"]: a["units"] for a in after["allocations"]} == {"1": 1, "2": 1}
    order = shops.client.get(f"/v1/orders/{order_id}", headers=shops.admin).json()
    assert order["lines"][0]["buckets"]["allocated"] == {"ST1": 1, "ST2": 1}
    assert position(shops.db, "ST1", "A") == (9, 1)


def test_a_scan_without_the_script_is_counted_by_the_server_and_writes_nothing(
    shops: World,
) -> None:
    _, fulfilment_id = offered(shops, (("1", "A", 1),))
    client = signed_in(shops, "marie")
    page = client.post(
        f"/store/fulfilments/{fulfilment_id}/claim",
        data={"csrf_token": token(client.get("/store/queue").text)},
    )
    csrf = token(page.text)
    unknown = client.post(
        f"/store/fulfilments/{fulfilment_id}/pick",
        data={"csrf_token": csrf, "picked.1": "0", "scan": "999"},
    )
    assert notices(unknown.text) == ["Barcode 999 is not on this pick list."]
    assert api_fulfilment(shops, fulfilment_id)["status"] == "claimed"


def test_another_store_can_neither_see_nor_reach_the_fulfilment(shops: World) -> None:
    _, fulfilment_id = offered(shops, (("1", "A", 1),))
    paul = signed_in(shops, "paul")
    page = paul.get(f"/store/fulfilments/{fulfilment_id}")
    assert page.status_code == 404
    assert "Item A" not in page.text
    csrf = token(paul.get("/store/queue").text)
    for action in ("claim", "pick", "reject"):
        answer = paul.post(
            f"/store/fulfilments/{fulfilment_id}/{action}", data={"csrf_token": csrf}
        )
        assert answer.status_code == 404, action
    assert paul.get(f"/store/fulfilments/{fulfilment_id}/reject").status_code == 404
    api = shops.client.get(
        f"/v1/fulfilments/{fulfilment_id}", headers=bearer(shops.db, Role.STORE, "ST2")
    )
    assert api.status_code == 404
    assert api_fulfilment(shops, fulfilment_id)["status"] == "offered"


def test_a_form_with_a_stale_token_changes_nothing(shops: World) -> None:
    _, fulfilment_id = offered(shops, (("1", "A", 1),))
    client = signed_in(shops, "marie")
    old = token(client.get("/store/queue").text)
    client.post("/store/sign-out", data={"csrf_token": old})
    client = signed_in(shops, "marie")
    answer = client.post(f"/store/fulfilments/{fulfilment_id}/claim", data={"csrf_token": old})
    assert answer.status_code == 403
    assert "nothing was changed" in notices(answer.text)[0]
    assert api_fulfilment(shops, fulfilment_id)["status"] == "offered"


def test_reject_out_of_stock_asks_what_was_found(shops: World) -> None:
    _, fulfilment_id = offered(shops, (("1", "A", 2),))
    client = signed_in(shops, "marie")
    form = client.get(f"/store/fulfilments/{fulfilment_id}/reject")
    csrf = token(form.text)
    url = f"/store/fulfilments/{fulfilment_id}/reject"
    empty = client.post(url, data={"csrf_token": csrf})
    assert empty.status_code == 422
    assert notices(empty.text) == ["Reason: choose one."]
    missing = client.post(url, data={"csrf_token": csrf, "reason": "out_of_stock", "found.A": ""})
    assert notices(missing.text) == ["Item A: required."]
    negative = client.post(
        url, data={"csrf_token": csrf, "reason": "out_of_stock", "found.A": "-1"}
    )
    assert notices(negative.text) == ["Item A: a whole number from 0 to 100000."]
    assert api_fulfilment(shops, fulfilment_id)["status"] == "offered"
    done = client.post(url, data={"csrf_token": csrf, "reason": "out_of_stock", "found.A": "1"})
    assert done.status_code == 200
    assert notices(done.text) == ["Rejected: the OMS is sourcing the order elsewhere."]
    assert api_fulfilment(shops, fulfilment_id)["status"] == "rejected"
    assert position(shops.db, "ST1", "A")[0] == 1


def test_the_interface_speaks_the_browser_language_or_the_one_chosen(shops: World) -> None:
    client = browser(shops, "fr-FR,fr;q=0.9,en;q=0.5")
    page = client.get("/store/sign-in")
    assert '<html lang="fr">' in page.text
    assert "Mot de passe" in page.text
    client.get("/store/language/en?next=/store/sign-in")
    assert "Password" in client.get("/store/sign-in").text
    french = signed_in(shops, "marie", "fr")
    assert "Rien à préparer." in french.get("/store/queue").text


def picked_at_st1(shops: World) -> tuple[TestClient, str, str]:
    """Marie claimed and picked an order of 1 A: it waits to be packed."""
    _, fulfilment_id = offered(shops, (("1", "A", 1),))
    client = signed_in(shops, "marie")
    page = client.post(
        f"/store/fulfilments/{fulfilment_id}/claim",
        data={"csrf_token": token(client.get("/store/queue").text)},
    )
    csrf = token(page.text)
    picked = client.post(
        f"/store/fulfilments/{fulfilment_id}/pick",
        data={"csrf_token": csrf, "picked.1": "1", "confirm": "1"},
    )
    assert picked.status_code == 200
    assert "Picked: pack it now." in notices(picked.text)
    return client, fulfilment_id, csrf


def test_packing_in_a_box_labels_the_parcel_and_gives_its_documents(shops: World) -> None:
    client, fulfilment_id, csrf = picked_at_st1(shops)
    url = f"/store/fulfilments/{fulfilment_id}/pack"
    empty = client.post(url, data={"csrf_token": csrf})
    assert empty.status_code == 422
    assert notices(empty.text) == ["Box: choose one."]
    custom = client.post(
        url, data={"csrf_token": csrf, "box": "custom", "length_mm": "300", "width_mm": "x"}
    )
    assert notices(custom.text) == [
        "Width (mm): a whole number from 1 to 3000.",
        "Height (mm): required.",
    ]
    assert api_fulfilment(shops, fulfilment_id)["status"] == "picking"
    packed = client.post(url, data={"csrf_token": csrf, "box": "M", "weight_g": ""})
    assert packed.status_code == 200
    assert "Packed: print the label." in notices(packed.text)
    after = api_fulfilment(shops, fulfilment_id)
    assert after["status"] == "packed"
    [parcel] = after["parcels"]
    assert f"/store/parcels/{parcel['tracking_number']}/label.pdf" in packed.text
    label = client.get(f"/store/parcels/{parcel['tracking_number']}/label.pdf")
    assert (label.status_code, label.headers["content-type"]) == (200, "application/pdf")
    assert label.content.startswith(b"%PDF")
    slip = client.get(f"/store/fulfilments/{fulfilment_id}/packing-slip.pdf")
    assert slip.content.startswith(b"%PDF")
    replay = client.post(url, data={"csrf_token": csrf, "box": "L"})
    assert replay.status_code == 409
    assert "already done" in notices(replay.text)[0]
    assert api_fulfilment(shops, fulfilment_id)["parcels"] == [parcel]
    paul = signed_in(shops, "paul")
    assert paul.get(f"/store/parcels/{parcel['tracking_number']}/label.pdf").status_code == 404
    assert paul.get(f"/store/fulfilments/{fulfilment_id}/packing-slip.pdf").status_code == 404


def clock(world: World, moment: datetime) -> None:
    cast(FastAPI, world.client.app).dependency_overrides[get_now] = lambda: moment


def test_the_manager_sees_the_days_counts_and_average_times(
    shops: World, morning: datetime
) -> None:
    associate(shops, "lea", "ST1", StoreRole.MANAGER)
    yesterday = (morning - timedelta(days=1)).date().isoformat()
    promise = {"method": "home_standard", "price": 0, "currency": "EUR", "latest": yesterday}
    network(
        shops,
        [("ST1", "A", 9), ("ST1", "B", 9), ("ST2", "A", 5), ("ST2", "B", 5)],
        BROADCAST_ONE,
    )
    settle(shops, ["A", "B"])
    first = place(shops, order_body(("1", "A", 1), promise_option=promise), "k-1")
    second = place(shops, order_body(("1", "B", 1)), "k-2")
    late_id, other_id = first["fulfilments"][0]["id"], second["fulfilments"][0]["id"]
    marie = signed_in(shops, "marie")
    csrf = token(marie.get("/store/queue").text)
    clock(shops, morning + timedelta(minutes=3))
    marie.post(f"/store/fulfilments/{late_id}/claim", data={"csrf_token": csrf})
    clock(shops, morning + timedelta(minutes=5))
    marie.post(f"/store/fulfilments/{other_id}/claim", data={"csrf_token": csrf})
    marie.post(
        f"/store/fulfilments/{other_id}/pick",
        data={"csrf_token": csrf, "picked.1": "1", "confirm": "1"},
    )
    clock(shops, morning + timedelta(minutes=12))
    packed = marie.post(
        f"/store/fulfilments/{other_id}/pack", data={"csrf_token": csrf, "box": "S"}
    )
    assert "Packed: print the label." in notices(packed.text)
    assert marie.get("/store/manager").status_code == 403
    assert "/store/manager" not in marie.get("/store/queue").text
    lea = signed_in(shops, "lea")
    page = lea.get("/store/manager")
    assert page.status_code == 200
    figures = dict(
        re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", re.sub(r">\s+<", "><", page.text))
    )
    assert figures == {
        "Claimed": "2",
        "Rejected": "0",
        "Late": "1",
        "Shipped": "0",
        "Average time from offer to claim": "4 min",
        "Average time from claim to packed": "7 min",
    }


def test_the_pickup_is_booked_by_hand_and_the_handover_ships(shops: World) -> None:
    client, fulfilment_id, csrf = picked_at_st1(shops)
    client.post(f"/store/fulfilments/{fulfilment_id}/pack", data={"csrf_token": csrf, "box": "S"})
    [parcel] = api_fulfilment(shops, fulfilment_id)["parcels"]
    page = client.get("/store/pickups")
    assert parcel["tracking_number"] in page.text
    carrier = re.search(r'name="carrier" value="([^"]+)"', page.text)
    assert carrier is not None
    empty = client.post("/store/pickups/book", data={"csrf_token": csrf, "carrier": " "})
    assert (empty.status_code, notices(empty.text)) == (422, ["Carrier: required."])
    booked = client.post(
        "/store/pickups/book", data={"csrf_token": csrf, "carrier": carrier.group(1)}
    )
    assert notices(booked.text) == ["Pickup booked."]
    pickup_id = re.search(r"/store/pickups/([^/]+)/manifest\.pdf", booked.text)
    assert pickup_id is not None
    manifest = client.get(f"/store/pickups/{pickup_id.group(1)}/manifest.pdf")
    assert manifest.content.startswith(b"%PDF")
    paul = signed_in(shops, "paul")
    paul_csrf = token(paul.get("/store/pickups").text)
    outsider = paul.post(
        f"/store/pickups/{pickup_id.group(1)}/hand-over", data={"csrf_token": paul_csrf}
    )
    assert outsider.status_code == 404
    assert paul.get(f"/store/pickups/{pickup_id.group(1)}/manifest.pdf").status_code == 404
    url = f"/store/pickups/{pickup_id.group(1)}/hand-over"
    handed = client.post(url, data={"csrf_token": csrf})
    assert notices(handed.text) == ["Handed over: the orders are shipped."]
    assert api_fulfilment(shops, fulfilment_id)["status"] == "shipped"
    replay = client.post(url, data={"csrf_token": csrf})
    assert replay.status_code == 409
    assert "already done" in notices(replay.text)[0]


def test_a_parcel_too_heavy_for_the_carriers_is_refused_with_no_label(shops: World) -> None:
    client, fulfilment_id, csrf = picked_at_st1(shops)
    url = f"/store/fulfilments/{fulfilment_id}/pack"
    heavy = client.post(url, data={"csrf_token": csrf, "box": "XL", "weight_g": "200000"})
    assert heavy.status_code == 422
    assert notices(heavy.text) == [
        "Too heavy for the carriers of this delivery: use lighter parcels."
    ]
    assert api_fulfilment(shops, fulfilment_id)["parcels"] == []
    assert f'action="{url}"' in heavy.text  # the form again, to try lighter parcels
    lighter = client.post(url, data={"csrf_token": csrf, "box": "XL", "weight_g": "2000"})
    assert "Packed: print the label." in notices(lighter.text)


def test_an_unknown_store_page_is_the_apps_own_not_found(shops: World) -> None:
    client = browser(shops)
    answer = client.get("/store/nowhere/at/all")
    assert answer.status_code == 404
    assert "Not found at this store." in answer.text
    assert client.get("/store/static/store.css").status_code == 200
    assert client.get("/v1/nowhere").headers["content-type"] == "application/problem+json"
