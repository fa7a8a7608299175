"""A real server: `oms serve` in a subprocess, on a free port, driven over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import text

from openoms.db.uow import Database
from tests.conftest import POSTGRES_URL, postgres_url

OMS = str(Path(sys.executable).parent / "oms")


@dataclass
class Server:
    url: str
    env: dict[str, str]
    admin: dict[str, str]

    def oms(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [OMS, *args], env=self.env, capture_output=True, text=True, timeout=120, check=False
        )

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'e2e.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("OMS_TEST_POSTGRES_URL is not set")
    schema = f"oms_e2e_{os.getpid()}"
    admin = Database(POSTGRES_URL)
    with admin.engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    yield postgres_url(schema)
    with admin.engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    env = {**os.environ, "OMS_DATABASE_URL": database_url, "OMS_KEY_CACHE_SECONDS": "0"}
    made = subprocess.run(
        [OMS, "keys", "create", "--role", "admin", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    admin = {"Authorization": f"Bearer {made.stdout.strip()}"}
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [OMS, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield Server(url=url, env=env, admin=admin)
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the server did not answer within 30 s")
