"""Reading the events outbox: every change of an order or fulfilment, in a stable order.

The cursor is `<stamp>.<seq>` (db/repositories/events.py says why a seq alone would lose
events on PostgreSQL). An event shows once no running transaction can still write one before
it: a feed reader may see an event a transaction later than it committed, never miss one.
The limit of that choice: one long transaction holding a stamp (a large snapshot import)
holds the feed back until it ends.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openoms.db import changes
from openoms.db.repositories import events as repo
from openoms.db.uow import Database
from openoms.errors import FieldError, InvalidInput

_CURSOR = re.compile(r"^(0|[1-9][0-9]{0,18})\.(0|[1-9][0-9]{0,18})$")
START = (0, 0)


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    cursor: str
    type: str
    order_id: str | None
    fulfilment_id: str | None
    payload: Mapping[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EventPage:
    events: tuple[Event, ...]
    next: str
    """Where to read on from: the last event's cursor, or the one given when none is new."""


def cursor(stamp: int, seq: int) -> str:
    return f"{stamp}.{seq}"


def parse_cursor(text: str | None, field: str = "since") -> tuple[int, int]:
    if text is None:
        return START
    found = _CURSOR.match(text)
    if found is None:
        message = "a cursor from `next` (<stamp>.<seq>), or nothing to read from the start"
        raise InvalidInput([FieldError(field, message, "invalid_cursor")])
    return int(found[1]), int(found[2])


def list_events(
    db: Database, *, since: str | None, limit: int, channel: str | None = None
) -> EventPage:
    """`channel`: the events of that channel's orders only (a key scoped to a channel)."""
    after = parse_cursor(since)
    with db.read() as conn:
        horizon = changes.watermark(conn).horizon
        rows = repo.page(conn, after=after, below=horizon, limit=limit, channel=channel)
    events = tuple(
        Event(
            seq=row.seq,
            cursor=cursor(row.stamp, row.seq),
            type=row.type,
            order_id=row.order_id,
            fulfilment_id=row.fulfilment_id,
            payload=row.payload,
            created_at=row.created_at,
        )
        for row in rows
    )
    return EventPage(events, events[-1].cursor if events else cursor(*after))
