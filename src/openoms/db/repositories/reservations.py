"""E-reservations and the units they keep from ATP.

A reservation keeps its units while its state is open or set_aside and `expires_at` is ahead of
the `now` of the statement: `reserved_units` is the scalar subquery that `holds.held_units`
adds to the holds', so every ATP check (order placement, holds, claims, the availability
index) leaves them out, and they come back at `expires_at` by time alone. Its lines carry
`holding_until` (the expiry while it holds, null once it ended) so that the check reads one
table: a join with `reservations` made each conditional reserve on PostgreSQL ~95 us slower
(most of it planning), this ~37 us (medians, one position, interleaved, rolled back).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, and_, func, or_, select, text, update
from sqlalchemy.sql.elements import ColumnElement

from openoms.db.tables import reservation_lines, reservations
from openoms.domain.reservations import ReservationStatus, holds_units

HOLDING = tuple(status.value for status in ReservationStatus if holds_units(status))
"""The stored states in which a reservation keeps its units (until it expires)."""

_r = reservations.c
_l = reservation_lines.c


def reserved_units(location: ColumnElement[Any], sku: ColumnElement[Any], now: Any) -> Any:
    """Units of the position's reservations still holding at `now`: a scalar subquery."""
    return (
        select(func.coalesce(func.sum(_l.units), 0))
        .where(_l.location_code == location, _l.sku_code == sku, _l.holding_until > now)
        .scalar_subquery()
    )


def active_query(after: ColumnElement[datetime]) -> Select[str, str, datetime, int]:
    """(location, sku, expires_at, units) of reservations holding and expiring after `after`
    (a bound parameter: `holds.active` sends this with the holds' own, in one statement)."""
    return (
        select(_l.location_code, _l.sku_code, _l.holding_until, func.sum(_l.units))
        .where(_l.holding_until > after)
        .group_by(_l.location_code, _l.sku_code, _l.holding_until)
    )


def lock_customer(conn: Connection, customer_key: str) -> None:
    """PostgreSQL: one customer's reservations are made one at a time (a transaction-scoped
    advisory lock), so that two at once cannot both pass the limits. SQLite: the write lock."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": customer_key})


def customer_holding(
    conn: Connection, customer_key: str, now: datetime
) -> tuple[int, dict[str, int]]:
    """How many reservations the customer has holding at `now`, and their units per sku."""
    holding = [_r.customer_key == customer_key, _r.state.in_(HOLDING), _r.expires_at > now]
    count = conn.execute(select(func.count()).select_from(reservations).where(*holding))
    units = conn.execute(
        select(_l.sku_code, func.sum(_l.units))
        .select_from(reservation_lines.join(reservations, _r.id == _l.reservation_id))
        .where(*holding)
        .group_by(_l.sku_code)
    )
    return int(count.scalar_one()), {row[0]: int(row[1]) for row in units}


def insert(
    conn: Connection, reservation: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]
) -> None:
    conn.execute(reservations.insert(), [dict(reservation)])
    conn.execute(reservation_lines.insert(), [dict(line) for line in lines])


def find(conn: Connection, reservation_id: str) -> tuple[Row[Any], list[Row[Any]]] | None:
    row = conn.execute(select(reservations).where(_r.id == reservation_id)).first()
    if row is None:
        return None
    lines = conn.execute(
        select(reservation_lines).where(_l.reservation_id == reservation_id).order_by(_l.line_id)
    )
    return row, list(lines)


def find_by_key(conn: Connection, channel: str, key: str) -> tuple[str, str] | None:
    """(id, request hash) of the reservation made with this idempotency key, if any."""
    row = conn.execute(
        select(_r.id, _r.request_hash).where(_r.channel == channel, _r.idempotency_key == key)
    ).first()
    return (row[0], row[1]) if row else None


def set_state(
    conn: Connection,
    reservation_id: str,
    *,
    was: str,
    becomes: str,
    now: datetime,
    unexpired: bool,
) -> bool:
    """Move the reservation from `was` to `becomes`; `unexpired`: only if it has not expired
    at `now`. False (no write) if it changed meanwhile. Its lines stop holding if it ended."""
    where = [_r.id == reservation_id, _r.state == was]
    if unexpired:
        where.append(_r.expires_at > now)
    result = conn.execute(update(reservations).where(*where).values(state=becomes, updated_at=now))
    if result.rowcount != 1:
        return False
    if becomes not in HOLDING:
        conn.execute(
            update(reservation_lines)
            .where(_l.reservation_id == reservation_id)
            .values(holding_until=None)
        )
    return True


def page(
    conn: Connection,
    *,
    now: datetime,
    location: str | None,
    status: ReservationStatus | None,
    channel: str | None,
    after: str | None,
    limit: int,
) -> list[tuple[Row[Any], list[Row[Any]]]]:
    """Reservations by id (creation order), filtered; `status` as of `now` (an expired one may
    still be stored as open)."""
    query = select(reservations).order_by(_r.id).limit(limit)
    if location is not None:
        query = query.where(_r.location_code == location)
    if channel is not None:
        query = query.where(_r.channel == channel)
    if after is not None:
        query = query.where(_r.id > after)
    if status is ReservationStatus.EXPIRED:
        query = query.where(
            or_(_r.state == status.value, and_(_r.state.in_(HOLDING), _r.expires_at <= now))
        )
    elif status is not None and status.value in HOLDING:
        query = query.where(_r.state == status.value, _r.expires_at > now)
    elif status is not None:
        query = query.where(_r.state == status.value)
    found = list(conn.execute(query))
    lines: dict[str, list[Row[Any]]] = {row.id: [] for row in found}
    if found:
        for line in conn.execute(
            select(reservation_lines)
            .where(_l.reservation_id.in_(list(lines)))
            .order_by(_l.reservation_id, _l.line_id)
        ):
            lines[line.reservation_id].append(line)
    return [(row, lines[row.id]) for row in found]
