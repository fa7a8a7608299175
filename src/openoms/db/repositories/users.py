"""Store associates' accounts and their web sessions (only a hash of a session token is kept)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Row, delete, select, update

from openoms.db.tables import users, web_sessions

_u = users.c
_s = web_sessions.c


def insert(
    conn: Connection,
    *,
    user_id: str,
    username: str,
    display_name: str,
    location: str,
    role: str,
    password_hash: str,
    now: datetime,
) -> None:
    conn.execute(
        users.insert().values(
            id=user_id,
            username=username,
            display_name=display_name,
            location_code=location,
            role=role,
            password_hash=password_hash,
            failed_attempts=0,
            locked_until=None,
            created_at=now,
            updated_at=now,
        )
    )


def by_username(conn: Connection, username: str) -> Row[Any] | None:
    return conn.execute(select(users).where(_u.username == username)).first()


def set_lockout(
    conn: Connection,
    user_id: str,
    *,
    failed_attempts: int,
    locked_until: datetime | None,
    was: int,
    now: datetime,
) -> bool:
    """Write the attempts counted from `was`: False if another attempt wrote meanwhile."""
    result = conn.execute(
        update(users)
        .where(_u.id == user_id, _u.failed_attempts == was)
        .values(failed_attempts=failed_attempts, locked_until=locked_until, updated_at=now)
    )
    return result.rowcount == 1


def set_password_hash(conn: Connection, user_id: str, password_hash: str, now: datetime) -> None:
    conn.execute(
        update(users).where(_u.id == user_id).values(password_hash=password_hash, updated_at=now)
    )


def add_session(
    conn: Connection,
    *,
    token_hash: str,
    user_id: str,
    csrf_token: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    conn.execute(
        web_sessions.insert().values(
            token_hash=token_hash,
            user_id=user_id,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=expires_at,
        )
    )


def session_with_user(conn: Connection, token_hash: str, now: datetime) -> Row[Any] | None:
    """The live session and its user's columns, or None when unknown or expired."""
    query = (
        select(
            _s.token_hash,
            _s.csrf_token,
            _s.expires_at,
            _u.id.label("user_id"),
            _u.username,
            _u.display_name,
            _u.location_code,
            _u.role,
        )
        .join(users, _u.id == _s.user_id)
        .where(_s.token_hash == token_hash, _s.expires_at > now)
    )
    return cast("Row[Any] | None", conn.execute(query).first())


def delete_session(conn: Connection, token_hash: str) -> None:
    conn.execute(delete(web_sessions).where(_s.token_hash == token_hash))


def delete_expired_sessions(conn: Connection, user_id: str, now: datetime) -> None:
    conn.execute(delete(web_sessions).where(_s.user_id == user_id, _s.expires_at <= now))
