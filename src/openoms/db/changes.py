"""Change stamps: how the availability feed knows which positions changed since a cursor.

Every transaction that changes what a position can sell stamps it with a number that grows with
commit order *as seen by readers*:

- PostgreSQL: the transaction's id. Ids are handed out at first write, not at commit, so a
  reader only serves stamps below the oldest transaction still running (its snapshot's xmin):
  nothing can later appear behind the cursor it hands out.
- SQLite: one writer at a time, so a counter bumped inside the write transaction is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select, text, update

from openoms.db.tables import feed_clock

STOCK_CLOCK = "stock"
CONFIG_CLOCK = "config"
PRUNED_CLOCK = "pruned"


def stamp(conn: Connection) -> int:
    if conn.dialect.name == "postgresql":
        return int(conn.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one())
    return _bump(conn, STOCK_CLOCK)


def bump_config(conn: Connection) -> None:
    """Every write to locations, channels, skus or sourcing profiles calls this, in its
    transaction, so that caches of them (the availability index, the sourcing view) reload.
    Such writes are rare: queuing on one row is fine."""
    _bump(conn, CONFIG_CLOCK)


def record_pruned(conn: Connection, through: int) -> None:
    current = conn.execute(
        select(feed_clock.c.value).where(feed_clock.c.name == PRUNED_CLOCK)
    ).scalar_one_or_none()
    if current is None:
        conn.execute(feed_clock.insert().values(name=PRUNED_CLOCK, value=through))
    elif through > current:
        conn.execute(
            update(feed_clock).where(feed_clock.c.name == PRUNED_CLOCK).values(value=through)
        )


def _bump(conn: Connection, name: str) -> int:
    bumped = conn.execute(
        update(feed_clock)
        .where(feed_clock.c.name == name)
        .values(value=feed_clock.c.value + 1)
        .returning(feed_clock.c.value)
    ).scalar_one_or_none()
    if bumped is None:
        conn.execute(feed_clock.insert().values(name=name, value=1))
        return 1
    return int(bumped)


_WATERMARK = {
    "postgresql": text(
        "SELECT (SELECT value FROM feed_clock WHERE name = :config),"
        " (SELECT value FROM feed_clock WHERE name = :pruned),"
        " pg_current_snapshot()::text"
    ),
    "sqlite": text(
        "SELECT (SELECT value FROM feed_clock WHERE name = :config),"
        " (SELECT value FROM feed_clock WHERE name = :pruned),"
        " (SELECT value + 1 FROM feed_clock WHERE name = :clock)"
    ),
}


@dataclass(frozen=True, slots=True)
class Watermark:
    config_version: int
    """Grows whenever a location, channel, sku or profile is written (`bump_config`)."""
    pruned_through: int
    """The change log no longer holds stamps up to this one (`record_pruned`)."""
    horizon: int
    """Stamps strictly below this are final: no running transaction can still write one."""
    latest: int
    """Every stamp committed as this snapshot sees it is below this (PostgreSQL: the snapshot's
    xmax; SQLite: the horizon). Between `horizon` and `latest` lie committed stamps and stamps of
    transactions still running: a cache may apply the former now, but may not move its cursor
    past `horizon`."""
    running: frozenset[int] = frozenset()
    """The stamps between `horizon` and `latest` of transactions still running (PostgreSQL:
    the snapshot's xip list; SQLite has none)."""

    def sees(self, stamp: int) -> bool:
        """Whether this snapshot sees what the committed transaction of `stamp` wrote."""
        return stamp < self.horizon or (stamp < self.latest and stamp not in self.running)


def watermark(conn: Connection) -> Watermark:
    """Where an in-process cache stands against the database, in one round trip: it runs
    before every availability read, so it must cost next to nothing."""
    statement = _WATERMARK[conn.dialect.name]
    params = {"config": CONFIG_CLOCK, "pruned": PRUNED_CLOCK, "clock": STOCK_CLOCK}
    if conn.dialect.name != "sqlite":
        del params["clock"]
    row = conn.execute(statement, params).one()
    if conn.dialect.name == "sqlite":
        clock = int(row[2] or 1)
        return Watermark(int(row[0] or 0), int(row[1] or 0), clock, clock)
    xmin, xmax, running = str(row[2]).split(":")
    return Watermark(
        int(row[0] or 0),
        int(row[1] or 0),
        int(xmin),
        int(xmax),
        frozenset(int(stamp) for stamp in running.split(",") if stamp),
    )
