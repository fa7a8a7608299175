"""The store app in a real headless Chromium (Debian's, driven by Playwright) against the server
started for real: an associate's day from sign-in to the carrier's pickup, another store kept
out, the lock-out, the French interface, the keyboard alone, the handover of a click & collect
order, a reservation set aside and sold, a return received in store, and axe-core on every
screen.

Each screen is photographed at 1024x768, into docs/store-app/ (the README shows them) when
OMS_UPDATE_SCREENSHOTS is set (`make screenshots`), else into a temporary directory, so that a
test run does not rewrite the committed pictures.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.conftest import OMS, Server
from tests.pdf_reading import code128_values, pdf_text

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENS = (
    Path(__file__).parents[2] / "docs" / "store-app"
    if os.environ.get("OMS_UPDATE_SCREENSHOTS")
    else Path(tempfile.gettempdir()) / "openoms-store-app"
)
PASSWORD = "tablet at the till"
NAMES = {"marie": "Marie Dubois", "paul": "Paul Lefebvre", "lea": "Léa Martin"}
EVERY_DAY = {
    day: [{"opens": "00:00", "closes": "23:59"}]
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}
LILLE = {"latitude": 50.637, "longitude": 3.063, "country": "FR"}
SKUS = [
    {
        "code": "TS-BLUE-M",
        "name": "T-shirt bleu M",
        "category": "Hauts",
        "barcode": "3760000000017",
    },
    {"code": "JN-SLIM-32", "name": "Jean slim 32", "category": "Bas", "barcode": "3760000000024"},
    {
        "code": "SC-WOOL",
        "name": "Écharpe laine",
        "category": "Accessoires",
        "barcode": "3760000000031",
    },
]
PROFILE = {
    "code": "web-home",
    "name": "Web, home delivery",
    "channel": "web",
    "delivery_method": "home_standard",
    "rules": [
        {
            "name": "stores",
            "filters": {"kinds": ["store"]},
            "offer": {"mode": "broadcast", "stores": 1, "minutes": 30},
        }
    ],
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (make chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@dataclass
class Shop:
    server: Server
    channel: dict[str, str]
    database: str

    def page(self, browser: Browser, locale: str = "en-GB") -> Page:
        context = browser.new_context(
            viewport={"width": 1024, "height": 768}, locale=locale, accept_downloads=True
        )
        return context.new_page()

    def url(self, path: str) -> str:
        return f"{self.server.url}{path}"

    def order(self, lines: list[tuple[str, str, int]], key: str) -> dict[str, Any]:
        latest = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
        body = {
            "channel": "web",
            "lines": [{"line_id": i, "sku": s, "quantity": q} for i, s, q in lines],
            "customer": {"name": "Camille Martin", "email": "camille@example.com"},
            "delivery_method": "home_standard",
            "destination": LILLE,
            "promise_option": {
                "method": "home_standard",
                "price": 490,
                "currency": "EUR",
                "earliest": latest,
                "latest": latest,
            },
        }
        with self.server.client() as http:
            answer = http.post(
                "/v1/orders", json=body, headers={**self.channel, "Idempotency-Key": key}
            )
        assert answer.status_code == 201, answer.text
        order: dict[str, Any] = answer.json()
        return order

    def screenshot(self, page: Page, name: str) -> None:
        """Once per run (on SQLite): the screens look the same on both databases."""
        if self.database == "sqlite":
            SCREENS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENS / f"{name}.png"))


def location(code: str, name: str, latitude: float, longitude: float) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "kind": "store",
        "latitude": latitude,
        "longitude": longitude,
        "timezone": "Europe/Paris",
        "address": "1 rue Neuve",
        "city": name.split(maxsplit=1)[0],
        "postal_code": "59000",
        "opening_hours": {"weekly": EVERY_DAY},
        "capabilities": ["ship", "click_collect", "e_reservation", "returns"],
        "daily_capacity": 100,
        "preparation_minutes": 30,
        "handling_cost": 200,
    }


def user(server: Server, username: str, store: str, role: str = "associate") -> None:
    command = [OMS, "users", "create", username, "--location", store, "--role", role]
    made = subprocess.run(
        [*command, "--name", NAMES[username], "--password-stdin"],
        input=PASSWORD + "\n",
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr


@pytest.fixture
def shop(server: Server, database_url: str) -> Shop:
    admin = server.admin
    with server.client() as http:
        for body in (
            location("ST-LILLE", "Lille Grand Place", 50.637, 3.063),
            location("ST-ROUBAIX", "Roubaix Centre", 50.690, 3.181),
        ):
            answer = http.put(f"/v1/locations/{body['code']}", json=body, headers=admin)
            assert answer.status_code == 200, answer.text
        for sku in SKUS:
            body = {**sku, "weight_g": 400, "length_mm": 300, "width_mm": 200, "height_mm": 50}
            answer = http.put(
                f"/v1/skus/{sku['code']}", json={**body, "price": 2500}, headers=admin
            )
            assert answer.status_code == 200, answer.text
        web = {"code": "web", "name": "Web shop", "publication": {"kinds": ["store"]}}
        assert http.put("/v1/channels/web", json=web, headers=admin).status_code == 200
        assert http.post("/v1/profiles", json=PROFILE, headers=admin).status_code == 201
        published = http.post("/v1/profiles/web-home/versions/1/publish", headers=admin)
        assert published.status_code == 200, published.text
        as_of = datetime.now(UTC).isoformat()
        rows = [
            {"location": store, "sku": sku["code"], "on_hand": units, "as_of": as_of}
            for store, units in (("ST-LILLE", 6), ("ST-ROUBAIX", 4))
            for sku in SKUS
        ]
        stocked = http.post("/v1/stock/snapshots", json={"rows": rows}, headers=admin)
        assert stocked.status_code == 200, stocked.text
        made = http.post("/v1/keys", json={"name": "shop", "role": "channel"}, headers=admin)
        channel = {"Authorization": f"Bearer {made.json()['secret']}"}
    user(server, "marie", "ST-LILLE")
    user(server, "paul", "ST-ROUBAIX")
    user(server, "lea", "ST-LILLE", "manager")
    return Shop(server, channel, "sqlite" if database_url.startswith("sqlite") else "postgresql")


TOUCH_TARGETS = (
    "button, .button, .bar a, label.choice, "
    "input:not([type=hidden]):not([type=checkbox]):not([type=radio])"
)
SMALL_TARGETS = """targets => targets
    .filter(t => t.offsetParent !== null)
    .map(t => [t.textContent.trim() || t.name || t.id, t.getBoundingClientRect()])
    .filter(([, box]) => box.height < 48 || box.width < 48)
    .map(([name, box]) => `${name}: ${box.width}x${box.height}`)"""


def check_accessibility(page: Page) -> None:
    """axe-core finds no serious or critical violation; every control is a thumb's size."""
    assert page.eval_on_selector_all(TOUCH_TARGETS, SMALL_TARGETS) == []
    results = Axe().run(page)
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], serious


def sign_in(shop: Shop, page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto(shop.url("/store/sign-in"))
    page.get_by_label(re.compile("Username|Identifiant")).fill(username)
    page.get_by_label(re.compile("Password|Mot de passe")).fill(password)
    page.get_by_role("button", name=re.compile("Sign in|Se connecter")).click()


def offered_card(page: Page, order_id: str) -> Any:
    return page.locator("#offers li.card").filter(has_text=order_id[-8:])


def test_an_associates_day_from_the_offer_to_the_carrier(shop: Shop, browser: Browser) -> None:
    order = shop.order(
        [("1", "TS-BLUE-M", 1), ("2", "JN-SLIM-32", 2), ("3", "SC-WOOL", 1)], "e2e-1"
    )
    [fulfilment] = order["fulfilments"]
    assert (fulfilment["location"], fulfilment["status"]) == ("ST-LILLE", "offered")
    page = shop.page(browser)
    page.goto(shop.url("/store/sign-in"))
    shop.screenshot(page, "01-sign-in")
    check_accessibility(page)
    sign_in(shop, page, "marie")

    expect(page.get_by_role("heading", name="Queue", exact=True)).to_be_visible()
    card = offered_card(page, order["id"])
    expect(card).to_contain_text("Jean slim 32")
    expect(card).to_contain_text("Home, standard")
    expect(card.locator("time[data-expires]")).to_have_text(re.compile(r"^(29|30):\d\d$"))
    shop.screenshot(page, "02-queue")
    check_accessibility(page)
    later = shop.order([("1", "SC-WOOL", 1)], "e2e-2")  # appears without a reload
    expect(offered_card(page, later["id"])).to_be_visible(timeout=15_000)
    card.get_by_role("button", name=re.compile("^Claim")).click()

    expect(page.get_by_text("Claimed: pick it now.")).to_be_visible()
    names = page.locator("table.pick tbody th").all_inner_texts()
    assert [n.split("\n")[0] for n in names] == ["Écharpe laine", "Jean slim 32", "T-shirt bleu M"]
    shop.screenshot(page, "03-pick")
    check_accessibility(page)
    scan = page.get_by_label("Scan a barcode")
    for code in ("3760000000017", "3760000000024", "3760000000031"):
        scan.fill(code)
        scan.press("Enter")  # a keyboard-wedge scanner types the code, then Enter
    expect(page.locator("#scan-result")).to_have_text("Scanned: Écharpe laine")
    scan.fill("0000")
    scan.press("Enter")
    expect(page.locator("#scan-result")).to_have_text("Barcode 0000 is not on this pick list.")
    expect(page.get_by_label("Picked of Jean slim 32")).to_have_value("1")
    page.get_by_role("button", name="Confirm the pick").click()
    expect(page.get_by_role("alert")).to_contain_text("Jean slim 32: 1 of 2 picked")
    page.get_by_label("The rest of Jean slim 32 is missing").check()
    page.get_by_role("button", name="Confirm the pick").click()
    expect(page.get_by_text("Missing 1 × Jean slim 32: the OMS re-routed it")).to_be_visible()
    with shop.server.client() as http:
        seen = http.get(f"/v1/orders/{order['id']}", headers=shop.server.admin).json()
    jeans = next(line for line in seen["lines"] if line["line_id"] == "2")
    assert jeans["buckets"]["allocated"] == {"ST-LILLE": 1, "ST-ROUBAIX": 1}

    shop.screenshot(page, "04-pack")
    check_accessibility(page)
    page.get_by_role("radio", name=re.compile(r"^M\b")).check()
    page.get_by_role("button", name="Pack and make the label").click()
    expect(page.get_by_text("Packed: print the label.")).to_be_visible()
    shop.screenshot(page, "05-label")
    check_accessibility(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Shipping label (PDF)").click()
    label = Path(download.value.path()).read_bytes()
    [tracking] = re.findall(r"OM\d{12}", pdf_text(label))[:1]
    assert "Lille Grand Place" in pdf_text(label)
    assert "Camille Martin" in pdf_text(label)
    assert code128_values(label) == [tracking]
    with page.expect_download() as download:
        page.get_by_role("link", name="Packing slip (PDF)").click()
    slip = pdf_text(Path(download.value.path()).read_bytes())
    assert "Jean slim 32" in slip

    page.get_by_role("link", name="Carrier pickups", exact=True).click()
    expect(page.get_by_role("heading", name="Carrier pickups", exact=True)).to_be_visible()
    expect(page.locator("main")).to_contain_text(tracking)
    shop.screenshot(page, "06-pickups")
    check_accessibility(page)
    page.get_by_role("button", name=re.compile("^Book the pickup")).first.click()
    expect(page.get_by_text("Pickup booked.")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("^Manifest")).first.click()
    assert tracking in pdf_text(Path(download.value.path()).read_bytes())
    page.get_by_role("button", name=re.compile("^Hand the parcels over")).first.click()
    expect(page.get_by_text("Handed over: the orders are shipped.")).to_be_visible()
    with shop.server.client() as http:
        shipped = http.get(f"/v1/fulfilments/{fulfilment['id']}", headers=shop.server.admin).json()
    assert shipped["status"] == "shipped"

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    sign_in(shop, page, "lea")
    page.get_by_role("link", name="Today's figures").click()
    figures = page.locator(".figures dd").all_inner_texts()
    assert figures[:4] == ["1", "0", "0", "1"]
    shop.screenshot(page, "07-manager")
    check_accessibility(page)


def test_another_store_can_neither_see_nor_reach_the_work(shop: Shop, browser: Browser) -> None:
    order = shop.order([("1", "TS-BLUE-M", 1)], "e2e-3")
    [fulfilment] = order["fulfilments"]
    assert fulfilment["location"] == "ST-LILLE"
    page = shop.page(browser)
    sign_in(shop, page, "paul")
    expect(page.locator("#offers")).to_contain_text("No offer is waiting.")
    answer = page.goto(shop.url(f"/store/fulfilments/{fulfilment['id']}"))
    assert answer is not None
    assert answer.status == 404
    expect(page.locator("main")).to_contain_text("Not found at this store.")
    expect(page.locator("main")).not_to_contain_text("T-shirt")
    shop.screenshot(page, "08-not-found")
    check_accessibility(page)
    for path in (f"/store/fulfilments/{fulfilment['id']}/reject",):
        got = page.goto(shop.url(path))
        assert got is not None
        assert got.status == 404
    key = shop.server.oms(
        "keys", "create", "--role", "store", "--location", "ST-ROUBAIX", "--quiet"
    )
    store_key = {"Authorization": f"Bearer {key.stdout.strip()}"}
    with shop.server.client() as http:
        assert http.get(f"/v1/fulfilments/{fulfilment['id']}", headers=store_key).status_code == 404
        claim = http.post(f"/v1/fulfilments/{fulfilment['id']}/claim", headers=store_key)
        assert claim.status_code == 404
        assert http.get(f"/v1/orders/{order['id']}", headers=store_key).status_code == 404


def test_a_reject_says_why_and_the_offer_leaves_the_queue(shop: Shop, browser: Browser) -> None:
    order = shop.order([("1", "SC-WOOL", 2)], "e2e-6")
    page = shop.page(browser)
    sign_in(shop, page, "marie")
    offered_card(page, order["id"]).get_by_role("link", name=re.compile("^Reject")).click()
    expect(page.get_by_role("heading", name=re.compile("^Reject the order"))).to_be_visible()
    shop.screenshot(page, "11-reject")
    check_accessibility(page)
    page.get_by_label("Out of stock").check()
    page.get_by_role("button", name="Reject", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("Écharpe laine: required.")
    page.get_by_label("Écharpe laine").fill("1")
    page.get_by_role("button", name="Reject", exact=True).click()
    expect(page.get_by_text("Rejected: the OMS is sourcing the order elsewhere.")).to_be_visible()
    expect(offered_card(page, order["id"])).to_have_count(0)


def test_five_wrong_passwords_lock_the_account(shop: Shop, browser: Browser) -> None:
    page = shop.page(browser)
    for _ in range(4):
        sign_in(shop, page, "marie", "not my password")
        expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    sign_in(shop, page, "marie", "not my password")
    expect(page.get_by_role("alert")).to_contain_text("locked for 15 minutes")
    sign_in(shop, page, "marie")
    expect(page.get_by_role("alert")).to_contain_text("locked for 15 minutes")
    shop.screenshot(page, "09-locked")
    check_accessibility(page)


def test_the_french_interface_shows_french(shop: Shop, browser: Browser) -> None:
    order = shop.order([("1", "SC-WOOL", 1)], "e2e-4")
    page = shop.page(browser, locale="fr-FR")
    page.goto(shop.url("/store/sign-in"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()
    sign_in(shop, page, "marie")
    expect(page.get_by_role("heading", name="File d'attente", exact=True)).to_be_visible()
    card = offered_card(page, order["id"])
    expect(card).to_contain_text("Domicile, standard")
    expect(card).to_contain_text("Part ailleurs dans")
    shop.screenshot(page, "10-queue-fr")
    check_accessibility(page)
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Queue", exact=True)).to_be_visible()


def test_the_keyboard_alone_signs_in_claims_and_picks(shop: Shop, browser: Browser) -> None:
    order = shop.order([("1", "TS-BLUE-M", 1)], "e2e-5")
    page = shop.page(browser)
    page.goto(shop.url("/store/sign-in"))
    page.keyboard.type("marie")  # the username field has the focus
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Queue", exact=True)).to_be_visible()
    claim = offered_card(page, order["id"]).get_by_role("button", name=re.compile("^Claim"))
    for _ in range(30):
        page.keyboard.press("Tab")
        if claim.evaluate("button => button === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the claim button")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Claimed: pick it now.")).to_be_visible()
    page.keyboard.type("3760000000017")  # the scan field has the focus
    page.keyboard.press("Enter")
    confirm = page.get_by_role("button", name="Confirm the pick")
    for _ in range(30):
        page.keyboard.press("Tab")
        if confirm.evaluate("button => button === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the confirm button")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Picked: pack it now.")).to_be_visible()


# --- click & collect, reservations, returns ----------------------------------------------

COLLECT_PROFILE = {
    "code": "web-collect",
    "name": "Web, click & collect",
    "channel": "web",
    "delivery_method": "click_collect",
    "rules": [
        {
            "name": "the store's own shelf",
            "filters": {"kinds": ["store"], "max_distance_km": 0.5},
            "split": {"mode": "never"},
        }
    ],
}


def ready_for_collection(shop: Shop, key: str) -> str:
    """A click & collect order at Lille from its own shelf, picked, packed and ready (by the
    API, as a store's till would): its id."""
    made = shop.server.oms("keys", "create", "--role", "store", "--location", "ST-LILLE", "--quiet")
    store = {"Authorization": f"Bearer {made.stdout.strip()}"}
    body = {
        "channel": "web",
        "lines": [{"line_id": "1", "sku": "SC-WOOL", "quantity": 1}],
        "customer": {"name": "Camille Martin", "email": "camille@example.com"},
        "delivery_method": "click_collect",
        "pickup_store": "ST-LILLE",
    }
    admin = shop.server.admin
    with shop.server.client() as http:
        if http.get("/v1/profiles/web-collect", headers=admin).status_code == 404:
            assert http.post("/v1/profiles", json=COLLECT_PROFILE, headers=admin).status_code == 201
            published = http.post("/v1/profiles/web-collect/versions/1/publish", headers=admin)
            assert published.status_code == 200, published.text
        answer = http.post(
            "/v1/orders", json=body, headers={**shop.channel, "Idempotency-Key": key}
        )
        assert answer.status_code == 201, answer.text
        order = answer.json()
        [fulfilment] = order["fulfilments"]
        for action in ("pick", "pack", "ready"):
            done = http.post(f"/v1/fulfilments/{fulfilment['id']}/{action}", headers=store)
            assert done.status_code == 200, done.text
    return str(order["id"])


def tab_to(page: Page, target: Any) -> None:
    """Tab from where the focus is until `target` has it, as a keyboard user would."""
    for _ in range(40):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    pytest.fail("Tab never reached the control")


def pickup_code(shop: Shop, order_id: str) -> str:
    with shop.server.client() as http:
        answer = http.get("/v1/events", params={"limit": 1000}, headers=shop.channel)
    assert answer.status_code == 200, answer.text
    [code] = [
        e["payload"]["code"]
        for e in answer.json()["items"]
        if e["type"] == "order.ready_for_pickup" and e["order_id"] == order_id
    ]
    return str(code)


def test_a_click_and_collect_order_is_handed_over_wrong_code_first(
    shop: Shop, browser: Browser
) -> None:
    order_id = ready_for_collection(shop, "e2e-collect-1")
    page = shop.page(browser)
    sign_in(shop, page, "marie")
    page.get_by_role("link", name="Click & collect", exact=True).click()
    expect(page.get_by_role("heading", name="Click & collect", exact=True)).to_be_visible()
    row = page.locator("table.pick tbody tr").filter(has_text=order_id)
    expect(row).to_contain_text("0 h 0")
    shop.screenshot(page, "12-collect-shelf")
    check_accessibility(page)
    row.get_by_role("link", name=re.compile("^Hand an order over")).click()
    expect(page.get_by_label("Order number")).to_have_value(order_id)
    page.get_by_label("Pickup code").fill("000000")
    page.get_by_role("button", name="Hand over", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text(
        "Wrong pickup code: nothing was handed over. 4 tries left."
    )
    shop.screenshot(page, "13-handover-wrong-code")
    check_accessibility(page)
    tab_to(page, page.get_by_label("Pickup code"))  # the keyboard alone, from here on
    page.keyboard.type(pickup_code(shop, order_id))
    page.keyboard.press("Enter")
    expect(page.get_by_text(f"Order {order_id[-8:]} handed over by Marie Dubois.")).to_be_visible()
    expect(page.locator("#handed-over")).to_contain_text("marie")
    shop.screenshot(page, "14-handed-over")
    check_accessibility(page)
    with shop.server.client() as http:
        seen = http.get(f"/v1/orders/{order_id}", headers=shop.server.admin).json()
    assert seen["status"] == "collected"


def test_a_reservation_is_set_aside_then_sold_at_the_till(shop: Shop, browser: Browser) -> None:
    body = {
        "channel": "web",
        "location": "ST-LILLE",
        "customer": {"name": "Noé Petit", "email": "noe@example.com"},
        "lines": [{"line_id": "1", "sku": "JN-SLIM-32", "quantity": 2}],
    }
    with shop.server.client() as http:
        answer = http.post(
            "/v1/reservations", json=body, headers={**shop.channel, "Idempotency-Key": "e2e-r-1"}
        )
    assert answer.status_code == 201, answer.text
    made = answer.json()
    page = shop.page(browser)
    sign_in(shop, page, "marie")
    page.get_by_role("link", name="Reservations", exact=True).click()
    card = page.locator(f"#reservation-{made['id']}")
    expect(card).to_contain_text("2 × Jean slim 32")
    expect(card.locator("time[data-expires]")).to_have_text(re.compile(r"^(47|48):\d\d:\d\d$"))
    shop.screenshot(page, "15-reservations")
    check_accessibility(page)
    tab_to(page, card.get_by_role("button", name=re.compile("^Set aside")))
    page.keyboard.press("Enter")
    expect(page.get_by_text("Set aside for Noé Petit.")).to_be_visible()
    page.locator(f"#reservation-{made['id']}").get_by_role(
        "button", name=re.compile("^Convert into a sale")
    ).click()
    expect(page.get_by_text("Sold to Noé Petit: the units left the stock.")).to_be_visible()
    expect(page.locator(f"#reservation-{made['id']}")).to_have_count(0)
    with shop.server.client() as http:
        seen = http.get(f"/v1/reservations/{made['id']}", headers=shop.channel).json()
    assert seen["status"] == "converted"


def test_a_return_is_received_in_store_and_shows_the_refund_due(
    shop: Shop, browser: Browser
) -> None:
    order_id = ready_for_collection(shop, "e2e-collect-2")
    code = pickup_code(shop, order_id)
    made = shop.server.oms("keys", "create", "--role", "store", "--location", "ST-LILLE", "--quiet")
    store = {"Authorization": f"Bearer {made.stdout.strip()}"}
    body = {
        "order_id": order_id,
        "method": "in_store",
        "location": "ST-LILLE",
        "reason": "does_not_fit",
        "lines": [{"line_id": "1", "units": 1}],
    }
    with shop.server.client() as http:
        collected = http.post(f"/v1/orders/{order_id}/collect", json={"code": code}, headers=store)
        assert collected.status_code == 200, collected.text
        asked = http.post(
            "/v1/returns", json=body, headers={**shop.channel, "Idempotency-Key": "e2e-ret-1"}
        )
        assert asked.status_code == 201, asked.text
    return_id = asked.json()["id"]
    page = shop.page(browser)
    sign_in(shop, page, "marie")
    page.get_by_role("link", name="Returns", exact=True).click()
    shop.screenshot(page, "16-returns")
    check_accessibility(page)
    page.get_by_label("Return number").fill(return_id)  # a scanner types the label's barcode
    page.get_by_label("Return number").press("Enter")
    expect(page.get_by_role("heading", name=f"Return {return_id[-8:]}")).to_be_visible()
    page.get_by_role("button", name="Confirm the receipt").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Écharpe laine: 0 of 1 units inspected. Inspect each unit once."
    )
    page.get_by_label("Back on sale").fill("1")
    shop.screenshot(page, "17-return-inspect")
    check_accessibility(page)
    page.get_by_role("button", name="Confirm the receipt").click()
    expect(page.get_by_text("Received. Refund due: 25.00 EUR.")).to_be_visible()
    expect(page.locator("#refund")).to_have_text("25.00 EUR")
    shop.screenshot(page, "18-return-received")
    check_accessibility(page)
    with shop.server.client() as http:
        seen = http.get(f"/v1/returns/{return_id}", headers=shop.channel).json()
    assert (seen["status"], seen["refund"]["amount"]) == ("received", 2500)
