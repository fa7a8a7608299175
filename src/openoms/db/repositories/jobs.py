"""The worker's jobs: one row per (kind, subject), leased by a worker while it runs it.

Leasing is a conditional update (`leased_until` empty or past), so that of two workers that
read the same due row one leases it and the other changes nothing, on both databases; on
PostgreSQL the due rows are first read `FOR UPDATE SKIP LOCKED`, so that workers do not queue
on each other's rows. A job is deleted in the transaction that carries it out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, or_, select, update
from uuid6 import uuid7

from openoms.db.tables import jobs

_j = jobs.c


def schedule(conn: Connection, kind: str, subject: str, due_at: datetime, now: datetime) -> None:
    """Due at `due_at`, or earlier if it already was. Callers hold the subject's order lock,
    so that no other transaction schedules the same (kind, subject) meanwhile."""
    found = conn.execute(select(_j.id, _j.due_at).where(_j.kind == kind, _j.subject == subject))
    row = found.first()
    if row is None:
        conn.execute(
            jobs.insert(),
            [
                {
                    "id": str(uuid7()),
                    "kind": kind,
                    "subject": subject,
                    "due_at": due_at,
                    "attempts": 0,
                    "created_at": now,
                }
            ],
        )
    elif due_at < row.due_at:
        conn.execute(update(jobs).where(_j.id == row.id).values(due_at=due_at))


def reschedule(conn: Connection, kind: str, subject: str, due_at: datetime) -> None:
    """Due at `due_at` exactly (a new offer wave)."""
    conn.execute(update(jobs).where(_j.kind == kind, _j.subject == subject).values(due_at=due_at))


def cancel(conn: Connection, kind: str, subject: str) -> None:
    conn.execute(delete(jobs).where(_j.kind == kind, _j.subject == subject))


def find(conn: Connection, kind: str, subject: str) -> Row[Any] | None:
    return conn.execute(select(jobs).where(_j.kind == kind, _j.subject == subject)).first()


def lease(
    conn: Connection, now: datetime, until: datetime, token: str, limit: int
) -> list[Row[Any]]:
    """Up to `limit` due jobs, leased to `token` until `until`."""
    free = or_(_j.leased_until.is_(None), _j.leased_until < now)
    query = select(_j.id).where(_j.due_at <= now, free).order_by(_j.due_at).limit(limit)
    ids = list(conn.execute(query.with_for_update(skip_locked=True)).scalars())
    if not ids:
        return []
    conn.execute(update(jobs).where(_j.id.in_(ids), free).values(leased_until=until, lease=token))
    return list(conn.execute(select(jobs).where(_j.lease == token).order_by(_j.due_at)))


def is_leased(conn: Connection, job_id: str, token: str) -> bool:
    """Still ours (locking the row on PostgreSQL while the job's transaction runs)."""
    query = select(_j.id).where(_j.id == job_id, _j.lease == token).with_for_update()
    return conn.execute(query).first() is not None


def done(conn: Connection, job_id: str, token: str) -> None:
    conn.execute(delete(jobs).where(_j.id == job_id, _j.lease == token))


def retry(conn: Connection, job_id: str, token: str, due_at: datetime, error: str) -> None:
    conn.execute(
        update(jobs)
        .where(_j.id == job_id, _j.lease == token)
        .values(
            due_at=due_at,
            attempts=_j.attempts + 1,
            leased_until=None,
            lease=None,
            last_error=error[:500],
        )
    )


def hasten(conn: Connection, kind: str, now: datetime) -> int:
    """Every job of `kind` due later than `now` becomes due now; how many did."""
    result = conn.execute(update(jobs).where(_j.kind == kind, _j.due_at > now).values(due_at=now))
    return int(result.rowcount or 0)
