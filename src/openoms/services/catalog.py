"""SKUs: create, replace, read, list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from openoms.db.changes import bump_config
from openoms.db.repositories import skus as repo
from openoms.db.uow import Database
from openoms.domain.catalog import Sku
from openoms.errors import Conflict, NotFound


def upsert_skus(db: Database, items: Sequence[Sku], now: datetime) -> int:
    with db.write() as uow:
        count = repo.upsert(uow.conn, items, now)
        bump_config(uow.conn)
        uow.commit()
    return count


def create_sku(db: Database, sku: Sku, now: datetime) -> Sku:
    with db.write() as uow:
        if repo.get(uow.conn, sku.code) is not None:
            raise Conflict(f"sku {sku.code!r} already exists; PUT replaces it")
        repo.upsert(uow.conn, [sku], now)
        bump_config(uow.conn)
        uow.commit()
    return sku


def get_sku(db: Database, code: str) -> Sku:
    with db.read() as conn:
        sku = repo.get(conn, code)
    if sku is None:
        raise NotFound("sku", code)
    return sku


def list_skus(db: Database, *, after: str | None, limit: int, category: str | None) -> list[Sku]:
    with db.read() as conn:
        return repo.page(conn, after=after, limit=limit, category=category)
