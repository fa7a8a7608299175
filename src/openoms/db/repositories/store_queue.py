"""What a store's queue shows besides the fulfilments: their orders' method and promise."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Row, select

from openoms.db.tables import orders


def orders_by_id(conn: Connection, order_ids: Iterable[str]) -> dict[str, Row[Any]]:
    o = orders.c
    query = select(orders).where(o.id.in_(sorted(set(order_ids))))
    return {row.id: row for row in conn.execute(query)}
