"""The delivery promise over HTTP under load, against `/healthz`; and the optimizer in process.

The server is started for real (`oms serve`) on the demo network: PostgreSQL with 2 workers when
OMS_TEST_POSTGRES_URL is set (or `--database-url` names a PostgreSQL database), else SQLite in a
temporary folder with 1 worker. A small asyncio client, cheap on CPU because it shares the
machine with the server, keeps `--concurrency` keep-alive HTTP/1.1 connections busy, spread
evenly over the API processes first as a load balancer would (`balance`): first with
the baseline, `GET /healthz` (the floor of HTTP + framework cost), then with `POST /v1/promise`
on 3-line baskets (distinct skus drawn by popularity from the demo catalogue) sent to points
near French towns drawn by population. Each phase warms up, then runs for `--seconds`;
throughput is requests completed over the time they took, every answer must be a 200.

The server has no fixed clock, so the demo is built and served on the real one: the answers
(cut-offs, open stores) depend on the time of day of the run.

In process, the optimizer alone (`sourcing.optimize`) is timed on 300 such baskets, with every
demo location that the carriers' cost model does not refuse as a candidate holding its ATP of the
basket, and the objective and split policy of the first rule of the web home delivery profile.
HiGHS (`sourcing_milp.solve`) takes only a `LinearCostModel`, not the carriers' cost model that
the promise uses, so it is not run here (see bench/sourcing.py for the optimizer against HiGHS).

    .venv/bin/python bench/promise.py [--quick] [--seconds 20] [--concurrency 16]
                                      [--database-url URL]

The hot path runs compiled (mypyc, decisions/0016) when `make install` built it; with
OMS_PURE_PYTHON=1 in the environment, the bench and its server run the sources instead, for a
side-by-side comparison. The first line says which.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from openoms import compiled
from openoms.db.uow import Database
from openoms.demo import DemoData, build_demo
from openoms.demo.geography import french_towns, nudged
from openoms.demo.profiles import demo_profiles
from openoms.domain.carriers import ServiceLevel, demo_carrier_services
from openoms.domain.network import LocationKind
from openoms.domain.profiles import parse_profile
from openoms.domain.shipping import Destination
from openoms.domain.shipping_costs import shipping_origins
from openoms.domain.sourcing import Candidate, Line, optimize
from openoms.domain.stock import atp
from openoms.services import keys
from openoms.services.demo import erase, load_demo
from openoms.services.keys import Role

OMS = str(Path(sys.executable).parent / "oms")
TARGET_PER_S = 1_400
TARGET_P99_MS = 25.0
TARGET_OPTIMIZER_MS = 2.0
BODIES = 2_000
BASKET_LINES = 3
MAX_ERROR_SHARE = 0.01


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the workload -------------------------------------------------------------------------------


def baskets(data: DemoData, rng: random.Random, count: int) -> list[list[str]]:
    """`count` baskets of distinct skus, each drawn by its share of demand."""
    codes = [sku.code for sku in data.skus]
    weights = [data.popularity[code] for code in codes]
    drawn = []
    for _ in range(count):
        basket: list[str] = []
        while len(basket) < BASKET_LINES:
            sku = rng.choices(codes, weights)[0]
            if sku not in basket:
                basket.append(sku)
        drawn.append(basket)
    return drawn


def destinations(rng: random.Random, count: int) -> list[Destination]:
    """Points 0-8 km from French towns (15,000 people or more), drawn by population."""
    towns = french_towns()
    chosen = rng.choices(towns, [town.population for town in towns], k=count)
    return [Destination(nudged(town, rng, 0.0, 8.0)) for town in chosen]


def promise_bodies(data: DemoData, rng: random.Random, count: int) -> list[bytes]:
    bodies = []
    for basket, destination in zip(
        baskets(data, rng, count), destinations(rng, count), strict=True
    ):
        document = {
            "channel": "web",
            "lines": [
                {"line_id": str(i + 1), "sku": sku, "quantity": 1} for i, sku in enumerate(basket)
            ],
            "destination": {
                "latitude": destination.point.latitude,
                "longitude": destination.point.longitude,
            },
        }
        bodies.append(json.dumps(document, separators=(",", ":")).encode())
    return bodies


# --- the client ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Phase:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    elapsed_s: float = 0.0
    client_cpu_s: float = 0.0

    @property
    def completed(self) -> int:
        return len(self.latencies_ms) + self.errors

    @property
    def per_s(self) -> float:
        return len(self.latencies_ms) / self.elapsed_s


class Connection:
    """One keep-alive HTTP/1.1 connection: pre-encoded requests out, status and body back."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise RuntimeError(f"no Content-Length in the answer: {head!r}")
        body = await self.reader.readexactly(length)
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with suppress(OSError):
                await self.writer.wait_closed()
            self.reader = self.writer = None


def encode_get(path: str, port: int, secret: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {secret}\r\n\r\n"
    ).encode()


def encode_post(path: str, body: bytes, port: int, secret: str) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {secret}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def drive(connections: list[Connection], requests: list[bytes], seconds: float) -> Phase:
    """Every connection sends one request after another until `seconds` have passed."""
    phase = Phase()
    deadline = time.perf_counter() + seconds
    counter = iter(range(sys.maxsize))

    async def worker(connection: Connection) -> None:
        while time.perf_counter() < deadline:
            raw = requests[next(counter) % len(requests)]
            started = time.perf_counter()
            try:
                status, body = await connection.request(raw)
            except (OSError, asyncio.IncompleteReadError, RuntimeError, ValueError) as error:
                await connection.close()
                status, body = 0, repr(error).encode()
            if status == 200:
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


def server_pids(port: int) -> dict[int, int]:
    """The process serving each established connection to `port`, by the client's port."""
    listing = subprocess.run(
        ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    found = {}
    for line in listing.splitlines():
        pid = re.search(r"pid=(\d+)", line)
        fields = line.split()
        if pid and len(fields) >= 4:
            found[int(fields[3].rsplit(":", 1)[1])] = int(pid.group(1))
    return found


async def balance(connections: list[Connection], port: int, secret: str, workers: int) -> str:
    """Spread the keep-alive connections evenly over the API processes, as a load balancer
    would: they share one listening socket, and one process may accept a burst of
    connections alone. A connection on the busiest process is reopened until they are even."""
    probe = encode_get("/healthz", port, secret)
    for connection in connections:
        await connection.request(probe)
        await asyncio.sleep(0.01)
    if shutil.which("ss") is None:
        return "not checked (no `ss` on this machine)"
    for _ in range(20 * len(connections)):
        by_port = server_pids(port)
        owner = {}
        for connection in connections:
            assert connection.writer is not None
            owner[id(connection)] = by_port.get(connection.writer.get_extra_info("sockname")[1])
        counts = Counter(owner.values())
        if len(counts) >= workers and max(counts.values()) - min(counts.values()) <= 1:
            break
        busiest = counts.most_common(1)[0][0]
        moved = next(c for c in connections if owner[id(c)] == busiest)
        await moved.close()
        await asyncio.sleep(0.02)
        await moved.request(probe)
    return ", ".join(f"{n} on pid {pid}" for pid, n in sorted(counts.items(), key=str))


async def load_test(
    port: int,
    requests: list[bytes],
    concurrency: int,
    warm_up: float,
    seconds: float,
    *,
    secret: str,
    workers: int,
) -> Phase:
    connections = [Connection(port) for _ in range(concurrency)]
    try:
        spread = await balance(connections, port, secret, workers)
        print(f"{'':>18}  connections: {spread}")
        await drive(connections, requests, warm_up)
        return await drive(connections, requests, seconds)
    finally:
        for connection in connections:
            await connection.close()


def run_loop(work: Coroutine[object, object, Phase]) -> Phase:
    """On uvloop when it is installed: the cheaper event loop leaves more CPU to the server."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(work)
    return uvloop.run(work)


def run_phase(
    name: str,
    port: int,
    requests: list[bytes],
    *,
    concurrency: int,
    warm_up: float,
    seconds: float,
    secret: str,
    workers: int,
) -> Phase:
    phase = run_loop(
        load_test(port, requests, concurrency, warm_up, seconds, secret=secret, workers=workers)
    )
    if phase.completed and phase.errors / phase.completed > MAX_ERROR_SHARE:
        raise SystemExit(
            f"{name}: {phase.errors} of {phase.completed} requests failed;"
            f" the first: {phase.first_error}"
        )
    if not phase.latencies_ms:
        raise SystemExit(f"{name}: no request succeeded; the first error: {phase.first_error}")
    report(name, phase)
    return phase


def report(name: str, phase: Phase) -> None:
    samples = phase.latencies_ms
    print(
        f"{name:>18}: {phase.per_s:8,.0f} /s   p50 {statistics.median(samples):7.2f} ms"
        f"   p99 {percentile(samples, 0.99):7.2f} ms   ({len(samples)} in {phase.elapsed_s:.1f} s,"
        f" {phase.errors} errors, client CPU {phase.client_cpu_s / phase.elapsed_s:.0%})"
    )
    if phase.errors:
        print(f"{'':>18}  the first error: {phase.first_error}")


# --- the server ---------------------------------------------------------------------------------


@contextmanager
def database(option: str | None) -> Iterator[tuple[str, int]]:
    """The database URL, and the number of API workers it allows."""
    url = option or os.environ.get("OMS_TEST_POSTGRES_URL")
    if url:
        yield url, 1 if url.startswith("sqlite") else 2
        return
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{folder}/bench.db", 1


def prepare(url: str, data: DemoData, now: datetime) -> str:
    """Load the demo (erasing whatever the database held) and make a channel key."""
    db = Database(url)
    db.upgrade()
    erase(db)
    load_demo(db, data, now)
    secret = keys.create_key(db, name="bench", role=Role.CHANNEL, location=None, now=now).secret
    db.dispose()
    return secret


def wait_ready(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"the server stopped with status {server.returncode}") from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def check_promise(port: int, secret: str, body: bytes) -> None:
    """One promise before the load, to show what an answer holds (and fail early if broken)."""

    async def once() -> tuple[int, bytes]:
        connection = Connection(port)
        try:
            return await connection.request(encode_post("/v1/promise", body, port, secret))
        finally:
            await connection.close()

    status, answer = asyncio.run(once())
    if status != 200:
        raise SystemExit(f"POST /v1/promise answered {status}: {answer[:500].decode()}")
    result = json.loads(answer)
    offered = ", ".join(
        f"{o['method']}{' at ' + o['pickup_store'] if o['pickup_store'] else ''}"
        f" ({o['parcels']} parcel{'' if o['parcels'] == 1 else 's'})"
        for o in result["options"]
    )
    print(
        f"a promise: {len(result['options'])} options ({offered});"
        f" {len(result['unavailable'])} unavailable"
    )


# --- the optimizer in process -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Instance:
    basket: list[Line]
    candidates: list[Candidate]
    destination: Destination


def optimizer_timings(data: DemoData, now: datetime, count: int) -> list[float]:
    rng = random.Random(2026)
    drawn = baskets(data, rng, count)
    needed = {sku for basket in drawn for sku in basket}
    stock: dict[str, dict[str, int]] = {}
    for row in data.snapshot():
        if row.sku in needed:
            # A freshly loaded demo has nothing reserved and no safety stock.
            stock.setdefault(row.location, {})[row.sku] = atp(row.on_hand, 0, 0)
    document = next(
        d
        for d in demo_profiles()
        if d["channel"] == "web" and d["delivery_method"] == "home_standard"
    )
    rule = parse_profile(document).rules[0]
    policy, objective = rule.split.to_policy(), rule.objective.to_objective()
    level = ServiceLevel.STANDARD
    services = [s for s in demo_carrier_services() if s.level == level]
    origins = shipping_origins(data.locations, services, data.skus, now, level)
    kinds = {location.code: location.kind for location in data.locations}
    samples: list[float] = []
    sizes: list[int] = []
    nodes: list[int] = []
    exact = planned = 0
    for basket, destination in zip(drawn, destinations(rng, count), strict=True):
        cost = origins.for_destination(destination)
        candidates = []
        for code, kind in kinds.items():
            if cost.refusal(code) is not None:
                continue
            held = stock.get(code, {})
            units = {sku: 0 if cost.refusal(code, sku) else held.get(sku, 0) for sku in basket}
            protect = rule.objective.protect_below if kind is LocationKind.STORE else 0
            candidates.append(Candidate(code, units, protect))
        lines = [Line(str(i + 1), sku, 1) for i, sku in enumerate(basket)]
        started = time.perf_counter()
        decision = optimize(lines, candidates, cost, policy=policy, objective=objective)
        samples.append((time.perf_counter() - started) * 1000)
        sizes.append(len(candidates))
        nodes.append(decision.nodes)
        exact += decision.exact
        planned += decision.plan is not None
    print(
        f"optimizer: {count} baskets of {BASKET_LINES} lines, candidates median"
        f" {statistics.median(sizes):.0f} (min {min(sizes)}, max {max(sizes)}),"
        f" rule {rule.name!r} of {document['code']}"
    )
    print(
        f"{'optimize()':>18}: median {statistics.median(samples):6.3f} ms"
        f"   p99 {percentile(samples, 0.99):6.3f} ms   max {max(samples):6.3f} ms"
        f"   (target < {TARGET_OPTIMIZER_MS:g} ms median)"
    )
    print(
        f"{'':>18}  plans found {planned}/{count}, proven exact {exact}/{count},"
        f" nodes median {statistics.median(nodes):.0f}, max {max(nodes)}"
    )
    print(
        f"{'HiGHS':>18}: not run: sourcing_milp.solve takes a LinearCostModel, and the promise"
        " weighs plans with the carriers' CarrierCostModel"
    )
    return samples


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 s per phase instead of 20")
    parser.add_argument("--seconds", type=float, default=None, help="measured seconds per phase")
    parser.add_argument("--concurrency", type=int, default=16, help="open connections")
    parser.add_argument("--database-url", default=None, help="default: see the docstring")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    seconds = args.seconds or (6.0 if args.quick else 20.0)
    warm_up = 2.0 if args.quick else 4.0

    print(f"hot path: {compiled.guard().value} (decisions/0016; OMS_PURE_PYTHON=1 for the sources)")
    now = datetime.now(UTC)
    data = build_demo(42, now=now)
    optimizer_ms = optimizer_timings(data, now, 300)

    rng = random.Random(7)
    bodies = promise_bodies(data, rng, BODIES)
    with database(args.database_url) as (url, workers):
        secret = prepare(url, data, now)
        dialect = url.split(":", 1)[0].split("+", 1)[0]
        print(
            f"demo: {len(data.locations)} locations, {len(data.skus)} skus loaded ({dialect});"
            f" serving with {workers} worker{'s' if workers > 1 else ''},"
            f" {args.concurrency} connections, {seconds:g} s per phase after {warm_up:g} s warm-up"
        )
        port = free_port()
        env = {**os.environ, "OMS_DATABASE_URL": url}
        server = subprocess.Popen(
            [OMS, "serve", "--port", str(port), "--workers", str(workers)], env=env
        )
        try:
            wait_ready(port, server)
            check_promise(port, secret, bodies[0])
            concurrency: int = args.concurrency
            healthz = [encode_get("/healthz", port, secret)]
            floor = run_phase(
                "GET /healthz",
                port,
                healthz,
                concurrency=concurrency,
                warm_up=warm_up,
                seconds=seconds,
                secret=secret,
                workers=workers,
            )
            requests = [encode_post("/v1/promise", body, port, secret) for body in bodies]
            promises = run_phase(
                "POST /v1/promise",
                port,
                requests,
                concurrency=concurrency,
                warm_up=warm_up,
                seconds=seconds,
                secret=secret,
                workers=workers,
            )
        finally:
            server.terminate()
            server.wait(timeout=30)

    p50 = statistics.median(promises.latencies_ms)
    p99 = percentile(promises.latencies_ms, 0.99)
    floor_p99 = percentile(floor.latencies_ms, 0.99)
    print(
        f"promise: {promises.per_s:,.0f} /s (target >= {TARGET_PER_S:,}),"
        f" p99 {p99:.2f} ms (target < {TARGET_P99_MS:g} ms);"
        f" {promises.per_s / floor.per_s:.1%} of /healthz's throughput,"
        f" p99 {p99 / floor_p99:.1f} x /healthz's"
    )
    metrics = {
        "promise_per_s": round(promises.per_s, 1),
        "promise_p50_ms": round(p50, 2),
        "promise_p99_ms": round(p99, 2),
        "optimizer_median_ms": round(statistics.median(optimizer_ms), 3),
        "baseline_healthz_per_s": round(floor.per_s, 1),
        "baseline_healthz_p99_ms": round(floor_p99, 2),
        "hot_path_compiled": int(compiled.guard() is compiled.State.COMPILED),
    }
    print(json.dumps({"bench": "promise", "metrics": metrics}))


if __name__ == "__main__":
    main()
