"""Locations: rows <-> domain.network.Location."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Connection, Row, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from openoms.db.tables import locations
from openoms.domain.network import (
    Capability,
    DayException,
    GeoPoint,
    Location,
    LocationKind,
    OpeningHours,
    TimeRange,
)


def hours_to_json(hours: OpeningHours) -> dict[str, Any]:
    return {
        "weekly": {
            day: [[r.opens.isoformat("minutes"), r.closes.isoformat("minutes")] for r in ranges]
            for day, ranges in hours.weekly.items()
        },
        "exceptions": [
            {
                "day": e.day.isoformat(),
                "ranges": [
                    [r.opens.isoformat("minutes"), r.closes.isoformat("minutes")] for r in e.ranges
                ],
            }
            for e in hours.exceptions
        ],
    }


def hours_from_json(data: dict[str, Any]) -> OpeningHours:
    def ranges(items: list[list[str]]) -> tuple[TimeRange, ...]:
        return tuple(TimeRange(time.fromisoformat(a), time.fromisoformat(b)) for a, b in items)

    return OpeningHours(
        weekly={day: ranges(items) for day, items in data.get("weekly", {}).items()},
        exceptions=tuple(
            DayException(date.fromisoformat(e["day"]), ranges(e["ranges"]))
            for e in data.get("exceptions", [])
        ),
    )


def to_row(location: Location, now: datetime) -> dict[str, Any]:
    return {
        "code": location.code,
        "name": location.name,
        "kind": location.kind.value,
        "latitude": location.point.latitude,
        "longitude": location.point.longitude,
        "timezone": location.timezone,
        "address": location.address,
        "city": location.city,
        "postal_code": location.postal_code,
        "country": location.country,
        "opening_hours": hours_to_json(location.opening_hours),
        "capabilities": sorted(c.value for c in location.capabilities),
        "daily_capacity": location.daily_capacity,
        "preparation_minutes": location.preparation_minutes,
        "handling_cost": location.handling_cost,
        "currency": location.currency,
        "tags": sorted(location.tags),
        "active": location.active,
        "reservation_hours": location.reservation_hours,
        "created_at": now,
        "updated_at": now,
    }


def from_row(row: Row[Any]) -> Location:
    return Location(
        code=row.code,
        name=row.name,
        kind=LocationKind(row.kind),
        point=GeoPoint(row.latitude, row.longitude),
        timezone=row.timezone,
        address=row.address,
        city=row.city,
        postal_code=row.postal_code,
        country=row.country,
        opening_hours=hours_from_json(row.opening_hours),
        capabilities=frozenset(Capability(c) for c in row.capabilities),
        daily_capacity=row.daily_capacity,
        preparation_minutes=row.preparation_minutes,
        handling_cost=row.handling_cost,
        currency=row.currency,
        tags=frozenset(row.tags),
        active=row.active,
        reservation_hours=row.reservation_hours,
    )


def upsert(conn: Connection, items: Iterable[Location], now: datetime) -> int:
    rows = [to_row(item, now) for item in items]
    if not rows:
        return 0
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(locations)
    updated = {k: stmt.excluded[k] for k in rows[0] if k not in ("code", "created_at")}
    conn.execute(stmt.on_conflict_do_update(index_elements=["code"], set_=updated), rows)
    return len(rows)


def get(conn: Connection, code: str) -> Location | None:
    row = conn.execute(select(locations).where(locations.c.code == code)).first()
    return from_row(row) if row else None


def page(
    conn: Connection, *, after: str | None, limit: int, kind: LocationKind | None = None
) -> list[Location]:
    query = select(locations).order_by(locations.c.code).limit(limit)
    if after is not None:
        query = query.where(locations.c.code > after)
    if kind is not None:
        query = query.where(locations.c.kind == kind.value)
    return [from_row(row) for row in conn.execute(query)]


def all_locations(conn: Connection) -> list[Location]:
    return [from_row(row) for row in conn.execute(select(locations).order_by(locations.c.code))]


def deactivate(conn: Connection, code: str, now: datetime) -> bool:
    result = conn.execute(
        locations.update().where(locations.c.code == code).values(active=False, updated_at=now)
    )
    return result.rowcount == 1
