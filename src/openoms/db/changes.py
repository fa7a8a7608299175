"""Change stamps: how the availability feed knows which positions changed since a cursor.

Every transaction that changes what a position can sell stamps it with a number that grows with
commit order *as seen by readers*:

- PostgreSQL: the transaction's id. Ids are handed out at first write, not at commit, so a
  reader only serves stamps below the oldest transaction still running (its snapshot's xmin):
  nothing can later appear behind the cursor it hands out.
- SQLite: one writer at a time, so a counter bumped inside the write transaction is exact.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, text, update

from openoms.db.tables import feed_clock

STOCK_CLOCK = "stock"


def stamp(conn: Connection) -> int:
    if conn.dialect.name == "postgresql":
        return int(conn.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one())
    bumped = conn.execute(
        update(feed_clock)
        .where(feed_clock.c.name == STOCK_CLOCK)
        .values(value=feed_clock.c.value + 1)
        .returning(feed_clock.c.value)
    ).scalar_one_or_none()
    if bumped is None:
        conn.execute(feed_clock.insert().values(name=STOCK_CLOCK, value=1))
        return 1
    return int(bumped)


def horizon(conn: Connection) -> int:
    """Stamps strictly below this are final: no running transaction can still write one."""
    if conn.dialect.name == "postgresql":
        return int(
            conn.execute(
                text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            ).scalar_one()
        )
    value = conn.execute(
        select(feed_clock.c.value).where(feed_clock.c.name == STOCK_CLOCK)
    ).scalar_one_or_none()
    return int(value or 0) + 1
