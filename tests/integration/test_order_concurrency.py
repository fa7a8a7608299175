"""The last units of a sku, fought over by 20 clients through 2 API processes on PostgreSQL.

`oms serve --workers 2` runs for real on a free port; 20 threads, each with its own
connection, place orders of one unit at once, many more than there are units.
Afterwards: the units sold are the units there were (none more, none left), every order
acknowledged is readable and answers the same to a retry with its key, and each position's
reserved is exactly what its allocations hold.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import text

from openoms.db.uow import Database
from openoms.services import catalog, channels, keys
from openoms.services.keys import Role
from tests.conftest import POSTGRES_URL, WEB, postgres_url, sku
from tests.e2e.conftest import OMS, free_port, wait_until_up
from tests.integration.test_sourcing_api import EVERY_DAY, LYON

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]

CLIENTS = 20
ORDERS_PER_CLIENT = 6
STOCK = {"WH1": 3, "WH2": 2, "WH3": 1, "WH4": 2}
"""The sku's last units, spread over four warehouses (in four towns)."""
POINTS = {"WH1": (48.85, 2.35), "WH2": (45.76, 4.84), "WH3": (43.30, 5.37), "WH4": (47.22, -1.55)}
PROFILE = {
    "code": "web-home",
    "name": "Web, home delivery",
    "channel": "web",
    "delivery_method": "home_standard",
    "rules": [{"name": "warehouses", "filters": {"kinds": ["warehouse"]}}],
}


@dataclass
class Api:
    url: str
    db: Database
    admin: dict[str, str]
    channel: dict[str, str]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    if not POSTGRES_URL:
        pytest.skip("OMS_TEST_POSTGRES_URL is not set")
    schema = f"oms_race_{os.getpid()}"
    admin_db = Database(POSTGRES_URL)
    with admin_db.engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = postgres_url(schema)
    db = Database(url)
    db.upgrade()
    now = datetime.now(UTC)
    catalog.upsert_skus(db, [sku("LAST")], now)
    channels.put_channel(db, channels.Channel("web", "Web shop", WEB), now)
    bearer = {}
    for role in (Role.ADMIN, Role.CHANNEL):
        made = keys.create_key(db, name=role.value, role=role, location=None, now=now)
        bearer[role] = {"Authorization": f"Bearer {made.secret}"}
    port = free_port()
    env = {**os.environ, "OMS_DATABASE_URL": url, "OMS_KEY_CACHE_SECONDS": "0"}
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [OMS, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}", server)
        yield Api(f"http://127.0.0.1:{port}", db, bearer[Role.ADMIN], bearer[Role.CHANNEL])
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
        db.dispose()
        with admin_db.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin_db.dispose()


def stock_up(api: Api) -> None:
    with httpx.Client(base_url=api.url, headers=api.admin, timeout=30) as client:
        for code, (latitude, longitude) in POINTS.items():
            body = {
                "code": code,
                "name": code.title(),
                "kind": "warehouse",
                "latitude": latitude,
                "longitude": longitude,
                "timezone": "Europe/Paris",
                "opening_hours": {"weekly": EVERY_DAY},
                "capabilities": ["ship"],
                "daily_capacity": 1000,
                "preparation_minutes": 30,
                "handling_cost": 200,
            }
            answer = client.put(f"/v1/locations/{code}", json=body)
            assert answer.status_code == 200, answer.text
        saved = client.post("/v1/profiles", json=PROFILE)
        assert saved.status_code == 201, saved.text
        published = client.post("/v1/profiles/web-home/versions/1/publish")
        assert published.status_code == 200, published.text
        as_of = datetime.now(UTC).isoformat()
        rows = [
            {"location": code, "sku": "LAST", "on_hand": units, "as_of": as_of}
            for code, units in STOCK.items()
        ]
        answer = client.post("/v1/stock/snapshots", json={"rows": rows})
        assert answer.status_code == 200, answer.text
    wait_until_both_processes_see(api, sum(STOCK.values()))


def wait_until_both_processes_see(api: Api, units: int) -> None:
    """Each process's availability index follows committed changes below the oldest running
    transaction of the whole PostgreSQL server: another session's long transaction holds it
    back for a while. The race starts once new connections (to either process) see the stock."""
    deadline = time.monotonic() + 20
    seen = 0
    while seen < 10:
        with httpx.Client(base_url=api.url, headers=api.channel, timeout=30) as client:
            answer = client.get("/v1/channels/web/availability/LAST")
        assert answer.status_code == 200, answer.text
        seen = seen + 1 if answer.json()["quantity"] == units else 0
        assert time.monotonic() < deadline, f"the stock is not visible: {answer.text}"


def order_body(client_no: int, n: int) -> dict[str, Any]:
    return {
        "channel": "web",
        "lines": [{"line_id": "1", "sku": "LAST", "quantity": 1}],
        "customer": {"name": f"Client {client_no}", "email": f"c{client_no}-{n}@example.com"},
        "delivery_method": "home_standard",
        "destination": LYON,
    }


@dataclass
class Placed:
    key: str
    body: dict[str, Any]
    answer: dict[str, Any]


@dataclass
class Outcome:
    placed: list[Placed] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def held_units(order: dict[str, Any]) -> dict[str, int]:
    units: dict[str, int] = {}
    for line in order["lines"]:
        for location, n in line["buckets"]["allocated"].items():
            units[location] = units.get(location, 0) + n
    return units


def shop(api: Api, client_no: int, start: threading.Barrier, outcome: Outcome) -> None:
    """Orders one unit after another: more orders than units, all at once."""
    with httpx.Client(base_url=api.url, timeout=30) as client:
        start.wait()
        for n in range(ORDERS_PER_CLIENT):
            key, body = f"c{client_no}-{n}", order_body(client_no, n)
            headers = {**api.channel, "Idempotency-Key": key}
            answer = client.post("/v1/orders", json=body, headers=headers)
            if answer.status_code != 201:
                with outcome.lock:
                    outcome.failures.append(f"{key}: {answer.status_code} {answer.text[:300]}")
                return
            order = answer.json()
            with outcome.lock:
                outcome.placed.append(Placed(key, body, order))


def positions(db: Database) -> dict[str, tuple[int, int, int]]:
    """location -> (on_hand, reserved, units its allocations hold)."""
    with db.read() as conn:
        rows = conn.execute(
            text(
                "SELECT p.location_code, p.on_hand, p.reserved,"
                " (SELECT COALESCE(SUM(a.units), 0) FROM allocations a"
                "  WHERE a.location_code = p.location_code AND a.sku_code = p.sku_code)"
                " FROM stock_positions p WHERE p.sku_code = 'LAST'"
            )
        )
        return {row[0]: (row[1], row[2], row[3]) for row in rows}


def test_twenty_clients_through_two_processes_sell_the_last_units_exactly_once(api: Api) -> None:
    stock_up(api)
    outcome = Outcome()
    start = threading.Barrier(CLIENTS)
    shoppers = [
        threading.Thread(target=shop, args=(api, i, start, outcome)) for i in range(CLIENTS)
    ]
    for shopper in shoppers:
        shopper.start()
    for shopper in shoppers:
        shopper.join(timeout=120)
    assert not outcome.failures, outcome.failures
    assert len(outcome.placed) > CLIENTS  # more orders than units: they raced for them

    sold: dict[str, int] = {}
    for placed in outcome.placed:
        for location, units in held_units(placed.answer).items():
            sold[location] = sold.get(location, 0) + units
    assert sold == STOCK  # every unit sold, none twice, none that was not there

    found = positions(api.db)
    assert {code: reserved for code, (_, reserved, _) in found.items()} == STOCK
    assert all(reserved == held for _, reserved, held in found.values())
    assert all(reserved <= on_hand for on_hand, reserved, _ in found.values())

    with httpx.Client(base_url=api.url, timeout=30) as client:
        listed = client.get("/v1/orders", params={"limit": 500}, headers=api.admin).json()
        assert sorted(o["id"] for o in listed["items"]) == sorted(
            p.answer["id"] for p in outcome.placed
        )
        for placed in outcome.placed:  # nothing lost, and a retry answers the first order
            read = client.get(f"/v1/orders/{placed.answer['id']}", headers=api.admin)
            assert read.status_code == 200, read.text
            assert held_units(read.json()) == held_units(placed.answer)
            headers = {**api.channel, "Idempotency-Key": placed.key}
            again = client.post("/v1/orders", json=placed.body, headers=headers)
            assert again.status_code == 200, again.text
            assert again.json() == read.json()
    assert positions(api.db) == found  # the retries moved no stock
