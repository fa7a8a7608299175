"""The events outbox: appended in the transaction of the change, read in (stamp, seq) order.

`seq` comes from a sequence (PostgreSQL) or the rowid (SQLite). On PostgreSQL a transaction can
take seq N+1 and commit before the one holding N: a reader paging by seq alone would step over
N for good. So each event also carries its transaction's change stamp (db/changes.py: the
transaction id on PostgreSQL, a counter on SQLite) and readers page by (stamp, seq), serving only
stamps below the watermark's horizon, which no running transaction can still write. Events of
one order keep their order: a change of an order reads the order first, so its transaction
takes its id after the previous change committed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select, tuple_

from openoms.db.tables import events, orders


def append(conn: Connection, rows: Sequence[Mapping[str, Any]], stamp: int, now: datetime) -> None:
    """Rows of order_id, fulfilment_id (or None), type and payload."""
    if rows:
        conn.execute(
            events.insert(),
            [{**row, "stamp": stamp, "created_at": now} for row in rows],
        )


def page(
    conn: Connection,
    *,
    after: tuple[int, int],
    below: int,
    limit: int,
    channel: str | None = None,
) -> list[Row[Any]]:
    """Events after the cursor, below the horizon; of one channel's orders only if given."""
    e = events.c
    query = (
        select(events)
        .where(tuple_(e.stamp, e.seq) > tuple_(*after), e.stamp < below)
        .order_by(e.stamp, e.seq)
        .limit(limit)
    )
    if channel is not None:
        query = query.join(orders, orders.c.id == e.order_id).where(orders.c.channel == channel)
    return list(conn.execute(query))
