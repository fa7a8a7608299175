"""Which of the given retailer codes exist: the check every bulk feed runs before writing."""

from __future__ import annotations

from collections.abc import Collection, Iterator

from sqlalchemy import Column, Connection, Table, select

CHUNK = 5000


def chunks(items: list[str], size: int = CHUNK) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def existing_codes(conn: Connection, table: Table, codes: Collection[str]) -> set[str]:
    key: Column[str] = table.c.code
    found: set[str] = set()
    for chunk in chunks(sorted(set(codes))):
        found.update(conn.execute(select(key).where(key.in_(chunk))).scalars())
    return found
