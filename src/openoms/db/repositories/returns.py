"""Returns: the request, its lines, what the inspection found; the returned units of a line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, or_, select, update

from openoms.db.tables import locations, order_lines, orders, return_items, return_lines, returns
from openoms.domain.network import LocationKind
from openoms.domain.returns import ReturnStatus

_r = returns.c
_l = return_lines.c
_i = return_items.c


@dataclass(frozen=True, slots=True)
class ReturnRows:
    row: Row[Any]
    lines: list[Row[Any]]
    items: list[Row[Any]]
    channel: str
    """The channel of the order returned."""


def insert(
    conn: Connection, request: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]
) -> None:
    conn.execute(returns.insert(), [dict(request)])
    conn.execute(return_lines.insert(), [dict(line) for line in lines])


def find(conn: Connection, return_id: str) -> ReturnRows | None:
    found = conn.execute(
        select(returns, orders.c.channel)
        .join_from(returns, orders, orders.c.id == _r.order_id)
        .where(_r.id == return_id)
    ).first()
    if found is None:
        return None
    lines = conn.execute(select(return_lines).where(_l.return_id == return_id).order_by(_l.line_id))
    items = conn.execute(select(return_items).where(_i.return_id == return_id).order_by(_i.seq))
    return ReturnRows(found, list(lines), list(items), found.channel)


def find_by_key(conn: Connection, order_id: str, key: str) -> tuple[str, str] | None:
    """(id, request hash) of the return asked with this idempotency key, if any."""
    row = conn.execute(
        select(_r.id, _r.request_hash).where(_r.order_id == order_id, _r.idempotency_key == key)
    ).first()
    return (row[0], row[1]) if row else None


def pending_units(conn: Connection, order_id: str) -> dict[str, int]:
    """Units per line of the order's returns asked for and not received yet."""
    query = (
        select(_l.line_id, func.sum(_l.units))
        .join_from(return_lines, returns, _r.id == _l.return_id)
        .where(_r.order_id == order_id, _r.state == ReturnStatus.REQUESTED.value)
        .group_by(_l.line_id)
    )
    return {row[0]: int(row[1]) for row in conn.execute(query)}


def mark_received(
    conn: Connection, return_id: str, *, location: str, now: datetime, refund: int, fee: int
) -> bool:
    """A requested return received; False (no write) if it was received meanwhile."""
    result = conn.execute(
        update(returns)
        .where(_r.id == return_id, _r.state == ReturnStatus.REQUESTED.value)
        .values(
            state=ReturnStatus.RECEIVED.value,
            received_at=now,
            received_location=location,
            refund_amount=refund,
            fee=fee,
        )
    )
    return result.rowcount == 1


def add_items(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    conn.execute(return_items.insert(), [dict(row) for row in rows])


def add_returned(conn: Connection, order_id: str, line_id: str, units: int) -> None:
    ln = order_lines.c
    conn.execute(
        update(order_lines)
        .where(ln.order_id == order_id, ln.line_id == line_id)
        .values(returned=ln.returned + units)
    )


def second_hand_hub(conn: Connection) -> str | None:
    """The active second-hand hub (the first by code, if the network has several)."""
    c = locations.c
    query = (
        select(c.code)
        .where(c.kind == LocationKind.SECOND_HAND.value, c.active.is_(True))
        .order_by(c.code)
        .limit(1)
    )
    return conn.execute(query).scalar()


def page(
    conn: Connection,
    *,
    order_id: str | None,
    location: str | None,
    status: ReturnStatus | None,
    channel: str | None,
    after: str | None,
    limit: int,
) -> list[str]:
    """Ids of returns by id (creation order), filtered; `location`: to be or received there."""
    query = (
        select(_r.id)
        .join_from(returns, orders, orders.c.id == _r.order_id)
        .order_by(_r.id)
        .limit(limit)
    )
    if order_id is not None:
        query = query.where(_r.order_id == order_id)
    if location is not None:
        query = query.where(or_(_r.location_code == location, _r.received_location == location))
    if status is not None:
        query = query.where(_r.state == status.value)
    if channel is not None:
        query = query.where(orders.c.channel == channel)
    if after is not None:
        query = query.where(_r.id > after)
    return list(conn.execute(query).scalars())
