"""Carrier tracking: events for parcels, applied in one transaction per batch.

A batch is checked whole first (one unknown parcel refuses it, nothing applied); a parcel's
status becomes its latest event's, and delivered is final; a fulfilment whose parcels have all
arrived moves to `delivered` by the same transition as the endpoint's. A replay (same parcel,
status and time) changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row

from openoms.db import changes
from openoms.db.repositories import events as events_repo
from openoms.db.repositories import fulfilments as repo
from openoms.db.repositories.fulfilments import TrackingRow
from openoms.db.uow import Database
from openoms.domain.fulfilments import Actor, FulfilmentStatus, Transition
from openoms.errors import NotFound
from openoms.services.fulfilment import Caller, TrackingStatus, apply_transition, begin_step
from openoms.services.order_change import finish_change


class UnknownParcels(NotFound):
    """A tracking batch naming parcels we never shipped: refused whole, nothing applied."""

    code = "unknown_parcel"

    def __init__(self, tracking_numbers: Sequence[str]) -> None:
        super().__init__("parcel", ", ".join(tracking_numbers))
        self.tracking_numbers = tuple(tracking_numbers)
        self.detail = (
            f"unknown parcels: {', '.join(tracking_numbers)}; nothing of the batch was applied"
        )


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    tracking_number: str
    status: TrackingStatus
    at: datetime


@dataclass(frozen=True, slots=True)
class TrackingReport:
    received: int
    applied: int
    replayed: int
    """Received before: a replay changes nothing."""
    delivered: tuple[str, ...]
    """Fulfilments that these events moved to `delivered` (all their parcels arrived)."""


def record_tracking(
    db: Database, batch: Sequence[TrackingEvent], *, now: datetime
) -> TrackingReport:
    """Carrier events, checked whole first: one unknown parcel refuses the batch (404 naming
    each). A parcel delivered is final; a fulfilment whose parcels are all delivered moves to
    `delivered`. An event received before (same parcel, status and time) changes nothing."""
    rows = list(dict.fromkeys(TrackingRow(e.tracking_number, e.status.value, e.at) for e in batch))
    numbers = sorted({row.tracking_number for row in rows})
    with db.write() as uow:
        conn = uow.conn
        known = repo.existing_parcels(conn, numbers)
        unknown = [number for number in numbers if number not in known]
        if unknown:
            raise UnknownParcels(unknown)
        new = repo.insert_new_tracking(conn, rows, now)
        arrived = _apply_tracking(conn, known, new)
        stamp = changes.stamp(conn)
        _parcel_events(conn, known, new, stamp, now)
        delivered = []
        by_order = sorted((repo.find(conn, f_id) for f_id in arrived), key=_order_key)
        for row in by_order:
            if row is None or FulfilmentStatus(row.status) is not FulfilmentStatus.SHIPPED:
                continue
            states = {p.status for p in repo.parcels_of(conn, [row.id])}
            if states != {TrackingStatus.DELIVERED.value}:
                continue
            step = begin_step(
                conn, stamp, row.id, Transition.DELIVER, caller=Caller(Actor.CARRIER), now=now
            )
            apply_transition(step)
            finish_change(step)
            delivered.append(row.id)
        uow.commit()
    return TrackingReport(
        received=len(batch),
        applied=len(new),
        replayed=len(batch) - len(new),
        delivered=tuple(delivered),
    )


def _order_key(row: Row[Any] | None) -> tuple[str, str]:
    return (row.order_id, row.id) if row is not None else ("", "")


def _apply_tracking(
    conn: Connection, known: Mapping[str, Row[Any]], new: Sequence[TrackingRow]
) -> set[str]:
    """Each parcel's status becomes its latest event's; delivered stays. Returns the
    fulfilments with a parcel delivered by these events."""
    state = {number: (row.status, row.status_at) for number, row in known.items()}
    arrived: set[str] = set()
    for event in sorted(new, key=lambda e: e.at):
        status, at = state[event.tracking_number]
        if status == TrackingStatus.DELIVERED:
            continue
        if event.status == TrackingStatus.DELIVERED or event.at >= at:
            state[event.tracking_number] = (event.status, event.at)
            repo.set_parcel_status(conn, event.tracking_number, event.status, event.at)
            if event.status == TrackingStatus.DELIVERED:
                arrived.add(known[event.tracking_number].fulfilment_id)
    return arrived


def _parcel_events(
    conn: Connection,
    known: Mapping[str, Row[Any]],
    new: Sequence[TrackingRow],
    stamp: int,
    now: datetime,
) -> None:
    owners = {row.fulfilment_id: repo.find(conn, row.fulfilment_id) for row in known.values()}
    rows = []
    for event in new:
        fulfilment = owners[known[event.tracking_number].fulfilment_id]
        assert fulfilment is not None
        rows.append(
            {
                "order_id": fulfilment.order_id,
                "fulfilment_id": fulfilment.id,
                "type": f"parcel.{event.status}",
                "payload": {
                    "order_id": fulfilment.order_id,
                    "fulfilment_id": fulfilment.id,
                    "tracking_number": event.tracking_number,
                    "status": event.status,
                    "at": event.at.isoformat(),
                },
            }
        )
    events_repo.append(conn, rows, stamp, now)
