"""API keys: only a hash of each key is stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select

from openoms.db.tables import api_keys


def insert(
    conn: Connection,
    *,
    key_id: str,
    name: str,
    role: str,
    location_code: str | None,
    key_hash: str,
    now: datetime,
    channel: str | None = None,
    carrier: str | None = None,
) -> None:
    conn.execute(
        api_keys.insert().values(
            id=key_id,
            name=name,
            role=role,
            location_code=location_code,
            channel=channel,
            carrier=carrier,
            key_hash=key_hash,
            created_at=now,
        )
    )


def by_hash(conn: Connection, key_hash: str) -> Row[Any] | None:
    return conn.execute(
        select(api_keys).where(api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None))
    ).first()


def all_keys(conn: Connection) -> list[Row[Any]]:
    return list(conn.execute(select(api_keys).order_by(api_keys.c.created_at)))


def revoke(conn: Connection, key_id: str, now: datetime) -> bool:
    result = conn.execute(
        api_keys.update()
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount == 1
