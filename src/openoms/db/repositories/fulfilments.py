"""Fulfilments as a store's queue, their parcels and tracking events, store closures; and the
statements that move stock when a fulfilment leaves the shelf or is refused.

Stock statements are conditional updates, like `orders.reserve`: the check and the write are one
statement. Units that leave a shelf (`consume`, `write_off`) are also recorded as stock
movements with `last_movement_at`, so that a snapshot counted before they left nets them out
(docs/decisions/0003-snapshot-netting.md). Callers log the positions in stock_changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Row, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from openoms.db.repositories.holds import held_units
from openoms.db.repositories.offers import open_to as offers_open_to
from openoms.db.tables import (
    allocations,
    fulfilments,
    location_closures,
    order_lines,
    orders,
    parcels,
    stock_movements,
    stock_positions,
    tracking_events,
)

_p = stock_positions.c


def _later(column: Any, moment: datetime) -> Any:
    return case((column.is_(None), moment), (column < moment, moment), else_=column)


def movement_id(kind: str, fulfilment_id: str, sku: str) -> str:
    """One movement per (kind, fulfilment, sku), so that doing it twice records it once; the
    sku is hashed to keep within the 64 characters of a movement id."""
    digest = hashlib.sha256(sku.encode()).hexdigest()[: 64 - len(kind) - len(fulfilment_id) - 2]
    return f"{kind}:{fulfilment_id}:{digest}"


class Units(NamedTuple):
    """Units of a sku at a location."""

    location: str
    sku: str
    units: int


def _movement(
    conn: Connection, kind: str, fulfilment_id: str, held: Units, *, now: datetime
) -> None:
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(
        insert(stock_movements).on_conflict_do_nothing(),
        [
            {
                "movement_id": movement_id(kind, fulfilment_id, held.sku),
                "location_code": held.location,
                "sku_code": held.sku,
                "delta": -held.units,
                "reason": kind,
                "occurred_at": now,
                "received_at": now,
            }
        ],
    )


def consume(
    conn: Connection, fulfilment_id: str, held: Units, *, now: datetime, kind: str = "shipped"
) -> bool:
    """Units held for the fulfilment leave the shelf: on_hand and reserved both go down, and a
    movement of `kind` (shipped, transferred, collected) is recorded. False (no write) if the
    position does not hold them."""
    location, sku, units = held
    result = conn.execute(
        update(stock_positions)
        .where(
            _p.location_code == location,
            _p.sku_code == sku,
            _p.reserved >= units,
            _p.on_hand >= units,
        )
        .values(
            on_hand=_p.on_hand - units,
            reserved=_p.reserved - units,
            last_movement_at=_later(_p.last_movement_at, now),
        )
    )
    if result.rowcount != 1:
        return False
    _movement(conn, kind, fulfilment_id, held, now=now)
    return True


def write_off(conn: Connection, fulfilment_id: str, damaged: Units, *, now: datetime) -> None:
    """Damaged units leave the stock (on_hand never below zero), as a `damaged` movement."""
    location, sku, units = damaged
    conn.execute(
        update(stock_positions)
        .where(_p.location_code == location, _p.sku_code == sku)
        .values(
            on_hand=case((_p.on_hand > units, _p.on_hand - units), else_=0),
            last_movement_at=_later(_p.last_movement_at, now),
        )
    )
    _movement(conn, "damaged", fulfilment_id, damaged, now=now)


def set_on_hand(conn: Connection, location: str, sku: str, units: int, now: datetime) -> None:
    """What a store found on its shelf, until the next snapshot says otherwise: the count
    stands as a snapshot taken `now`, so a snapshot counted earlier but arriving later is
    older and ignored."""
    newer = case((_p.snapshot_as_of.is_(None), now), (_p.snapshot_as_of < now, now))
    conn.execute(
        update(stock_positions)
        .where(_p.location_code == location, _p.sku_code == sku)
        .values(on_hand=units, snapshot_as_of=func.coalesce(newer, _p.snapshot_as_of))
    )


def atp_by_location(
    conn: Connection, skus: Iterable[str], now: datetime
) -> dict[str, dict[str, int]]:
    """Positive ATP per location and sku, less the active holds at `now`, read in the
    caller's transaction (not the index)."""
    atp = (
        _p.on_hand - _p.reserved - _p.safety_stock - held_units(_p.location_code, _p.sku_code, now)
    )
    query = select(_p.location_code, _p.sku_code, atp).where(
        _p.sku_code.in_(sorted(set(skus))), atp > 0
    )
    found: dict[str, dict[str, int]] = {}
    for location, sku, atp in conn.execute(query):
        found.setdefault(location, {})[sku] = int(atp)
    return found


def find(conn: Connection, fulfilment_id: str) -> Row[Any] | None:
    return conn.execute(select(fulfilments).where(fulfilments.c.id == fulfilment_id)).first()


def page(
    conn: Connection,
    *,
    location: str | None,
    status: str | None,
    after: str | None,
    limit: int,
    channel: str | None = None,
) -> list[Row[Any]]:
    """Fulfilments by id (UUIDv7: oldest first), filtered."""
    f = fulfilments.c
    query = select(fulfilments).order_by(f.id).limit(limit)
    if channel is not None:
        query = query.join(orders, orders.c.id == f.order_id).where(orders.c.channel == channel)
    if location is not None:  # its own, and those offered to it
        query = query.where(or_(f.location_code == location, f.id.in_(offers_open_to(location))))
    if status is not None:
        query = query.where(f.status == status)
    if after is not None:
        query = query.where(f.id > after)
    return list(conn.execute(query))


def channel_of(conn: Connection, order_id: str) -> str | None:
    return conn.execute(select(orders.c.channel).where(orders.c.id == order_id)).scalar()


def set_line(
    conn: Connection,
    order_id: str,
    line_id: str,
    *,
    unallocated: int,
    reason: str | None,
    cancelled: int,
) -> None:
    ln = order_lines.c
    conn.execute(
        update(order_lines)
        .where(ln.order_id == order_id, ln.line_id == line_id)
        .values(unallocated=unallocated, unallocated_reason=reason, cancelled=cancelled)
    )


def allocations_of(conn: Connection, fulfilment_ids: Sequence[str]) -> list[Row[Any]]:
    a = allocations.c
    query = (
        select(allocations)
        .where(a.fulfilment_id.in_(list(fulfilment_ids)))
        .order_by(a.fulfilment_id, a.line_id)
    )
    return list(conn.execute(query))


def order_statuses(conn: Connection, order_ids: Iterable[str]) -> dict[str, str]:
    o = orders.c
    query = select(o.id, o.status).where(o.id.in_(sorted(set(order_ids))))
    return {row[0]: row[1] for row in conn.execute(query)}


class ParcelRow(NamedTuple):
    tracking_number: str
    carrier_service: str
    weight_g: int


def existing_parcels(conn: Connection, tracking_numbers: Sequence[str]) -> dict[str, Row[Any]]:
    c = parcels.c
    query = select(parcels).where(c.tracking_number.in_(list(tracking_numbers)))
    return {row.tracking_number: row for row in conn.execute(query)}


def add_parcels(
    conn: Connection, fulfilment_id: str, rows: Sequence[ParcelRow], now: datetime
) -> None:
    conn.execute(
        parcels.insert(),
        [
            {
                "tracking_number": row.tracking_number,
                "fulfilment_id": fulfilment_id,
                "carrier_service": row.carrier_service,
                "weight_g": row.weight_g,
                "status": "shipped",
                "status_at": now,
                "created_at": now,
            }
            for row in rows
        ],
    )


def parcels_of(conn: Connection, fulfilment_ids: Sequence[str]) -> list[Row[Any]]:
    c = parcels.c
    query = (
        select(parcels)
        .where(c.fulfilment_id.in_(list(fulfilment_ids)))
        .order_by(c.fulfilment_id, c.tracking_number)
    )
    return list(conn.execute(query))


def set_parcel_status(conn: Connection, tracking_number: str, status: str, at: datetime) -> None:
    c = parcels.c
    conn.execute(
        update(parcels)
        .where(c.tracking_number == tracking_number)
        .values(status=status, status_at=at)
    )


class TrackingRow(NamedTuple):
    tracking_number: str
    status: str
    at: datetime


def insert_new_tracking(
    conn: Connection, rows: Sequence[TrackingRow], now: datetime
) -> list[TrackingRow]:
    """Record tracking events; return those not received before (a replay is skipped)."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(tracking_events)
        .on_conflict_do_nothing()
        .returning(
            tracking_events.c.tracking_number, tracking_events.c.status, tracking_events.c.at
        )
    )
    new: list[TrackingRow] = []
    for row in rows:  # one by one: RETURNING of a multi-row insert has no guaranteed order
        result = conn.execute(statement, [{**row._asdict(), "received_at": now}]).first()
        if result is not None:
            new.append(row)
    return new


def close_location(conn: Connection, location: str, day: date, reason: str, now: datetime) -> None:
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(
        insert(location_closures).on_conflict_do_nothing(),
        [{"location_code": location, "day": day, "reason": reason, "created_at": now}],
    )


def closures_since(conn: Connection, day: date) -> list[tuple[str, date]]:
    """(location, local day) of closures from `day` on."""
    c = location_closures.c
    query = select(c.location_code, c.day).where(c.day >= day)
    return [(row[0], row[1]) for row in conn.execute(query)]
