"""Channels and their publication rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from openoms.db.tables import channels
from openoms.domain.availability import PublicationRule
from openoms.domain.network import LocationKind


def rule_to_json(rule: PublicationRule) -> dict[str, Any]:
    return {
        "kinds": sorted(k.value for k in rule.kinds),
        "locations": sorted(rule.locations),
        "tags": sorted(rule.tags),
        "excluded_tags": sorted(rule.excluded_tags),
        "buffers": {k.value: v for k, v in sorted(rule.buffers.items())},
        "minimums": {k.value: v for k, v in sorted(rule.minimums.items())},
    }


def rule_from_json(data: dict[str, Any]) -> PublicationRule:
    return PublicationRule(
        kinds=frozenset(LocationKind(k) for k in data.get("kinds", [])),
        locations=frozenset(data.get("locations", [])),
        tags=frozenset(data.get("tags", [])),
        excluded_tags=frozenset(data.get("excluded_tags", [])),
        buffers={LocationKind(k): int(v) for k, v in data.get("buffers", {}).items()},
        minimums={LocationKind(k): int(v) for k, v in data.get("minimums", {}).items()},
    )


def upsert(conn: Connection, code: str, name: str, rule: PublicationRule, now: datetime) -> None:
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(channels).values(
        code=code, name=name, publication=rule_to_json(rule), created_at=now, updated_at=now
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["code"],
            set_={
                "name": stmt.excluded.name,
                "publication": stmt.excluded.publication,
                "updated_at": stmt.excluded.updated_at,
            },
        )
    )


def all_channels(conn: Connection) -> list[Row[Any]]:
    return list(conn.execute(select(channels).order_by(channels.c.code)))


def get(conn: Connection, code: str) -> Row[Any] | None:
    return conn.execute(select(channels).where(channels.c.code == code)).first()
