"""Availability over HTTP on the demo data: one sku, 50 skus, and the server's memory.

The server is started for real (`oms serve`, SQLite, the embedded default) on the demo network,
and driven from this process over keep-alive HTTP, one request at a time. The baseline, in the
same run, is the server's trivial `/healthz` endpoint: the floor of HTTP + framework cost, so
the difference is what availability itself costs.

    .venv/bin/python bench/availability.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx2 as httpx

from openoms.db.uow import Database
from openoms.demo import build_demo
from openoms.services import keys
from openoms.services.demo import load_demo
from openoms.services.keys import Role

OMS = str(Path(sys.executable).parent / "oms")


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(call: Callable[[], httpx.Response], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        answer = call()
        samples.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"{answer.status_code}: {answer.text[:300]}")
    return samples


def report(name: str, samples: list[float]) -> None:
    print(
        f"{name:>22}: p50 {statistics.median(samples):6.2f} ms"
        f"   p99 {percentile(samples, 0.99):6.2f} ms   ({len(samples)} requests)"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests")
    args = parser.parse_args()
    singles, batches = (1000, 300) if args.quick else (5000, 1500)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        db = Database(url)
        db.upgrade()
        now = datetime(2026, 11, 25, 6, tzinfo=UTC)
        data = build_demo(42, now=now)
        load_demo(db, data, now)
        secret = keys.create_key(db, name="bench", role=Role.CHANNEL, location=None, now=now).secret
        db.dispose()
        print(f"demo: {len(data.locations)} locations, {len(data.skus)} skus loaded")
        port = free_port()
        env = {**os.environ, "OMS_DATABASE_URL": url}
        server = subprocess.Popen([OMS, "serve", "--port", str(port)], env=env)
        try:
            measure(server, port, secret, [s.code for s in data.skus], (singles, batches))
        finally:
            server.terminate()
            server.wait(timeout=20)


def measure(
    server: subprocess.Popen[bytes],
    port: int,
    secret: str,
    skus: list[str],
    counts: tuple[int, int],
) -> None:
    singles, batches = counts
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {secret}"}
    rng = random.Random(7)
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        deadline = time.monotonic() + 60
        while True:
            try:
                if http.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        one = lambda: http.get(f"/v1/channels/web/availability/{rng.choice(skus)}")  # noqa: E731
        many = lambda: http.post(  # noqa: E731
            "/v1/channels/web/availability", json={"skus": rng.sample(skus, 50)}
        )
        floor = lambda: http.get("/healthz")  # noqa: E731
        for call in (one, many, floor):
            timed(call, 200)
        floor_samples = timed(floor, singles)
        one_samples = timed(one, singles)
        many_samples = timed(many, batches)
        detail = timed(
            lambda: http.get(f"/v1/channels/web/availability/{rng.choice(skus)}?locations=true"),
            300,
        )
    report("baseline /healthz", floor_samples)
    report("one sku", one_samples)
    report("one sku, by location", detail)
    report("50 skus", many_samples)
    memory = rss_mb(server.pid)
    print(f"server RSS with the demo loaded: {memory:.0f} MB")
    metrics = {
        "one_sku_p99_ms": round(percentile(one_samples, 0.99), 2),
        "fifty_skus_p99_ms": round(percentile(many_samples, 0.99), 2),
        "server_rss_mb": round(memory, 1),
        "baseline_healthz_p99_ms": round(percentile(floor_samples, 0.99), 2),
    }
    print(json.dumps({"bench": "availability", "metrics": metrics}))


if __name__ == "__main__":
    main()
