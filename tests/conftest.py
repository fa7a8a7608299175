"""Fixtures: a migrated database of each kind, an API client, a small network.

Integration tests run on SQLite always and on PostgreSQL when OMS_TEST_POSTGRES_URL is set.
With CI=true a skipped test is a failure: CI must prove both databases.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from openoms.api.app import create_app
from openoms.config import Settings
from openoms.db.tables import metadata
from openoms.db.uow import Database
from openoms.domain.availability import PublicationRule
from openoms.domain.catalog import Sku
from openoms.domain.network import Capability, GeoPoint, Location, LocationKind
from openoms.services import catalog, channels, keys, network
from openoms.services.keys import Role

POSTGRES_URL = os.environ.get("OMS_TEST_POSTGRES_URL")
IN_CI = os.environ.get("CI", "").lower() == "true"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def pytest_configure(config: pytest.Config) -> None:
    if IN_CI and not POSTGRES_URL:
        raise pytest.UsageError("CI=true needs OMS_TEST_POSTGRES_URL: PostgreSQL tests must run")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if IN_CI and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"a skip is a failure under CI=true: {report.longrepr}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating costs more than copying)."""
    path = tmp_path_factory.mktemp("template") / "oms.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    db.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip("OMS_TEST_POSTGRES_URL is not set")
    schema = f"oms_test_{os.getpid()}"
    admin = Database(POSTGRES_URL)
    with admin.engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    db = Database(postgres_url(schema))
    db.upgrade()
    db.dispose()
    yield schema
    with admin.engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


def postgres_url(schema: str) -> str:
    assert POSTGRES_URL
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copy(template, tmp_path / "oms.db")
        database = Database(f"sqlite:///{tmp_path / 'oms.db'}")
    else:
        schema: str = request.getfixturevalue("postgres_schema")
        database = Database(postgres_url(schema))
        tables = ", ".join(t.name for t in metadata.sorted_tables)
        with database.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} CASCADE"))
    yield database
    database.dispose()


T = TypeVar("T")


def eventually(read: Callable[[], T], until: Callable[[T], bool], seconds: float = 15.0) -> T:
    """What `read` returns once `until` holds of it, or its last answer after `seconds`.

    For the cursor feeds (events, channel changes) on PostgreSQL: a change shows once every
    transaction older than it has ended (decision 0002), and on a server shared with other
    sessions an open transaction elsewhere delays it."""
    deadline = time.monotonic() + seconds
    while True:
        found = read()
        if until(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def location(code: str, kind: LocationKind = LocationKind.STORE, **extra: Any) -> Location:
    fields: dict[str, Any] = {
        "name": code.title(),
        "point": GeoPoint(48.85, 2.35),
        "timezone": "Europe/Paris",
        "capabilities": frozenset({Capability.SHIP}),
    }
    fields.update(extra)
    return Location(code=code, kind=kind, **fields)


def sku(code: str, **extra: Any) -> Sku:
    fields: dict[str, Any] = {
        "name": f"Item {code}",
        "weight_g": 500,
        "length_mm": 300,
        "width_mm": 200,
        "height_mm": 100,
        "price": 2999,
    }
    fields.update(extra)
    return Sku(code=code, **fields)


WEB = PublicationRule(
    kinds=frozenset({LocationKind.WAREHOUSE, LocationKind.STORE}),
    excluded_tags=frozenset({"closed_to_web"}),
    buffers={LocationKind.STORE: 1},
    minimums={LocationKind.STORE: 2},
)


@dataclass
class World:
    """A small network: a warehouse, two stores, three skus, the `web` channel, and keys."""

    db: Database
    client: TestClient
    admin: dict[str, str]
    channel: dict[str, str]
    store1: dict[str, str]
    carrier: dict[str, str]


def bearer(db: Database, role: Role, location: str | None = None) -> dict[str, str]:
    made = keys.create_key(db, name=role.value, role=role, location=location, now=NOW)
    return {"Authorization": f"Bearer {made.secret}"}


@pytest.fixture
def world(db: Database) -> Iterator[World]:
    network.upsert_locations(
        db,
        [
            location("WH1", LocationKind.WAREHOUSE),
            location("ST1"),
            location("ST2"),
            location("SUP1", LocationKind.SUPPLIER),
        ],
        NOW,
    )
    catalog.upsert_skus(db, [sku("A"), sku("B"), sku("C")], NOW)
    channels.put_channel(db, channels.Channel("web", "Web shop", WEB), NOW)
    settings = Settings(
        database_url=db.url,
        key_cache_seconds=0,
        availability_max_staleness_ms=0,
        run_worker=False,  # tests drive the timers with run_due and an explicit now
    )
    app = create_app(settings, db=db)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield World(
            db=db,
            client=client,
            admin=bearer(db, Role.ADMIN),
            channel=bearer(db, Role.CHANNEL),
            store1=bearer(db, Role.STORE, "ST1"),
            carrier=bearer(db, Role.CARRIER),
        )
