"""Orders, their lines, fulfilments, allocations and decision history; and the two statements
that move stock for them (`reserve`, `release`).

`reserve` is a conditional update: the ATP check and the write are one statement, so it holds
under any concurrency without reading the position first. On PostgreSQL a second writer of the
same row waits for the first to commit and then re-evaluates the WHERE clause on the new row;
on SQLite the write transaction holds the database's write lock (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast

import orjson
import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import Connection, Row, bindparam, select, update
from sqlalchemy.exc import IntegrityError

from openoms.db.repositories.holds import held_units
from openoms.db.tables import (
    allocations,
    decisions,
    fulfilments,
    order_lines,
    orders,
    stock_positions,
)

_p = stock_positions.c
_RESERVE = (
    update(stock_positions)
    .where(
        _p.location_code == bindparam("b_location"),
        _p.sku_code == bindparam("b_sku"),
        _p.on_hand
        - _p.reserved
        - _p.safety_stock
        - held_units(_p.location_code, _p.sku_code, bindparam("b_now"), bindparam("b_own"))
        >= bindparam("b_units"),
    )
    .values(reserved=_p.reserved + bindparam("b_units"))
)
_LOCK = (
    select(_p.location_code)
    .where(_p.location_code == bindparam("b_location"), _p.sku_code == bindparam("b_sku"))
    .with_for_update()
)
_RELEASE = (
    update(stock_positions)
    .where(
        _p.location_code == bindparam("b_location"),
        _p.sku_code == bindparam("b_sku"),
        _p.reserved >= bindparam("b_units"),
    )
    .values(reserved=_p.reserved - bindparam("b_units"))
)


def reserve(
    conn: Connection,
    location: str,
    sku: str,
    units: int,
    *,
    now: datetime,
    own_hold: str | None = None,
) -> bool:
    """Add `units` to the position's reserved if they fit its ATP less the units of active
    holds at `now` (but `own_hold`'s); False (no write) if not.

    On PostgreSQL the row is locked first, by a statement of its own: an UPDATE that waits
    on a row lock re-checks its WHERE on the new row but runs the holds' subquery on its first
    snapshot, so it would miss a hold committed while it waited (holds lock the positions
    they check). The statement after the lock has a fresh snapshot."""
    params = {
        "b_location": location,
        "b_sku": sku,
        "b_units": units,
        "b_now": now,
        "b_own": own_hold or "",
    }
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK, params)
    return conn.execute(_RESERVE, params).rowcount == 1


def release(conn: Connection, location: str, sku: str, units: int) -> bool:
    """Give back `units` of the position's reserved; False if it does not hold that many."""
    params = {"b_location": location, "b_sku": sku, "b_units": units}
    return conn.execute(_RELEASE, params).rowcount == 1


@dataclass(frozen=True, slots=True)
class OrderRows:
    order: Row[Any]
    lines: list[Row[Any]]
    fulfilments: list[Row[Any]]
    allocations: list[Row[Any]]
    decisions: list[Row[Any]]

    @classmethod
    def of(
        cls,
        order: Mapping[str, Any],
        lines: Sequence[Mapping[str, Any]],
        fulfilment_rows: Sequence[Mapping[str, Any]],
        allocation_rows: Sequence[Mapping[str, Any]],
        decision_rows: Sequence[Mapping[str, Any]],
    ) -> OrderRows:
        """The rows as `load` would read them back, from what was just inserted: a placed
        order is answered without reading it again."""

        def rows(found: Sequence[Mapping[str, Any]], *key: str) -> list[Any]:
            ordered = sorted(found, key=lambda row: tuple(row[k] for k in key))
            return [SimpleNamespace(**row) for row in ordered]

        return cls(
            order=cast(Any, SimpleNamespace(**order)),
            lines=rows(lines, "position"),
            fulfilments=rows(fulfilment_rows, "id"),
            allocations=rows(allocation_rows, "fulfilment_id", "line_id"),
            decisions=rows(decision_rows, "seq"),
        )


def find_by_key(conn: Connection, channel: str, key: str) -> tuple[str, str] | None:
    """(order id, request hash) of the order placed with this idempotency key, if any."""
    o = orders.c
    row = conn.execute(
        select(o.id, o.request_hash).where(o.channel == channel, o.idempotency_key == key)
    ).first()
    return (row[0], row[1]) if row else None


def insert_order(
    conn: Connection,
    order: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]],
    fulfilment_rows: Sequence[Mapping[str, Any]],
    allocation_rows: Sequence[Mapping[str, Any]],
) -> None:
    conn.execute(orders.insert(), [dict(order)])
    conn.execute(order_lines.insert(), [dict(line) for line in lines])
    if fulfilment_rows:
        conn.execute(fulfilments.insert(), [dict(row) for row in fulfilment_rows])
        conn.execute(allocations.insert(), [dict(row) for row in allocation_rows])


_STAMP = "pg_current_xact_id()::text::bigint"
"""The change stamp of db/changes.py on PostgreSQL: the transaction's id."""
_PG_ORDER = (
    "INSERT INTO orders (id, channel, customer, delivery_method, latitude, longitude,"  # noqa: S608
    " country, pickup_store, promise_option, status, idempotency_key, request_hash,"
    " created_at, updated_at) VALUES (%(id)s, %(channel)s, %(customer)s,"
    " %(delivery_method)s, %(latitude)s, %(longitude)s, %(country)s, %(pickup_store)s,"
    " %(promise_option)s, %(status)s, %(idempotency_key)s, %(request_hash)s,"
    " %(created_at)s, %(updated_at)s) RETURNING " + _STAMP
)
# The order's parts, one multi-row INSERT per table (a statement per row cost the client and
# the server a parse, a bind and an execution each). (table, stamp column, columns, suffix):
# a stamp column gets the change stamp of db/changes.py on PostgreSQL (the transaction's id),
# written by the statement itself.
_LINES = (
    "order_lines",
    None,
    (
        "order_id",
        "line_id",
        "position",
        "sku_code",
        "quantity",
        "unit_price",
        "currency",
        "unallocated",
        "unallocated_reason",
        "cancelled",
    ),
    "",
)
_FULFILMENTS = (
    "fulfilments",
    None,
    ("id", "order_id", "location_code", "status", "rule", "version", "created_at", "updated_at"),
    "",
)
_ALLOCATIONS = (
    "allocations",
    None,
    ("fulfilment_id", "line_id", "order_id", "location_code", "sku_code", "units"),
    "",
)
_DECISIONS = ("decisions", None, ("order_id", "seq", "outcome", "record", "created_at"), "")
_EVENTS = (
    "events",
    "stamp",
    ("order_id", "fulfilment_id", "type", "payload", "created_at"),
    "",
)
_CHANGES = (
    "stock_changes",
    "seq",
    ("location_code", "sku_code", "changed_at"),
    " ON CONFLICT DO NOTHING",
)
_Table = tuple[str, str | None, tuple[str, ...], str]
_JSON = frozenset({"customer", "promise_option", "record", "payload"})


def _insert_many(
    cursor: psycopg.Cursor[Any], table: _Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    columns = table[2]
    params = [_pg_value(column, row[column]) for row in rows for column in columns]
    cursor.execute(_insert_sql(table, len(rows)), params)


@functools.cache
def _insert_sql(table: _Table, count: int) -> str:
    name, stamp, columns, suffix = table
    stamped = [] if stamp is None else [stamp]
    values = ", ".join([_STAMP] * len(stamped) + ["%s"] * len(columns))
    names = ", ".join([*stamped, *columns])
    rows = ", ".join([f"({values})"] * count)
    return f"INSERT INTO {name} ({names}) VALUES {rows}{suffix}"  # noqa: S608 (constants only)


# The order's positions, (location, sku, units), as arrays: one statement text whatever their
# number (so that it stays prepared), joined to the rows by their primary key.
_WANTED = (
    "unnest(%(locations)s::text[], %(skus)s::text[], %(units)s::int[])"
    " AS w(location_code, sku_code, units)"
)
# The locks first, all in one statement, in key order (codepoint order, as Python sorts the
# keys and as every writer of positions locks them), then the checks and the writes in one
# statement with a fresh snapshot: see `reserve`.
_PG_LOCK = (
    "SELECT 1 FROM stock_positions p JOIN "  # noqa: S608 (constants only)
    + _WANTED
    + " USING (location_code, sku_code)"
    ' ORDER BY p.location_code COLLATE "C", p.sku_code COLLATE "C" FOR UPDATE OF p'
)
_PG_RESERVE = (
    "UPDATE stock_positions p SET reserved = p.reserved + w.units FROM "  # noqa: S608
    + _WANTED
    + " WHERE p.location_code = w.location_code AND p.sku_code = w.sku_code"
    " AND p.on_hand - p.reserved - p.safety_stock - COALESCE((SELECT SUM(hl.units)"
    " FROM hold_lines hl JOIN holds h ON h.id = hl.hold_id"
    " WHERE hl.location_code = w.location_code AND hl.sku_code = w.sku_code"
    " AND h.state = 'active' AND h.expires_at > %(now)s AND h.id <> %(own)s), 0)"
    # E-reservations keep units as holds do (db/repositories/reservations.py).
    " - COALESCE((SELECT SUM(rl.units) FROM reservation_lines rl"
    " WHERE rl.location_code = w.location_code AND rl.sku_code = w.sku_code"
    " AND rl.holding_until > %(now)s), 0) >= w.units"
)


def _pg_value(column: str, value: Any) -> Any:
    """JSON columns written by orjson: the standard library's encoder was ~2% of an API
    process's samples under the orders benchmark (the decision records, mostly)."""
    return Jsonb(value, dumps=orjson.dumps) if column in _JSON and value is not None else value


# With the commit in the same round trip, a reserve without room must stop the transaction by
# itself: the update is wrapped so that it divides by whether it changed every position (a
# subquery: never folded at planning time). The error aborts what follows in the pipeline.
_PG_RESERVE_OR_FAIL = (
    "WITH reserved AS (" + _PG_RESERVE + " RETURNING 1)"  # noqa: S608 (constants only)
    " SELECT 1 / ((SELECT count(*) FROM reserved) = cardinality(%(locations)s::text[]))::int"
)
_PG_RESERVE_COUNTED = (
    "WITH reserved AS (" + _PG_RESERVE + " RETURNING 1)"  # noqa: S608 (constants only)
    " SELECT count(*) FROM reserved"
)
_IDLE = psycopg.pq.TransactionStatus.IDLE


def place_in_one_trip(
    conn: Connection,
    rows: OrderRows,
    events_rows: Sequence[Mapping[str, Any]],
    reserve: Sequence[tuple[tuple[str, str], int]],
    now: datetime,
    *,
    own_hold: str | None = None,
    commit: bool = False,
) -> int | None:
    """PostgreSQL only: an order placed in one round trip (psycopg's pipeline mode) - its
    rows, its decisions, its events and the changed positions, stamped by the statements
    themselves, then `reserve`'s conditional updates, in the order given (key order: two
    orders lock the positions they share in the same order), last, so that the positions'
    row locks are held for the commit only. Returns the transaction's change stamp if every
    reserve found the units; None is a lost race: the caller rolls back. The same writes as
    `insert_order`, `add_decisions`, `events.append`, `stock_changes.record` and `reserve`,
    without their 10-15 round trips and SQLAlchemy's cost per statement, which made most of
    an order's time.

    `commit`: nothing else is left to write in the transaction, so the same round trip also
    begins it (psycopg would begin it by a round trip of its own) and commits it: the row
    locks are then released by the exchange that took them, not one round trip later. A
    reserve without room fails its statement instead, and the transaction is rolled back."""
    pg = conn.connection.driver_connection
    assert pg is not None
    begin = commit and pg.pgconn.transaction_status == _IDLE
    if begin:
        pg.autocommit = True  # for the length of this call: our BEGIN goes in the pipeline
    try:
        return _pipelined(
            pg, rows, events_rows, reserve, now, own_hold=own_hold, begin=begin, commit=commit
        )
    except psycopg.errors.DivisionByZero:
        return None
    except psycopg.IntegrityError as error:
        raise IntegrityError("placing an order", None, error) from error
    finally:
        if begin:
            if not pg.closed and pg.pgconn.transaction_status != _IDLE:
                pg.execute("ROLLBACK")
            pg.autocommit = False


def _pipelined(
    pg: psycopg.Connection[Any],
    rows: OrderRows,
    events_rows: Sequence[Mapping[str, Any]],
    reserve: Sequence[tuple[tuple[str, str], int]],
    now: datetime,
    *,
    own_hold: str | None,
    begin: bool,
    commit: bool,
) -> int | None:
    # The pipeline's exit sends the one Sync and reads every result (an explicit `sync()`
    # before it would cost a second, empty round trip); these two cursors' results are read
    # after it.
    stamped, reserved = pg.cursor(), pg.cursor()
    with pg.pipeline(), pg.cursor() as cursor:
        if begin:
            cursor.execute("BEGIN")
        order = {k: _pg_value(k, v) for k, v in vars(rows.order).items()}
        stamped.execute(_PG_ORDER, order)
        for table, found in (
            (_LINES, [vars(r) for r in rows.lines]),
            (_FULFILMENTS, [vars(r) for r in rows.fulfilments]),
            (_ALLOCATIONS, [vars(r) for r in rows.allocations]),
            (_DECISIONS, [vars(r) for r in rows.decisions]),
            (_EVENTS, [{**e, "created_at": now} for e in events_rows]),
            (_CHANGES, [_changed(key, now) for key, _ in reserve]),
        ):
            if found:
                _insert_many(cursor, table, found)
        if reserve:
            params = {
                "locations": [location for (location, _), _ in reserve],
                "skus": [sku for (_, sku), _ in reserve],
                "units": [units for _, units in reserve],
                "now": now,
                "own": own_hold or "",
            }
            cursor.execute(_PG_LOCK, params)
            if commit:
                cursor.execute(_PG_RESERVE_OR_FAIL, params)
            else:
                reserved.execute(_PG_RESERVE_COUNTED, params)
        if commit:
            cursor.execute("COMMIT")
    if reserve and not commit:
        counted = reserved.fetchone()
        if counted is None or counted[0] != len(reserve):
            return None
    stamp = stamped.fetchone()
    assert stamp is not None
    return int(stamp[0])


def _changed(key: tuple[str, str], now: datetime) -> dict[str, Any]:
    return {"location_code": key[0], "sku_code": key[1], "changed_at": now}


def decision_rows(
    order_id: str, records: Sequence[tuple[str, Any]], now: datetime, *, start: int
) -> list[dict[str, Any]]:
    return [
        {
            "order_id": order_id,
            "seq": start + i,
            "outcome": outcome,
            "record": record,
            "created_at": now,
        }
        for i, (outcome, record) in enumerate(records)
    ]


def add_decisions(
    conn: Connection,
    order_id: str,
    records: Sequence[tuple[str, Any]],
    now: datetime,
    *,
    start: int | None = None,
) -> list[dict[str, Any]]:
    """Append (outcome, record) pairs to the order's decision history; `start`: the first
    seq, when the caller knows it (1 for an order being placed). Returns the rows written."""
    if start is None:
        d = decisions.c
        query = select(d.seq).where(d.order_id == order_id).order_by(d.seq.desc())
        last = conn.execute(query).first()
        start = (last[0] if last else 0) + 1
    rows = decision_rows(order_id, records, now, start=start)
    if rows:
        conn.execute(decisions.insert(), rows)
    return rows


def load(conn: Connection, order_id: str, *, for_update: bool = False) -> OrderRows | None:
    """The order and its parts; `for_update` locks the order row first (PostgreSQL), so that
    two changes of one order queue instead of both deciding on what they read."""
    query = select(orders).where(orders.c.id == order_id)
    if for_update:
        query = query.with_for_update()
    order = conn.execute(query).first()
    if order is None:
        return None
    ln, f, a, d = order_lines.c, fulfilments.c, allocations.c, decisions.c
    return OrderRows(
        order=order,
        lines=list(
            conn.execute(select(order_lines).where(ln.order_id == order_id).order_by(ln.position))
        ),
        fulfilments=list(
            conn.execute(select(fulfilments).where(f.order_id == order_id).order_by(f.id))
        ),
        allocations=list(
            conn.execute(
                select(allocations)
                .where(a.order_id == order_id)
                .order_by(a.fulfilment_id, a.line_id)
            )
        ),
        decisions=list(
            conn.execute(select(decisions).where(d.order_id == order_id).order_by(d.seq))
        ),
    )


def has_fulfilment_at(conn: Connection, order_id: str, location: str) -> bool:
    f = fulfilments.c
    query = select(f.id).where(f.order_id == order_id, f.location_code == location).limit(1)
    return conn.execute(query).first() is not None


def page(
    conn: Connection,
    *,
    channel: str | None,
    status: str | None,
    location: str | None,
    after: str | None,
    limit: int,
) -> list[Row[Any]]:
    """Orders by id (UUIDv7: by creation time), filtered; `location` keeps those with a
    fulfilment there."""
    o = orders.c
    query = select(orders).order_by(o.id).limit(limit)
    if channel is not None:
        query = query.where(o.channel == channel)
    if status is not None:
        query = query.where(o.status == status)
    if after is not None:
        query = query.where(o.id > after)
    if location is not None:
        f = fulfilments.c
        query = query.where(
            select(f.id).where(f.order_id == o.id, f.location_code == location).exists()
        )
    return list(conn.execute(query))


def set_line_buckets(
    conn: Connection, order_id: str, line_id: str, unallocated: int, cancelled: int
) -> None:
    ln = order_lines.c
    conn.execute(
        update(order_lines)
        .where(ln.order_id == order_id, ln.line_id == line_id)
        .values(unallocated=unallocated, cancelled=cancelled)
    )


def set_allocation_units(conn: Connection, fulfilment_id: str, line_id: str, units: int) -> None:
    a = allocations.c
    conn.execute(
        update(allocations)
        .where(a.fulfilment_id == fulfilment_id, a.line_id == line_id)
        .values(units=units)
    )


def set_fulfilment_status(
    conn: Connection, fulfilment_id: str, status: str, version: int, now: datetime
) -> bool:
    """Move the fulfilment to `status` if it is still at `version`; False if someone else
    changed it since it was read."""
    f = fulfilments.c
    result = conn.execute(
        update(fulfilments)
        .where(f.id == fulfilment_id, f.version == version)
        .values(status=status, version=version + 1, updated_at=now)
    )
    return result.rowcount == 1


def set_order_status(conn: Connection, order_id: str, status: str, now: datetime) -> None:
    o = orders.c
    conn.execute(update(orders).where(o.id == order_id).values(status=status, updated_at=now))
