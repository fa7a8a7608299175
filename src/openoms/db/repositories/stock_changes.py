"""The log of positions whose ATP changed, by change stamp: what caches and feeds follow."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from openoms.db.tables import stock_changes, stock_positions


def record(conn: Connection, keys: Iterable[tuple[str, str]], seq: int, now: datetime) -> None:
    rows = [
        {"seq": seq, "location_code": loc, "sku_code": sku, "changed_at": now} for loc, sku in keys
    ]
    if rows:
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(insert(stock_changes).on_conflict_do_nothing(), rows)


_c = stock_changes.c
_p = stock_positions.c
_CHANGED_SINCE = (
    select(_c.location_code, _c.sku_code, _p.on_hand - _p.reserved - _p.safety_stock)
    .join_from(
        stock_changes,
        stock_positions,
        (_p.location_code == _c.location_code) & (_p.sku_code == _c.sku_code),
    )
    .where(_c.seq >= bindparam("since"), _c.seq < bindparam("below"))
)


def changed_since(conn: Connection, since: int, below: int) -> list[tuple[str, str, int]]:
    """(location, sku, atp now) of positions changed by stamps in [since, below)."""
    rows = conn.execute(_CHANGED_SINCE, {"since": since, "below": below})
    return [(row[0], row[1], max(0, row[2])) for row in rows]


def page(
    conn: Connection,
    *,
    after: tuple[int, str, str],
    below: int,
    locations: Sequence[str],
    limit: int,
) -> list[tuple[int, str, str]]:
    """(seq, location, sku) logged after the cursor for the given locations, in log order."""
    query = (
        select(_c.seq, _c.location_code, _c.sku_code)
        .where(
            tuple_(_c.seq, _c.location_code, _c.sku_code) > tuple_(*after),
            _c.seq < below,
            _c.location_code.in_(list(locations)),
        )
        .order_by(_c.seq, _c.location_code, _c.sku_code)
        .limit(limit)
    )
    return [(row[0], row[1], row[2]) for row in conn.execute(query)]


def prune(conn: Connection, before: datetime) -> tuple[int, int]:
    """Forget changes logged before `before`; returns (rows deleted, highest stamp deleted)."""
    highest = conn.execute(select(func.max(_c.seq)).where(_c.changed_at < before)).scalar()
    if highest is None:
        return 0, 0
    deleted = conn.execute(stock_changes.delete().where(_c.seq <= highest)).rowcount
    return int(deleted), int(highest)
