"""Parcels labelled at pack and waiting for their pickup (the shipped ones: fulfilments.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Row, select, update

from openoms.db.tables import fulfilments, orders, parcels

LABELLED = "labelled"
SHIPPED = "shipped"
VOID = "void"

_p = parcels.c
_f = fulfilments.c


class LabelledRow(NamedTuple):
    tracking_number: str
    carrier_service: str
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    box: str | None


def add_labelled(
    conn: Connection, fulfilment_id: str, rows: Sequence[LabelledRow], now: datetime
) -> None:
    conn.execute(
        parcels.insert(),
        [
            {
                **row._asdict(),
                "fulfilment_id": fulfilment_id,
                "status": LABELLED,
                "status_at": now,
                "created_at": now,
                "pickup_id": None,
            }
            for row in rows
        ],
    )


def of_fulfilment(conn: Connection, fulfilment_id: str) -> list[Row[Any]]:
    """Its parcels in the order they were labelled: parcel 1 of n first."""
    query = (
        select(parcels)
        .where(_p.fulfilment_id == fulfilment_id)
        .order_by(_p.created_at, _p.tracking_number)
    )
    return list(conn.execute(query))


def find(conn: Connection, tracking_number: str) -> Row[Any] | None:
    return conn.execute(select(parcels).where(_p.tracking_number == tracking_number)).first()


_WAITING = (
    select(parcels, _f.location_code, _f.order_id)
    .join(fulfilments, _f.id == _p.fulfilment_id)
    .where(_p.status == LABELLED, _f.status == "packed")
)


def waiting(
    conn: Connection,
    *,
    location: str | None = None,
    service_codes: Sequence[str] | None = None,
    unbooked: bool = False,
) -> list[Row[Any]]:
    """Labelled parcels of packed fulfilments (at `location`, of these services, not yet in a
    pickup if `unbooked`), with their location and order, oldest first."""
    query = _WAITING
    if location is not None:
        query = query.where(_f.location_code == location)
    if service_codes is not None:
        query = query.where(_p.carrier_service.in_(list(service_codes)))
    if unbooked:
        query = query.where(_p.pickup_id.is_(None))
    return list(conn.execute(query.order_by(_p.created_at, _p.tracking_number)))


def of_pickup(conn: Connection, pickup_id: str) -> list[Row[Any]]:
    """Its parcels with their fulfilment's location, status and order, by order then number."""
    query = (
        select(parcels, _f.location_code, _f.order_id, _f.status.label("fulfilment_status"))
        .join(fulfilments, _f.id == _p.fulfilment_id)
        .where(_p.pickup_id == pickup_id)
        .order_by(_f.order_id, _p.created_at, _p.tracking_number)
    )
    return list(conn.execute(query))


def join_pickup(conn: Connection, tracking_numbers: Sequence[str], pickup_id: str) -> None:
    conn.execute(
        update(parcels)
        .where(_p.tracking_number.in_(list(tracking_numbers)), _p.pickup_id.is_(None))
        .values(pickup_id=pickup_id)
    )


def leave_labelled(
    conn: Connection, tracking_numbers: Sequence[str], status: str, at: datetime
) -> None:
    """Those still `labelled` become `status`: one the carrier scanned already keeps its own."""
    conn.execute(
        update(parcels)
        .where(_p.tracking_number.in_(list(tracking_numbers)), _p.status == LABELLED)
        .values(status=status, status_at=at)
    )


def order_of(conn: Connection, order_id: str) -> Row[Any]:
    """The order of a parcel: who gets it and where it goes."""
    row = conn.execute(select(orders).where(orders.c.id == order_id)).first()
    assert row is not None, f"order {order_id} of a parcel is gone"
    return row
