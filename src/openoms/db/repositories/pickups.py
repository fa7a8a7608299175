"""Carrier pickups. One booked pickup per (location, carrier) at a time, by a partial unique
index: of two transactions booking the same one, the second's insert fails and it joins the
first's. Every change is a conditional update on the row, so changes of one pickup queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select, update

from openoms.db.tables import pickups

BOOKED = "booked"
HANDED_OVER = "handed_over"

_k = pickups.c


def find(conn: Connection, pickup_id: str) -> Row[Any] | None:
    return conn.execute(select(pickups).where(_k.id == pickup_id)).first()


def booked(conn: Connection, location: str, carrier: str) -> Row[Any] | None:
    query = select(pickups).where(
        _k.location_code == location, _k.carrier == carrier, _k.state == BOOKED
    )
    return conn.execute(query).first()


def insert(
    conn: Connection,
    *,
    pickup_id: str,
    location: str,
    carrier: str,
    collect_at: datetime,
    booked_by: str,
    now: datetime,
) -> None:
    conn.execute(
        pickups.insert().values(
            id=pickup_id,
            location_code=location,
            carrier=carrier,
            state=BOOKED,
            collect_at=collect_at,
            booked_by=booked_by,
            version=1,
            booked_at=now,
        )
    )


def touch(conn: Connection, pickup_id: str, collect_at: datetime) -> bool:
    """Locks a booked pickup (parcels are joining it, for the collection at `collect_at`);
    False once it was handed over."""
    result = conn.execute(
        update(pickups)
        .where(_k.id == pickup_id, _k.state == BOOKED)
        .values(version=_k.version + 1, collect_at=collect_at)
    )
    return result.rowcount == 1


def hand_over(conn: Connection, pickup_id: str, now: datetime) -> bool:
    """booked -> handed_over; False if it was not booked (any more): the other one won."""
    result = conn.execute(
        update(pickups)
        .where(_k.id == pickup_id, _k.state == BOOKED)
        .values(state=HANDED_OVER, handed_over_at=now, version=_k.version + 1)
    )
    return result.rowcount == 1


def page(
    conn: Connection,
    *,
    location: str | None,
    carrier: str | None,
    state: str | None,
    after: str | None,
    limit: int,
) -> list[Row[Any]]:
    query = select(pickups)
    if location is not None:
        query = query.where(_k.location_code == location)
    if carrier is not None:
        query = query.where(_k.carrier == carrier)
    if state is not None:
        query = query.where(_k.state == state)
    if after is not None:
        query = query.where(_k.id > after)
    return list(conn.execute(query.order_by(_k.id).limit(limit)))
