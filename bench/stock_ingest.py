"""Snapshot ingestion on PostgreSQL: the project's bulk path against the plain-SQL ceiling.

A full snapshot of the demo network (every sku at every location, ~300,000 positions) over
positions that already exist, half of them changed, is applied:
- by the project: the CSV read, validated and applied as `oms import stock` does
  (`importing.import_snapshots`: parse and validate, then `services.stock.ingest_snapshots`
  in 50,000-row transactions, the next chunk parsed while the database applies this one);
- by the ceiling: `COPY` of the same file into a temporary table and one
  `INSERT ... ON CONFLICT DO UPDATE ... WHERE` newer `as_of`, with no application code.
Rounds alternate between the two on fresh snapshots (each newer than the last), and medians are
compared. Needs PostgreSQL: OMS_BENCH_POSTGRES_URL, else OMS_TEST_POSTGRES_URL, else the local
default.

    .venv/bin/python bench/stock_ingest.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from openoms import importing
from openoms.db.uow import Database
from openoms.demo import build_demo, recount, write_snapshot_csv
from openoms.services.demo import load_demo

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
SCHEMA = "oms_bench_ingest"
CHUNK = 50_000

CEILING_SQL = """
INSERT INTO stock_positions (location_code, sku_code, on_hand, reserved, safety_stock,
                             snapshot_as_of, snapshot_delta)
SELECT location, sku, on_hand, 0, 0, as_of, 0 FROM ceiling_staging
ON CONFLICT (location_code, sku_code) DO UPDATE
   SET on_hand = EXCLUDED.on_hand, snapshot_as_of = EXCLUDED.snapshot_as_of
 WHERE EXCLUDED.snapshot_as_of > stock_positions.snapshot_as_of
"""


def database(url: str) -> Database:
    admin = Database(url)
    with admin.engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    admin.dispose()
    separator = "&" if "?" in url else "?"
    db = Database(f"{url}{separator}options=-csearch_path%3D{SCHEMA}")
    db.upgrade()
    return db


def settle(db: Database) -> None:
    """Pay the previous round's debt (dead row versions, dirty pages) before timing the next,
    so that each side is timed on the same footing, whichever ran before it."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE) stock_positions, stock_changes")
        conn.exec_driver_sql("CHECKPOINT")


def project(db: Database, path: Path) -> tuple[float, int]:
    """The CLI's path, in process: parse, validate, check codes, stage, upsert, commit."""
    now = datetime.now(UTC)
    started = time.perf_counter()
    with path.open("rb") as handle:
        totals = importing.import_snapshots(db, handle, now, chunk_size=CHUNK)
    return time.perf_counter() - started, totals.applied


def ceiling(db: Database, path: Path) -> tuple[float, int]:
    """COPY the same file into a temporary table, one upsert; no application code."""
    data = path.read_bytes()
    started = time.perf_counter()
    with db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor:  # type: ignore[union-attr]
            cursor.execute(
                "CREATE TEMP TABLE ceiling_staging "
                "(location text, sku text, on_hand integer, as_of timestamptz) ON COMMIT DROP"
            )
            with cursor.copy(
                "COPY ceiling_staging FROM STDIN WITH (FORMAT csv, HEADER true)"
            ) as copy:
                copy.write(data)
            cursor.execute(CEILING_SQL)
            applied = cursor.rowcount
        raw.commit()  # type: ignore[union-attr]
    return time.perf_counter() - started, applied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds instead of 5")
    args = parser.parse_args()
    rounds = 2 if args.quick else 5
    url = os.environ.get("OMS_BENCH_POSTGRES_URL") or os.environ.get("OMS_TEST_POSTGRES_URL")
    db = database(url or DEFAULT_URL)
    now = datetime(2026, 11, 25, 6, tzinfo=UTC)
    data = build_demo(42, now=now)
    positions = len(data.locations) * len(data.skus)
    print(f"demo: {len(data.locations)} locations x {len(data.skus)} skus = {positions} positions")
    report = load_demo(db, data, now)
    print(f"initial snapshot loaded: {report.positions} positions")
    ours: list[float] = []
    sql: list[float] = []
    current = list(data.snapshot())
    with tempfile.TemporaryDirectory() as folder:
        for number in range(rounds * 2):
            # Each round recounts the previous one: half of the positions in the database change.
            current = list(recount(current, seed=42, as_of=now + timedelta(hours=number + 1)))
            path = Path(folder) / f"snapshot-{number}.csv"
            write_snapshot_csv(current, path)
            runner, figures, name = (
                (project, ours, "openoms") if number % 2 else (ceiling, sql, "sql ceiling")
            )
            settle(db)
            seconds, applied = runner(db, path)
            figures.append(positions / seconds)
            print(
                f"round {number // 2 + 1} {name:>11}: {applied} applied in {seconds:.2f} s"
                f" = {positions / seconds:,.0f} positions/s"
            )
    db.dispose()
    ours_median, sql_median = statistics.median(ours), statistics.median(sql)
    ratio = ours_median / sql_median
    print(
        f"median: openoms {ours_median:,.0f} positions/s, "
        f"sql ceiling {sql_median:,.0f} positions/s, ratio {ratio:.2f}"
    )
    metrics = {
        "positions_per_s": round(ours_median),
        "sql_ceiling_positions_per_s": round(sql_median),
        "ratio_to_sql": round(ratio, 3),
    }
    print(json.dumps({"bench": "stock_ingest", "metrics": metrics}))


if __name__ == "__main__":
    main()
