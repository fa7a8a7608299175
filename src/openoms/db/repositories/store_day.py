"""What a store's day in figures reads: the day's fulfilment events, offers, open promises.

The day's events are found by their time (`created_at`), which no index covers: a manager reads
the page a few times a day, and an index on the outbox would cost every order placed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select

from openoms.db.tables import events, fulfilments, offers, orders
from openoms.db.types import UTCDateTime

_e = events.c


def day_events(
    conn: Connection, types: Sequence[str], start: datetime, end: datetime
) -> list[Row[Any]]:
    query = (
        select(_e.type, _e.fulfilment_id, _e.payload, _e.created_at)
        .where(_e.type.in_(list(types)), _e.created_at >= start, _e.created_at < end)
        .order_by(_e.created_at)
    )
    return list(conn.execute(query))


def first_event_times(
    conn: Connection, event_type: str, fulfilment_ids: Iterable[str]
) -> dict[str, datetime]:
    query = (
        select(_e.fulfilment_id, func.min(_e.created_at, type_=UTCDateTime()))
        .where(_e.type == event_type, _e.fulfilment_id.in_(sorted(set(fulfilment_ids))))
        .group_by(_e.fulfilment_id)
    )
    return {str(fid): at for fid, at in conn.execute(query)}


def offered_times(
    conn: Connection, location: str, fulfilment_ids: Iterable[str]
) -> dict[str, datetime]:
    o = offers.c
    query = select(o.fulfilment_id, o.offered_at).where(
        o.location_code == location, o.fulfilment_id.in_(sorted(set(fulfilment_ids)))
    )
    return {row.fulfilment_id: row.offered_at for row in conn.execute(query)}


def promises(
    conn: Connection, location: str, statuses: Sequence[str], also: Iterable[str]
) -> list[Row[Any]]:
    """(id, promise_option) of the location's fulfilments in `statuses`, and of `also`."""
    f = fulfilments.c
    wanted = f.status.in_(list(statuses)) | f.id.in_(sorted(set(also)))
    query = (
        select(f.id, orders.c.promise_option)
        .join(orders, orders.c.id == f.order_id)
        .where(f.location_code == location, wanted)
    )
    return list(conn.execute(query))
