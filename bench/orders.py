"""Orders placed over HTTP under load, on PostgreSQL and SQLite, beside a plain-SQL ceiling.

The server is started for real (`oms serve`) on the demo network: on PostgreSQL
(OMS_TEST_POSTGRES_URL or `--database-url`, 2 API processes) and on SQLite in a temporary
folder (1 process). A small asyncio client (bench/promise.py's) keeps `--concurrency`
keep-alive HTTP/1.1 connections busy with `POST /v1/orders`: 1-4 lines of distinct skus drawn
by popularity, 1-2 units each, home standard delivery to points near French towns drawn by
population, each with its own Idempotency-Key. Every answer must be a 201. The connections
are spread evenly over the API processes first (`balance`), as a load balancer would.

The ceiling, in the same run and on the same PostgreSQL database, from as many concurrent
connections (asyncio psycopg, no SQLAlchemy, no application code): per order one transaction
that reserves each line with a conditional
`UPDATE stock_positions SET reserved = reserved + q WHERE ... AND on_hand - reserved -
safety_stock >= q` at the demo's deepest location for its sku (a fixed choice: no sourcing),
inserts the order, its lines (one multi-row INSERT) and an `order.placed` event, and commits.
It runs before openoms, on the same bodies.

`oversold_units`, checked in SQL after each openoms phase, over every position: units reserved
beyond what the position had (reserved > on_hand - safety_stock, where it was not so before),
plus any difference between a position's growth in `reserved` and the units the orders'
allocations hold there. Both must be 0.

    .venv/bin/python bench/orders.py [--quick] [--seconds 20] [--concurrency 16]
                                     [--database-url URL] [--skip-sqlite]

It also reports the CPU used per order during the measured phase, from /proc: by the API
processes (`oms serve` and the processes under it), `api_cpu_ms_per_order_postgres`, and by
PostgreSQL's processes serving the bench's database (same machine),
`database_cpu_ms_per_order_postgres`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import text
from uuid6 import uuid7

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.promise import (
    Connection,
    Phase,
    balance,
    destinations,
    free_port,
    percentile,
    prepare,
    report,
    wait_ready,
)
from openoms.db.uow import Database
from openoms.demo import DemoData, build_demo

OMS = str(Path(sys.executable).parent / "oms")
TARGET_PER_S = 1_000
TARGET_RATIO = 0.25
TARGET_P99_MS = 50.0
BODIES = 4_000
MAX_ERROR_SHARE = 0.01


# --- the workload -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Order:
    lines: tuple[tuple[str, int], ...]
    """(sku, units), distinct skus."""
    body: bytes


def orders(data: DemoData, rng: random.Random, count: int) -> list[Order]:
    codes = [sku.code for sku in data.skus]
    weights = [data.popularity[code] for code in codes]
    drawn = []
    for destination in destinations(rng, count):
        size = rng.randint(1, 4)
        skus: list[str] = []
        while len(skus) < size:
            sku = rng.choices(codes, weights)[0]
            if sku not in skus:
                skus.append(sku)
        lines = tuple((sku, rng.randint(1, 2)) for sku in skus)
        document = {
            "channel": "web",
            "lines": [
                {"line_id": str(i + 1), "sku": sku, "quantity": units}
                for i, (sku, units) in enumerate(lines)
            ],
            "customer": {"name": "Camille Martin", "email": "camille@example.com"},
            "delivery_method": "home_standard",
            "destination": {
                "latitude": destination.point.latitude,
                "longitude": destination.point.longitude,
            },
        }
        drawn.append(Order(lines, json.dumps(document, separators=(",", ":")).encode()))
    return drawn


def encode_order(body: bytes, key: str, port: int, secret: str) -> bytes:
    head = (
        f"POST /v1/orders HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {secret}\r\nContent-Type: application/json\r\n"
        f"Idempotency-Key: {key}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


# --- openoms over HTTP --------------------------------------------------------------------------


async def drive(
    connections: list[Connection],
    work: list[Order],
    *,
    port: int,
    secret: str,
    run: str,
    seconds: float,
) -> Phase:
    """Every connection places one order after another, each with a new key, until `seconds`."""
    phase = Phase()
    deadline = time.perf_counter() + seconds
    counter = iter(range(sys.maxsize))

    async def worker(connection: Connection) -> None:
        while time.perf_counter() < deadline:
            n = next(counter)
            raw = encode_order(work[n % len(work)].body, f"{run}-{n}", port, secret)
            started = time.perf_counter()
            try:
                status, body = await connection.request(raw)
            except (OSError, asyncio.IncompleteReadError, RuntimeError, ValueError) as error:
                await connection.close()
                status, body = 0, repr(error).encode()
            if status == 201:
                phase.latencies_ms.append((time.perf_counter() - started) * 1000)
            else:
                phase.errors += 1
                if not phase.first_error:
                    phase.first_error = f"{status}: {body[:500].decode(errors='replace')}"

    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in connections))
    phase.elapsed_s = time.perf_counter() - started
    phase.client_cpu_s = time.process_time() - cpu
    return phase


def process_tree(root: int) -> list[int]:
    """`root` and every process below it (`oms serve` and its API worker processes)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        tree += frontier
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU used so far by `pids` (those still running), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used += int(fields[11]) + int(fields[12])  # utime, stime
    return used / ticks


def backends(url: str) -> list[int]:
    """The PostgreSQL server processes serving `url`'s database now (the API's pools, once
    warm): their CPU is the database's share of an order (same machine)."""
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'"  # not an autovacuum worker passing by
        ).fetchall()
    return [int(row[0]) for row in rows]


async def load_test(
    port: int,
    secret: str,
    work: list[Order],
    *,
    concurrency: int,
    workers: int,
    warm_up: float,
    seconds: float,
    server: int,
    postgres: str | None,
) -> tuple[Phase, float, float]:
    """The measured phase, and the CPU seconds the server's processes and (on PostgreSQL) the
    database's server processes used during it."""
    connections = [Connection(port) for _ in range(concurrency)]
    try:
        spread = await balance(connections, port, secret, workers)
        print(f"{'':>18}  connections: {spread}")
        await drive(
            connections, work, port=port, secret=secret, run=f"warm-{uuid7()}", seconds=warm_up
        )
        processes = process_tree(server)
        database = backends(postgres) if postgres else []
        cpu, database_cpu = cpu_seconds(processes), cpu_seconds(database)
        phase = await drive(
            connections, work, port=port, secret=secret, run=f"run-{uuid7()}", seconds=seconds
        )
        return phase, cpu_seconds(processes) - cpu, cpu_seconds(database) - database_cpu
    finally:
        for connection in connections:
            await connection.close()


def run_loop(work: Coroutine[Any, Any, Any]) -> Any:
    """On uvloop when it is installed: the cheaper event loop leaves more CPU to the server."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(work)
    return uvloop.run(work)


@dataclass(frozen=True, slots=True)
class Placed:
    phase: Phase
    api_cpu_s: float
    """CPU seconds of the API processes (`oms serve` and its workers) during the phase."""
    database_cpu_s: float
    """CPU seconds of PostgreSQL's processes serving the bench's database (0 on SQLite)."""

    @property
    def cpu_ms_per_order(self) -> float:
        return self.api_cpu_s * 1000 / max(1, len(self.phase.latencies_ms))

    @property
    def database_cpu_ms_per_order(self) -> float:
        return self.database_cpu_s * 1000 / max(1, len(self.phase.latencies_ms))


def check(name: str, phase: Phase) -> Phase:
    if phase.completed and phase.errors / phase.completed > MAX_ERROR_SHARE:
        raise SystemExit(
            f"{name}: {phase.errors} of {phase.completed} requests failed;"
            f" the first: {phase.first_error}"
        )
    if not phase.latencies_ms:
        raise SystemExit(f"{name}: no request succeeded; the first error: {phase.first_error}")
    report(name, phase)
    return phase


def place_orders(
    name: str,
    url: str,
    workers: int,
    secret: str,
    work: list[Order],
    *,
    concurrency: int,
    warm_up: float,
    seconds: float,
) -> Placed:
    port = free_port()
    env = {**os.environ, "OMS_DATABASE_URL": url}
    server = subprocess.Popen(
        [OMS, "serve", "--port", str(port), "--workers", str(workers)], env=env
    )
    try:
        wait_ready(port, server)
        phase, api_cpu_s, database_cpu_s = run_loop(
            load_test(
                port,
                secret,
                work,
                concurrency=concurrency,
                workers=workers,
                warm_up=warm_up,
                seconds=seconds,
                server=server.pid,
                postgres=url if url.startswith("postgresql") else None,
            )
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    placed = Placed(check(name, phase), api_cpu_s, database_cpu_s)
    print(
        f"{'':>18}  API processes: {placed.cpu_ms_per_order:.2f} ms of CPU per order"
        f" ({api_cpu_s / phase.elapsed_s:.2f} cores busy)"
    )
    if database_cpu_s:
        print(
            f"{'':>18}  PostgreSQL (this database's server processes):"
            f" {placed.database_cpu_ms_per_order:.2f} ms of CPU per order"
            f" ({database_cpu_s / phase.elapsed_s:.2f} cores busy)"
        )
    return placed


# --- oversold -----------------------------------------------------------------------------------

_POSITIONS = text(
    "SELECT location_code, sku_code, on_hand, safety_stock, reserved FROM stock_positions"
)
_ALLOCATED = text(
    "SELECT a.location_code, a.sku_code, SUM(a.units) FROM allocations a"
    " GROUP BY a.location_code, a.sku_code"
)


def reserved_now(url: str) -> dict[tuple[str, str], tuple[int, int, int]]:
    db = Database(url)
    try:
        with db.read() as conn:
            return {(r[0], r[1]): (r[2], r[3], r[4]) for r in conn.execute(_POSITIONS)}
    finally:
        db.dispose()


def oversold(url: str, before: dict[tuple[str, str], tuple[int, int, int]]) -> tuple[int, int]:
    """(units reserved beyond what positions had, units where reserved growth and allocations
    disagree). Allocations are all this phase's: the database was loaded fresh for it."""
    db = Database(url)
    try:
        with db.read() as conn:
            after = {(r[0], r[1]): (r[2], r[3], r[4]) for r in conn.execute(_POSITIONS)}
            allocated = {(r[0], r[1]): int(r[2]) for r in conn.execute(_ALLOCATED)}
    finally:
        db.dispose()
    beyond = mismatch = 0
    for key, (on_hand, safety, reserved) in after.items():
        reserved_before = before.get(key, (0, 0, 0))[2]
        room = max(on_hand - safety, reserved_before)
        beyond += max(0, reserved - room)
        mismatch += abs((reserved - reserved_before) - allocated.get(key, 0))
    return beyond, mismatch


# --- the plain-SQL ceiling ----------------------------------------------------------------------

_C_RESERVE = (
    "UPDATE stock_positions SET reserved = reserved + %(q)s"
    " WHERE location_code = %(loc)s AND sku_code = %(sku)s"
    " AND on_hand - reserved - safety_stock >= %(q)s"
)
_C_ORDER = (
    "INSERT INTO orders (id, channel, customer, delivery_method, latitude, longitude, country,"
    " pickup_store, promise_option, status, idempotency_key, request_hash, created_at,"
    " updated_at) VALUES (%s, 'web', %s, 'home_standard', 45.76, 4.86, 'FR', NULL, NULL,"
    " 'claimed', %s, %s, %s, %s)"
)
_C_EVENT = (
    "INSERT INTO events (stamp, order_id, fulfilment_id, type, payload, created_at)"
    " VALUES (pg_current_xact_id()::text::bigint, %s, NULL, 'order.placed', %s, %s)"
)


def deepest(url: str) -> dict[str, str]:
    """Each sku's location with the most units: where the ceiling reserves it."""
    db = Database(url)
    try:
        with db.read() as conn:
            rows = conn.execute(
                text(
                    "SELECT DISTINCT ON (sku_code) sku_code, location_code FROM stock_positions"
                    " ORDER BY sku_code, on_hand - reserved - safety_stock DESC"
                )
            )
            return {r[0]: r[1] for r in rows}
    finally:
        db.dispose()


def libpq_url(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}://{rest}"


@dataclass(slots=True)
class CeilingPhase:
    latencies_ms: list[float]
    refused: int = 0
    elapsed_s: float = 0.0
    database_cpu_s: float = 0.0

    @property
    def per_s(self) -> float:
        return len(self.latencies_ms) / self.elapsed_s


async def ceiling_once(
    conn: psycopg.AsyncConnection[Any], order: Order, at: dict[str, str], prices: dict[str, int]
) -> bool:
    order_id = str(uuid7())
    now = datetime.now(UTC)
    reserve = sorted((at[sku], sku, units) for sku, units in order.lines)
    async with conn.transaction(), conn.cursor() as cur:
        for location, sku, units in reserve:
            await cur.execute(_C_RESERVE, {"q": units, "loc": location, "sku": sku})
            if cur.rowcount != 1:
                raise _Refused
        customer = '{"name":"Camille Martin","email":"camille@example.com"}'
        await cur.execute(_C_ORDER, (order_id, customer, order_id, "0" * 64, now, now))
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, 'EUR', 0, NULL, 0)"] * len(order.lines))
        params: list[Any] = []
        for i, (sku, units) in enumerate(order.lines):
            params += [order_id, str(i + 1), i, sku, units, prices[sku]]
        await cur.execute(
            "INSERT INTO order_lines (order_id, line_id, position, sku_code, quantity,"
            " unit_price, currency, unallocated, unallocated_reason, cancelled)"
            f" VALUES {values}",
            params,
        )
        payload = json.dumps(
            {"order_id": order_id, "lines": [{"sku": s, "quantity": q} for s, q in order.lines]}
        )
        await cur.execute(_C_EVENT, (order_id, payload, now))
    return True


class _Refused(Exception):
    pass


async def ceiling_load(
    url: str,
    work: list[Order],
    at: dict[str, str],
    prices: dict[str, int],
    *,
    concurrency: int,
    warm_up: float,
    seconds: float,
) -> CeilingPhase:
    connections = [await psycopg.AsyncConnection.connect(url) for _ in range(concurrency)]

    async def run(span: float) -> CeilingPhase:
        phase = CeilingPhase([])
        deadline = time.perf_counter() + span
        counter = iter(range(sys.maxsize))

        async def worker(conn: psycopg.AsyncConnection[Any]) -> None:
            while time.perf_counter() < deadline:
                order = work[next(counter) % len(work)]
                started = time.perf_counter()
                try:
                    await ceiling_once(conn, order, at, prices)
                except _Refused:
                    phase.refused += 1
                    continue
                phase.latencies_ms.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in connections))
        phase.elapsed_s = time.perf_counter() - started
        return phase

    try:
        await run(warm_up)
        database = backends(url)
        cpu = cpu_seconds(database)
        measured = await run(seconds)
        measured.database_cpu_s = cpu_seconds(database) - cpu
        return measured
    finally:
        for conn in connections:
            await conn.close()


def ceiling(
    url: str,
    data: DemoData,
    work: list[Order],
    *,
    concurrency: int,
    warm_up: float,
    seconds: float,
) -> CeilingPhase:
    at = deepest(url)
    prices = {sku.code: sku.price for sku in data.skus}
    phase: CeilingPhase = asyncio.run(
        ceiling_load(
            libpq_url(url),
            work,
            at,
            prices,
            concurrency=concurrency,
            warm_up=warm_up,
            seconds=seconds,
        )
    )
    samples = phase.latencies_ms
    print(
        f"{'plain-SQL ceiling':>18}: {phase.per_s:8,.0f} /s   p50 {statistics.median(samples):7.2f}"
        f" ms   p99 {percentile(samples, 0.99):7.2f} ms   ({len(samples)} in"
        f" {phase.elapsed_s:.1f} s, {phase.refused} refused for want of stock)"
    )
    database_ms = phase.database_cpu_s * 1000 / max(1, len(samples))
    print(f"{'':>18}  PostgreSQL: {database_ms:.2f} ms of CPU per order")
    return phase


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 s per phase instead of 20")
    parser.add_argument("--seconds", type=float, default=None, help="measured seconds per phase")
    parser.add_argument("--concurrency", type=int, default=16, help="open connections")
    parser.add_argument("--database-url", default=None, help="PostgreSQL; default: see above")
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    seconds = args.seconds or (6.0 if args.quick else 20.0)
    warm_up = 2.0 if args.quick else 4.0
    concurrency: int = args.concurrency
    postgres = args.database_url or os.environ.get("OMS_TEST_POSTGRES_URL")
    if not postgres:
        raise SystemExit("set OMS_TEST_POSTGRES_URL (or --database-url) to a PostgreSQL database")

    now = datetime.now(UTC)
    data = build_demo(42, now=now)
    work = orders(data, random.Random(7), BODIES)
    print(
        f"demo: {len(data.locations)} locations, {len(data.skus)} skus;"
        f" {len(work)} distinct orders of 1-4 lines"
        f" ({statistics.mean(len(o.lines) for o in work):.2f} on average),"
        f" {concurrency} connections, {seconds:g} s per phase after {warm_up:g} s warm-up"
    )

    secret = prepare(postgres, data, now)
    sql = ceiling(postgres, data, work, concurrency=concurrency, warm_up=warm_up, seconds=seconds)
    before = reserved_now(postgres)
    placed = place_orders(
        "openoms PostgreSQL",
        postgres,
        2,
        secret,
        work,
        concurrency=concurrency,
        warm_up=warm_up,
        seconds=seconds,
    )
    on_postgres = placed.phase
    beyond, mismatch = oversold(postgres, before)
    print(f"{'':>18}  oversold: {beyond} units beyond ATP, {mismatch} units reserved != allocated")

    lite_per_s = 0.0
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            lite = f"sqlite:///{folder}/bench.db"
            lite_secret = prepare(lite, data, now)
            lite_before = reserved_now(lite)
            on_sqlite = place_orders(
                "openoms SQLite",
                lite,
                1,
                lite_secret,
                work,
                concurrency=concurrency,
                warm_up=warm_up,
                seconds=seconds,
            )
            lite_beyond, lite_mismatch = oversold(lite, lite_before)
            print(
                f"{'':>18}  oversold: {lite_beyond} units beyond ATP,"
                f" {lite_mismatch} units reserved != allocated"
            )
            beyond, mismatch = beyond + lite_beyond, mismatch + lite_mismatch
            lite_per_s = on_sqlite.phase.per_s

    p99 = percentile(on_postgres.latencies_ms, 0.99)
    ratio = on_postgres.per_s / sql.per_s
    print(
        f"orders on PostgreSQL: {on_postgres.per_s:,.0f} /s (target >= {TARGET_PER_S:,}),"
        f" {ratio:.1%} of the plain-SQL ceiling's {sql.per_s:,.0f} /s (target >="
        f" {TARGET_RATIO:.0%}), p99 {p99:.2f} ms (target < {TARGET_P99_MS:g} ms);"
        f" oversold {beyond + mismatch} units (target 0)"
    )
    metrics = {
        "orders_per_s_postgres": round(on_postgres.per_s, 1),
        "orders_per_s_sqlite": round(lite_per_s, 1),
        "sql_ceiling_per_s_postgres": round(sql.per_s, 1),
        "ratio_to_ceiling_postgres": round(ratio, 3),
        "p50_ms_postgres": round(statistics.median(on_postgres.latencies_ms), 2),
        "p99_ms_postgres": round(p99, 2),
        "oversold_units": beyond + mismatch,
        "api_cpu_ms_per_order_postgres": round(placed.cpu_ms_per_order, 2),
        "database_cpu_ms_per_order_postgres": round(placed.database_cpu_ms_per_order, 2),
    }
    print(json.dumps({"bench": "orders", "metrics": metrics}))


if __name__ == "__main__":
    main()
