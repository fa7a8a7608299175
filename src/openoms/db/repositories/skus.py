"""SKUs: rows <-> domain.catalog.Sku."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from openoms.db.tables import skus
from openoms.domain.catalog import Sku


def to_row(sku: Sku, now: datetime) -> dict[str, Any]:
    return {
        "code": sku.code,
        "name": sku.name,
        "category": sku.category,
        "weight_g": sku.weight_g,
        "length_mm": sku.length_mm,
        "width_mm": sku.width_mm,
        "height_mm": sku.height_mm,
        "price": sku.price,
        "currency": sku.currency,
        "barcode": sku.barcode,
        "tags": sorted(sku.tags),
        "created_at": now,
        "updated_at": now,
    }


def from_row(row: Row[Any]) -> Sku:
    return Sku(
        code=row.code,
        name=row.name,
        category=row.category,
        weight_g=row.weight_g,
        length_mm=row.length_mm,
        width_mm=row.width_mm,
        height_mm=row.height_mm,
        price=row.price,
        currency=row.currency,
        barcode=row.barcode,
        tags=frozenset(row.tags),
    )


def upsert(conn: Connection, items: Iterable[Sku], now: datetime) -> int:
    rows = [to_row(item, now) for item in items]
    if not rows:
        return 0
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(skus)
    updated = {k: stmt.excluded[k] for k in rows[0] if k not in ("code", "created_at")}
    conn.execute(stmt.on_conflict_do_update(index_elements=["code"], set_=updated), rows)
    return len(rows)


def get(conn: Connection, code: str) -> Sku | None:
    row = conn.execute(select(skus).where(skus.c.code == code)).first()
    return from_row(row) if row else None


def get_many(conn: Connection, codes: Sequence[str]) -> dict[str, Sku]:
    """The skus of `codes` that exist, by code."""
    rows = conn.execute(select(skus).where(skus.c.code.in_(list(codes)))).all()
    return {row.code: from_row(row) for row in rows}


def page(
    conn: Connection, *, after: str | None, limit: int, category: str | None = None
) -> list[Sku]:
    query = select(skus).order_by(skus.c.code).limit(limit)
    if after is not None:
        query = query.where(skus.c.code > after)
    if category is not None:
        query = query.where(skus.c.category == category)
    return [from_row(row) for row in conn.execute(query)]


def codes_after(conn: Connection, after: str, limit: int) -> list[str]:
    query = select(skus.c.code).where(skus.c.code > after).order_by(skus.c.code).limit(limit)
    return list(conn.execute(query).scalars())
