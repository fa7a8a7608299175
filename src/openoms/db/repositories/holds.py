"""Holds of a basket's units during payment, and the units they keep from ATP.

A hold counts while `state = 'active' AND expires_at > now`: expiry is a matter of time, so
the stock comes back by itself with no job and no write. Every statement that checks ATP
(`orders.reserve`, `held_atp`, `fulfilments.atp_by_location`) subtracts `HELD_UNITS` of the
position, given the `now` of the request. E-reservations keep units the same way
(db/repositories/reservations.py): `held_units` and `active` count theirs too, so that every
one of those checks leaves them out with no change of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Connection,
    Row,
    and_,
    bindparam,
    func,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from openoms.db.repositories import reservations
from openoms.db.tables import hold_lines, holds, stock_positions

ACTIVE = "active"
CONVERTED = "converted"
RELEASED = "released"

_h = holds.c
_l = hold_lines.c
_p = stock_positions.c


def held_units(
    location: ColumnElement[Any], sku: ColumnElement[Any], now: Any, own_hold: Any = None
) -> ColumnElement[int]:
    """Units of the position's active holds not expired at `now`, `own_hold` left out, and of
    its e-reservations still holding at `now`: to subtract from on_hand - reserved -
    safety_stock."""
    where = [
        _l.location_code == location,
        _l.sku_code == sku,
        _h.state == ACTIVE,
        _h.expires_at > now,
    ]
    if own_hold is not None:
        where.append(_h.id != own_hold)
    held = (
        select(func.coalesce(func.sum(_l.units), 0))
        .select_from(hold_lines.join(holds, _h.id == _l.hold_id))
        .where(*where)
        .scalar_subquery()
    )
    return held + reservations.reserved_units(location, sku, now)  # type: ignore[no-any-return]


def lock_positions(conn: Connection, keys: Sequence[tuple[str, str]]) -> None:
    """PostgreSQL: the positions locked in key order (SQLite: the write lock covers them)."""
    if keys and conn.dialect.name == "postgresql":
        conn.execute(
            select(_p.location_code)
            .where(tuple_(_p.location_code, _p.sku_code).in_(sorted(keys)))
            .order_by(_p.location_code, _p.sku_code)
            .with_for_update()
        )


def atp_now(
    conn: Connection, keys: Iterable[tuple[str, str]], now: datetime
) -> dict[tuple[str, str], int]:
    """ATP of the positions, the active holds taken off, read in the caller's transaction."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    held = held_units(_p.location_code, _p.sku_code, now)
    query = select(
        _p.location_code, _p.sku_code, _p.on_hand - _p.reserved - _p.safety_stock - held
    ).where(tuple_(_p.location_code, _p.sku_code).in_(wanted))
    return {(row[0], row[1]): int(row[2]) for row in conn.execute(query)}


def insert(conn: Connection, hold: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> None:
    conn.execute(holds.insert(), [dict(hold)])
    conn.execute(hold_lines.insert(), [dict(line) for line in lines])


def find(conn: Connection, hold_id: str) -> tuple[Row[Any], list[Row[Any]]] | None:
    row = conn.execute(select(holds).where(_h.id == hold_id)).first()
    if row is None:
        return None
    lines = conn.execute(
        select(hold_lines).where(_l.hold_id == hold_id).order_by(_l.line_id, _l.location_code)
    )
    return row, list(lines)


def close(
    conn: Connection, hold_id: str, state: str, now: datetime, order_id: str | None = None
) -> bool:
    """An active, unexpired hold converted or released; False if it was not (any more)."""
    result = conn.execute(
        update(holds)
        .where(_h.id == hold_id, _h.state == ACTIVE, _h.expires_at > now)
        .values(state=state, order_id=order_id)
    )
    return result.rowcount == 1


_AFTER = bindparam("after", type_=holds.c.expires_at.type)
_ACTIVE: CompoundSelect[str, str, datetime, int] = union_all(
    select(_l.location_code, _l.sku_code, _h.expires_at, func.sum(_l.units))
    .select_from(hold_lines.join(holds, _h.id == _l.hold_id))
    .where(and_(_h.state == ACTIVE, _h.expires_at > _AFTER))
    .group_by(_l.location_code, _l.sku_code, _h.expires_at),
    reservations.active_query(_AFTER),
)
"""Built once: every catch-up of the availability index that saw a change sends it."""


def active(conn: Connection, after: datetime) -> list[tuple[str, str, datetime, int]]:
    """(location, sku, expires_at, units) of active holds and holding e-reservations expiring
    after `after`: one statement for both."""
    rows = conn.execute(_ACTIVE, {"after": after})
    return [(row[0], row[1], row[2], int(row[3])) for row in rows]
