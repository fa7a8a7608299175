"""Stock positions: the bulk feed statements and the reads availability needs.

Snapshots go through a temporary table (COPY on PostgreSQL, executemany on SQLite) and one
`INSERT ... ON CONFLICT DO UPDATE ... WHERE newer as_of` statement: the rules of
domain/stock.py, applied set-wise. Rows are sorted by key first so that concurrent batches lock
positions in the same order. Every position whose on_hand changed is logged in stock_changes
(stock_changes.py), in the same statement on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import psycopg
from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    case,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError

from openoms.db.repositories import stock_changes
from openoms.db.tables import allocations, fulfilments, stock_movements, stock_positions
from openoms.db.tables import stock_changes as stock_changes_table
from openoms.db.types import UTCDateTime
from openoms.domain.stock import MAX_QUANTITY, StockPosition


class SnapshotRow(NamedTuple):
    location: str
    sku: str
    on_hand: int
    as_of: datetime


class MovementRow(NamedTuple):
    movement_id: str
    location: str
    sku: str
    delta: int
    reason: str
    occurred_at: datetime


class SafetyStockRow(NamedTuple):
    location: str
    sku: str
    safety_stock: int


@dataclass(frozen=True)
class MovementOutcome:
    applied: int
    duplicates: int
    before_snapshot: int
    clamped: int


_temp = MetaData()
snapshot_staging = Table(
    "oms_snapshot_staging",
    _temp,
    Column("location_code", String()),
    Column("sku_code", String()),
    Column("on_hand", Integer()),
    Column("as_of", UTCDateTime()),
    prefixes=["TEMPORARY"],
)

_PG_STAGING = """
CREATE TEMPORARY TABLE IF NOT EXISTS oms_snapshot_staging (
    location_code text, sku_code text, on_hand integer, as_of timestamptz
) ON COMMIT DELETE ROWS
"""
_SQLITE_STAGING = """
CREATE TEMPORARY TABLE IF NOT EXISTS oms_snapshot_staging (
    location_code TEXT, sku_code TEXT, on_hand INTEGER, as_of DATETIME
)
"""

# on_hand after a snapshot: the counted figure plus the movements that happened after it.
# The sum only runs for positions that have such movements (last_movement_at > as_of).
_NETTED = """
{least}({max_quantity}, {greatest}(0, EXCLUDED.on_hand + CASE
    WHEN stock_positions.last_movement_at > EXCLUDED.snapshot_as_of THEN (
        SELECT COALESCE(SUM(m.delta), 0) FROM stock_movements m
        WHERE m.location_code = stock_positions.location_code
          AND m.sku_code = stock_positions.sku_code
          AND m.occurred_at > EXCLUDED.snapshot_as_of)
    ELSE 0 END))
"""

_UPSERT = """
INSERT INTO stock_positions
    (location_code, sku_code, on_hand, reserved, safety_stock, snapshot_as_of, snapshot_delta)
SELECT {source} WHERE true
ON CONFLICT (location_code, sku_code) DO UPDATE SET
    on_hand = {netted},
    snapshot_as_of = EXCLUDED.snapshot_as_of,
    snapshot_delta = {netted} - stock_positions.on_hand
WHERE stock_positions.snapshot_as_of IS NULL
   OR EXCLUDED.snapshot_as_of > stock_positions.snapshot_as_of
RETURNING location_code, sku_code, snapshot_delta, on_hand < reserved AS drifted
"""

# PostgreSQL logs the changed positions in the same statement; the answer is three counts:
# applied, changed, and changed to below what is reserved there (stock drift, counted from the
# rows the upsert returns anyway, so that a batch without drift costs no extra query).
_PG_UPSERT_AND_LOG = """
WITH applied AS ({upsert}),
logged AS (
    INSERT INTO stock_changes (seq, location_code, sku_code, changed_at)
    SELECT :seq, location_code, sku_code, :now FROM applied WHERE snapshot_delta <> 0
    RETURNING 1
)
SELECT (SELECT count(*) FROM applied), (SELECT count(*) FROM logged),
       (SELECT count(*) FROM applied WHERE snapshot_delta <> 0 AND drifted)
"""


_FROM_STAGING = "location_code, sku_code, on_hand, 0, 0, as_of, on_hand FROM oms_snapshot_staging"
_FROM_CSV = (
    "location, sku, on_hand::integer, 0, 0, as_of::timestamptz, on_hand::integer"
    " FROM oms_snapshot_csv"
)


def _upsert_sql(dialect: str, source: str = _FROM_STAGING) -> str:
    least, greatest = ("LEAST", "GREATEST") if dialect == "postgresql" else ("MIN", "MAX")
    netted = _NETTED.format(least=least, greatest=greatest, max_quantity=MAX_QUANTITY)
    upsert = _UPSERT.format(netted=netted, source=source)
    return _PG_UPSERT_AND_LOG.format(upsert=upsert) if dialect == "postgresql" else upsert


_PG_CSV_STAGING = """
CREATE TEMPORARY TABLE IF NOT EXISTS oms_snapshot_csv (
    location text, sku text, on_hand text, as_of text
) ON COMMIT DELETE ROWS
"""
# Whether every staged row is well-formed, within bounds, of a known location and sku, and
# not twice in the batch. Anything else sends the batch to the careful path, which names lines.
# Whether every staged row is within bounds and dated with an offset. The rest is caught by
# the upsert itself: a cell that is not a number or not a date fails its cast, an unknown
# location or sku fails its foreign key (a known position has known codes), a position twice
# in the batch fails ON CONFLICT. Any of these sends the batch to the careful path, which
# names the lines.
_PG_CSV_CLEAN = text("""
SELECT NOT EXISTS (
    SELECT 1 FROM oms_snapshot_csv
    WHERE on_hand::bigint NOT BETWEEN 0 AND :most OR as_of !~ :offset
)
""")
# A count without a UTC offset is ambiguous: refused.
_OFFSET_PATTERN = r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)$"


class Applied(NamedTuple):
    applied: int
    changed: int
    drifted: int
    """Changed, and now with fewer units on hand than reserved: see services/drift.py."""


def apply_snapshot_csv(conn: Connection, data: bytes, seq: int, now: datetime) -> Applied | None:
    """PostgreSQL's fast path for snapshot files: COPY the CSV lines as they are, check them
    in SQL, apply them in one statement; no Python per row. Returns the counts, or None
    when the batch is not clean (the transaction is then unusable: roll it back and take the
    careful path, which parses in Python and names the bad lines)."""
    conn.exec_driver_sql(_PG_CSV_STAGING)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy("COPY oms_snapshot_csv FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(data)
        checks = {"offset": _OFFSET_PATTERN, "most": MAX_QUANTITY}
        if not conn.execute(_PG_CSV_CLEAN, checks).scalar():
            return None
        upsert = text(_upsert_sql("postgresql", _FROM_CSV))
        applied, changed, drifted = conn.execute(upsert, {"seq": seq, "now": now}).one()
    except (DBAPIError, psycopg.Error):  # bad CSV or cell, a position twice in the batch
        return None
    return Applied(int(applied), int(changed), int(drifted))


def _copy_text(rows: Sequence[SnapshotRow]) -> bytes:
    """COPY's text format, built in one pass: psycopg's per-row writer costs 3x more."""
    last: datetime | None = None
    stamp = ""
    lines = []
    for location, sku, on_hand, as_of in rows:
        if as_of is not last:  # a batch mostly shares one as_of object: format it once
            last, stamp = as_of, as_of.isoformat()
        lines.append(f"{location}\t{sku}\t{on_hand}\t{stamp}\n")
    return "".join(lines).encode()


def apply_snapshots(
    conn: Connection, rows: Sequence[SnapshotRow], seq: int, now: datetime
) -> Applied:
    """Apply snapshot rows (one per position, sorted by key, codes free of tabs and
    backslashes); return the counts."""
    if not rows:
        return Applied(0, 0, 0)
    statement = text(_upsert_sql(conn.dialect.name))
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(_PG_STAGING)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(
            "COPY oms_snapshot_staging (location_code, sku_code, on_hand, as_of) FROM STDIN"
        ) as copy:
            copy.write(_copy_text(rows))
        applied, changed, drifted = conn.execute(statement, {"seq": seq, "now": now}).one()
        return Applied(int(applied), int(changed), int(drifted))
    conn.exec_driver_sql(_SQLITE_STAGING)
    conn.exec_driver_sql("DELETE FROM oms_snapshot_staging")
    conn.execute(
        snapshot_staging.insert(),
        [{"location_code": r[0], "sku_code": r[1], "on_hand": r[2], "as_of": r[3]} for r in rows],
    )
    returned = conn.execute(statement).all()
    conn.exec_driver_sql("DELETE FROM oms_snapshot_staging")
    changed = [(row[0], row[1], row[3]) for row in returned if row[2] != 0]
    stock_changes.record(conn, [(location, sku) for location, sku, _ in changed], seq, now)
    return Applied(len(returned), len(changed), sum(1 for *_, drifted in changed if drifted))


def ensure_positions(conn: Connection, keys: Iterable[tuple[str, str]]) -> None:
    rows = [
        {"location_code": loc, "sku_code": sku, "on_hand": 0, "reserved": 0, "safety_stock": 0}
        for loc, sku in keys
    ]
    if rows:
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(insert(stock_positions).on_conflict_do_nothing(), rows)


def lock_positions(
    conn: Connection, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], StockPosition]:
    """Read positions for update, in key order (PostgreSQL row locks; SQLite's write lock)."""
    p = stock_positions.c
    found: dict[tuple[str, str], StockPosition] = {}
    ordered = sorted(set(keys))
    for start in range(0, len(ordered), 1000):
        chunk = ordered[start : start + 1000]
        query = (
            select(
                p.location_code,
                p.sku_code,
                p.on_hand,
                p.reserved,
                p.safety_stock,
                p.snapshot_as_of,
            )
            .where(tuple_(p.location_code, p.sku_code).in_(chunk))
            .order_by(p.location_code, p.sku_code)
            .with_for_update()
        )
        for row in conn.execute(query):
            found[(row.location_code, row.sku_code)] = StockPosition(
                sku=row.sku_code,
                location=row.location_code,
                on_hand=row.on_hand,
                reserved=row.reserved,
                safety_stock=row.safety_stock,
                snapshot_as_of=row.snapshot_as_of,
            )
    return found


def insert_new_movements(
    conn: Connection, rows: Sequence[MovementRow], received_at: datetime
) -> list[MovementRow]:
    """Record movements; return those not seen before (a replayed id is skipped)."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(stock_movements).on_conflict_do_nothing(index_elements=["movement_id"])
    by_id = {r.movement_id: r for r in rows}
    new_ids: set[str] = set()
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        result = conn.execute(
            stmt.values(
                [
                    {
                        "movement_id": r.movement_id,
                        "location_code": r.location,
                        "sku_code": r.sku,
                        "delta": r.delta,
                        "reason": r.reason,
                        "occurred_at": r.occurred_at,
                        "received_at": received_at,
                    }
                    for r in chunk
                ]
            ).returning(stock_movements.c.movement_id)
        )
        new_ids.update(result.scalars())
    return [by_id[i] for i in sorted(new_ids)]


def save_after_movements(
    conn: Connection, changed: Sequence[tuple[StockPosition, datetime]]
) -> None:
    """Write positions updated by movements, with the newest movement time of each."""
    p = stock_positions.c
    for position, last_at in changed:
        conn.execute(
            stock_positions.update()
            .where(p.location_code == position.location, p.sku_code == position.sku)
            .values(on_hand=position.on_hand, last_movement_at=_later(p.last_movement_at, last_at))
        )


def _later(column: Any, moment: datetime) -> Any:
    return case((column.is_(None), moment), (column < moment, moment), else_=column)


def set_safety_stock(conn: Connection, rows: Sequence[SafetyStockRow]) -> None:
    ensure_positions(conn, sorted({(r.location, r.sku) for r in rows}))
    p = stock_positions.c
    conn.execute(
        stock_positions.update()
        .where(p.location_code == bindparam("b_location"), p.sku_code == bindparam("b_sku"))
        .values(safety_stock=bindparam("b_safety")),
        [{"b_location": r.location, "b_sku": r.sku, "b_safety": r.safety_stock} for r in rows],
    )


class PositionRow(NamedTuple):
    location: str
    sku: str
    on_hand: int
    reserved: int
    safety_stock: int
    snapshot_as_of: datetime | None
    snapshot_delta: int


_p = stock_positions.c
_POSITION_COLUMNS = (
    _p.location_code,
    _p.sku_code,
    _p.on_hand,
    _p.reserved,
    _p.safety_stock,
    _p.snapshot_as_of,
    _p.snapshot_delta,
)


def positions_of_location(
    conn: Connection, location: str, *, after: str | None, limit: int
) -> list[PositionRow]:
    query = (
        select(*_POSITION_COLUMNS)
        .where(_p.location_code == location)
        .order_by(_p.sku_code)
        .limit(limit)
    )
    if after is not None:
        query = query.where(_p.sku_code > after)
    return [PositionRow(*row) for row in conn.execute(query)]


def positions_of_sku(conn: Connection, sku: str) -> list[PositionRow]:
    query = select(*_POSITION_COLUMNS).where(_p.sku_code == sku).order_by(_p.location_code)
    return [PositionRow(*row) for row in conn.execute(query)]


def all_atp(conn: Connection) -> list[tuple[str, str, int]]:
    """(location, sku, atp) of every position: a cache's full (re)load."""
    query = select(_p.location_code, _p.sku_code, _p.on_hand - _p.reserved - _p.safety_stock)
    return [(row[0], row[1], max(0, row[2])) for row in conn.execute(query)]


def drifted_positions(conn: Connection, seq: int) -> list[tuple[str, str]]:
    """Positions that the transaction stamped `seq` changed and left with fewer units on hand
    than reserved, in key order. It reads that transaction's rows of the change log (its
    primary key's prefix), not the whole table: stock_positions has no index on on_hand or
    reserved, and must not (it would forbid the HOT updates bulk feeds rely on)."""
    c = stock_changes_table.c
    query = (
        select(c.location_code, c.sku_code)
        .join_from(
            stock_changes_table,
            stock_positions,
            (_p.location_code == c.location_code) & (_p.sku_code == c.sku_code),
        )
        .where(c.seq == seq, _p.on_hand < _p.reserved)
        .order_by(c.location_code, c.sku_code)
    )
    return [(row[0], row[1]) for row in conn.execute(query)]


class HeldUnits(NamedTuple):
    """Units of one order line that a fulfilment holds at a position."""

    order_id: str
    fulfilment_id: str
    line_id: str
    units: int
    status: str


def held_at(conn: Connection, location: str, sku: str, statuses: Iterable[str]) -> list[HeldUnits]:
    """What fulfilments in `statuses` hold of the position, newest order first (ids are
    UUIDv7: they sort by creation)."""
    a, f = allocations.c, fulfilments.c
    query = (
        select(a.order_id, a.fulfilment_id, a.line_id, a.units, f.status)
        .join_from(allocations, fulfilments, f.id == a.fulfilment_id)
        .where(
            f.location_code == location,
            f.status.in_(sorted(statuses)),
            a.sku_code == sku,
            a.units > 0,
        )
        .order_by(a.order_id.desc(), a.fulfilment_id.desc(), a.line_id)
    )
    return [HeldUnits(*row) for row in conn.execute(query)]


def positions_of_sku_at(conn: Connection, location: str, sku: str) -> list[PositionRow]:
    """The position of a sku at a location (none or one), read without a lock."""
    query = select(*_POSITION_COLUMNS).where(_p.location_code == location, _p.sku_code == sku)
    return [PositionRow(*row) for row in conn.execute(query)]
