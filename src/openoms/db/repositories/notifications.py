"""Messages owed to customers: written in the transaction that owes them, leased by a relay
(a conditional update, after `FOR UPDATE SKIP LOCKED` on PostgreSQL, as jobs are), marked
sent or put back with a backoff."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, or_, select, update
from uuid6 import uuid7

from openoms.db.tables import notifications

PENDING = "pending"
SENT = "sent"

_n = notifications.c


def add(
    conn: Connection, *, order_id: str, recipient: str, subject: str, body: str, now: datetime
) -> None:
    conn.execute(
        notifications.insert(),
        [
            {
                "id": str(uuid7()),
                "order_id": order_id,
                "recipient": recipient,
                "subject": subject,
                "body": body,
                "state": PENDING,
                "attempts": 0,
                "due_at": now,
                "created_at": now,
            }
        ],
    )


def lease(
    conn: Connection, now: datetime, until: datetime, token: str, limit: int
) -> list[Row[Any]]:
    free = or_(_n.leased_until.is_(None), _n.leased_until < now)
    due = select(_n.id).where(_n.state == PENDING, _n.due_at <= now, free).order_by(_n.due_at)
    ids = list(conn.execute(due.limit(limit).with_for_update(skip_locked=True)).scalars())
    if not ids:
        return []
    conn.execute(
        update(notifications).where(_n.id.in_(ids), free).values(leased_until=until, lease=token)
    )
    query = select(notifications).where(_n.lease == token, _n.state == PENDING)
    return list(conn.execute(query.order_by(_n.due_at)))


def sent(conn: Connection, notification_id: str, token: str, now: datetime) -> None:
    conn.execute(
        update(notifications)
        .where(_n.id == notification_id, _n.lease == token)
        .values(state=SENT, sent_at=now, body="", leased_until=None, lease=None)
    )


def failed(
    conn: Connection, notification_id: str, token: str, due_at: datetime, error: str
) -> None:
    conn.execute(
        update(notifications)
        .where(_n.id == notification_id, _n.lease == token)
        .values(
            attempts=_n.attempts + 1,
            due_at=due_at,
            leased_until=None,
            lease=None,
            last_error=error[:500],
        )
    )


def of_order(conn: Connection, order_id: str) -> list[Row[Any]]:
    query = select(notifications).where(_n.order_id == order_id).order_by(_n.id)
    return list(conn.execute(query))
