"""Locations: create, replace, read, list, deactivate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from openoms.db.changes import bump_config
from openoms.db.repositories import locations as repo
from openoms.db.uow import Database
from openoms.domain.network import Location, LocationKind
from openoms.errors import Conflict, NotFound


def upsert_locations(db: Database, items: Sequence[Location], now: datetime) -> int:
    with db.write() as uow:
        count = repo.upsert(uow.conn, items, now)
        bump_config(uow.conn)
        uow.commit()
    return count


def create_location(db: Database, location: Location, now: datetime) -> Location:
    with db.write() as uow:
        if repo.get(uow.conn, location.code) is not None:
            raise Conflict(f"location {location.code!r} already exists; PUT replaces it")
        repo.upsert(uow.conn, [location], now)
        bump_config(uow.conn)
        uow.commit()
    return location


def get_location(db: Database, code: str) -> Location:
    with db.read() as conn:
        location = repo.get(conn, code)
    if location is None:
        raise NotFound("location", code)
    return location


def list_locations(
    db: Database, *, after: str | None, limit: int, kind: LocationKind | None
) -> list[Location]:
    with db.read() as conn:
        return repo.page(conn, after=after, limit=limit, kind=kind)


def deactivate_location(db: Database, code: str, now: datetime) -> None:
    """Locations are never deleted: stock, orders and history point at them."""
    with db.write() as uow:
        if not repo.deactivate(uow.conn, code, now):
            raise NotFound("location", code)
        bump_config(uow.conn)
        uow.commit()
