"""Offers of broadcast fulfilments to stores, by waves."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select, update

from openoms.db.tables import offers

OPEN = "open"
CLAIMED = "claimed"
WITHDRAWN = "withdrawn"
EXPIRED = "expired"

_o = offers.c


def add_wave(
    conn: Connection,
    fulfilment_id: str,
    locations: Sequence[str],
    *,
    wave: int,
    now: datetime,
    expires_at: datetime,
) -> None:
    conn.execute(
        offers.insert(),
        [
            {
                "fulfilment_id": fulfilment_id,
                "location_code": location,
                "wave": wave,
                "offered_at": now,
                "expires_at": expires_at,
                "state": OPEN,
            }
            for location in locations
        ],
    )


def of_fulfilment(conn: Connection, fulfilment_id: str) -> list[Row[Any]]:
    query = select(offers).where(_o.fulfilment_id == fulfilment_id).order_by(_o.wave, _o.offered_at)
    return list(conn.execute(query))


def open_of(conn: Connection, fulfilment_ids: Sequence[str]) -> list[Row[Any]]:
    query = select(offers).where(_o.fulfilment_id.in_(fulfilment_ids), _o.state == OPEN)
    return list(conn.execute(query))


def is_open_to(conn: Connection, fulfilment_id: str, location: str) -> bool:
    query = select(_o.wave).where(
        _o.fulfilment_id == fulfilment_id, _o.location_code == location, _o.state == OPEN
    )
    return conn.execute(query).first() is not None


def open_to(location: str) -> Any:
    """The ids of the fulfilments with an open offer to `location` (a subquery)."""
    return select(_o.fulfilment_id).where(_o.location_code == location, _o.state == OPEN)


def close(conn: Connection, fulfilment_id: str, location: str | None, state: str) -> list[str]:
    """Close the open offers of the fulfilment (one location's, or all): the locations closed."""
    query = select(_o.location_code).where(_o.fulfilment_id == fulfilment_id, _o.state == OPEN)
    if location is not None:
        query = query.where(_o.location_code == location)
    closed = sorted(conn.execute(query).scalars())
    if closed:
        conn.execute(
            update(offers)
            .where(
                _o.fulfilment_id == fulfilment_id,
                _o.state == OPEN,
                _o.location_code.in_(closed),
            )
            .values(state=state)
        )
    return closed
