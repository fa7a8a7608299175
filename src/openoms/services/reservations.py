"""E-reservations: a customer reserves units at a store, pays at the till or not at all.

Making one is one transaction: the idempotency key looked up, the customer's reservations
counted against the limits (one customer at a time: `lock_customer`), the positions locked
(`FOR UPDATE` on PostgreSQL, the write lock on SQLite) and checked against ATP less holds and
other reservations, the reservation inserted. Its units then count against ATP everywhere
(db/repositories/reservations.py) until it is converted, cancelled or expires: expiry is a
matter of time, and the `reservation_expiry` job only writes it down and emits the event.

Converting is a sale at the store: the reservation stops holding and a `sale` movement takes
its units off on_hand, in one transaction, so ATP does not move. Every change records the
positions in the change log (every process's availability index reads the reservations again)
and an event in the outbox.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row
from sqlalchemy.exc import IntegrityError
from uuid6 import uuid7

from openoms.db import changes
from openoms.db.repositories import events as events_repo
from openoms.db.repositories import holds as holds_repo
from openoms.db.repositories import jobs as jobs_repo
from openoms.db.repositories import locations as locations_repo
from openoms.db.repositories import reservations as repo
from openoms.db.repositories import stock_changes
from openoms.db.repositories.codes import existing_codes
from openoms.db.repositories.fulfilments import movement_id
from openoms.db.repositories.stock import MovementRow
from openoms.db.tables import channels, skus
from openoms.db.uow import Database
from openoms.domain.network import Capability, LocationKind
from openoms.domain.reservations import (
    IllegalReservationTransition,
    ReservationAction,
    ReservationLimitExceeded,
    ReservationLimits,
    ReservationStatus,
    check_limits,
    expiry,
    next_status,
    status_at,
)
from openoms.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from openoms.services import drift
from openoms.services.ordering import DecisionRecorder, IdempotencyKeyReused
from openoms.services.sourcing_view import SourcingView
from openoms.services.stock import apply_movements

RESERVATION_EXPIRY = "reservation_expiry"
SALE = "sale"


class ReservationDoesNotFit(Conflict):
    code = "reservation_does_not_fit"
    title = "Not enough units at the store to reserve"


class ReservationLimitReached(Conflict):
    code = "reservation_limit_exceeded"
    title = "The customer's reservations are at their limit"


class ReservationTransitionRefused(Conflict):
    code = "illegal_transition"
    title = "Illegal transition"


@dataclass(frozen=True, slots=True)
class ReservedLine:
    line_id: str
    sku: str
    units: int


@dataclass(frozen=True, slots=True)
class ReservationRequest:
    channel: str
    location: str
    customer_name: str
    customer_email: str
    lines: tuple[ReservedLine, ...]
    idempotency_key: str
    request_hash: str


@dataclass(frozen=True, slots=True)
class ReservationView:
    id: str
    channel: str
    location: str
    customer: dict[str, Any]
    status: ReservationStatus
    """As of the reading's `now`: one past its `expires_at` reads expired."""
    created_at: datetime
    expires_at: datetime
    updated_at: datetime
    lines: tuple[ReservedLine, ...]


@dataclass(frozen=True, slots=True)
class Made:
    reservation: ReservationView
    created: bool
    """False when the idempotency key had made it already: nothing new was written."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose reservations a caller sees and acts on: a store key its location's, a channel
    key scoped to a channel that channel's (None: no restriction)."""

    location: str | None = None
    channel: str | None = None


def customer_key(email: str) -> str:
    return email.strip().lower()


def create_reservation(
    db: Database,
    view: SourcingView,
    request: ReservationRequest,
    *,
    limits: ReservationLimits,
    now: datetime,
) -> Made:
    try:
        made = _create(db, request, limits=limits, now=now)
    except IntegrityError:  # the same key, made meanwhile by a concurrent retry
        replay = _replay(db, request, now)
        if replay is None:
            raise
        return replay
    if made.created:
        view.index.mark_stale()
    return made


def _create(
    db: Database, request: ReservationRequest, *, limits: ReservationLimits, now: datetime
) -> Made:
    wanted: dict[str, int] = defaultdict(int)
    for line in request.lines:
        wanted[line.sku] += line.units
    with db.write() as uow:
        conn = uow.conn
        replay = _replay_in(conn, request, now)
        if replay is not None:
            return replay
        hours = _check_request(conn, request)
        key = customer_key(request.customer_email)
        repo.lock_customer(conn, key)
        open_count, open_units = repo.customer_holding(conn, key, now)
        try:
            check_limits(limits, open_reservations=open_count, open_units=open_units, wanted=wanted)
        except ReservationLimitExceeded as error:
            raise ReservationLimitReached(str(error)) from error
        keys = sorted((request.location, sku) for sku in wanted)
        holds_repo.lock_positions(conn, keys)
        atp = holds_repo.atp_now(conn, keys, now)
        short = sorted(
            sku for sku, units in wanted.items() if atp.get((request.location, sku), 0) < units
        )
        if short:
            named = [line.line_id for line in request.lines if line.sku in short]
            raise ReservationDoesNotFit(
                f"lines {', '.join(named)}: not enough units at {request.location} now"
                f" (skus {', '.join(short)}): nothing is reserved"
            )
        reservation_id = str(uuid7())
        expires_at = expiry(now, hours)
        repo.insert(
            conn,
            {
                "id": reservation_id,
                "channel": request.channel,
                "location_code": request.location,
                "customer_key": key,
                "customer": {"name": request.customer_name, "email": request.customer_email},
                "state": ReservationStatus.OPEN.value,
                "idempotency_key": request.idempotency_key,
                "request_hash": request.request_hash,
                "created_at": now,
                "expires_at": expires_at,
                "updated_at": now,
            },
            [
                {
                    "reservation_id": reservation_id,
                    "line_id": line.line_id,
                    "location_code": request.location,
                    "sku_code": line.sku,
                    "units": line.units,
                    "holding_until": expires_at,
                }
                for line in request.lines
            ],
        )
        stamp = changes.stamp(conn)
        stock_changes.record(conn, keys, stamp, now)
        jobs_repo.schedule(conn, RESERVATION_EXPIRY, reservation_id, expires_at, now)
        found = _read(conn, reservation_id, now)
        events_repo.append(conn, [_event("reservation.created", found)], stamp, now)
        uow.commit()
    return Made(found, created=True)


def _check_request(conn: Connection, request: ReservationRequest) -> int:
    """The store's holding time in hours; a 422 naming the field for what is wrong."""
    if not existing_codes(conn, channels, [request.channel]):
        message = f"unknown channel {request.channel!r}"
        raise InvalidInput([FieldError("channel", message, "unknown")])
    location = locations_repo.get(conn, request.location)
    if location is None:
        message = f"unknown location {request.location!r}"
        raise InvalidInput([FieldError("location", message, "unknown")])
    if (
        location.kind is not LocationKind.STORE
        or Capability.E_RESERVATION not in location.capabilities
        or not location.active
    ):
        message = f"location {location.code!r} is not an active store taking e-reservations"
        raise InvalidInput([FieldError("location", message, "no_e_reservation")])
    known = existing_codes(conn, skus, {line.sku for line in request.lines})
    errors = [
        FieldError(f"lines[{i}].sku", f"unknown sku {line.sku!r}", "unknown")
        for i, line in enumerate(request.lines)
        if line.sku not in known
    ]
    if errors:
        raise InvalidInput(errors)
    return location.reservation_hours


def _replay(db: Database, request: ReservationRequest, now: datetime) -> Made | None:
    with db.read() as conn:
        return _replay_in(conn, request, now)


def _replay_in(conn: Connection, request: ReservationRequest, now: datetime) -> Made | None:
    found = repo.find_by_key(conn, request.channel, request.idempotency_key)
    if found is None:
        return None
    reservation_id, fingerprint = found
    if fingerprint != request.request_hash:
        raise IdempotencyKeyReused(
            f"Idempotency-Key {request.idempotency_key!r} made reservation {reservation_id}"
            " with another body; use a new key for a new reservation"
        )
    return Made(_read(conn, reservation_id, now), created=False)


def get_reservation(
    db: Database, reservation_id: str, *, now: datetime, scope: Scope = Scope()
) -> ReservationView:
    with db.read() as conn:
        found = repo.find(conn, reservation_id)
    if found is None or not _visible(found[0], scope):
        raise NotFound("reservation", reservation_id)
    return _view(*found, now=now)


def list_reservations(
    db: Database,
    *,
    now: datetime,
    location: str | None,
    status: ReservationStatus | None,
    scope: Scope = Scope(),
    after: str | None = None,
    limit: int = 100,
) -> list[ReservationView]:
    """A store key lists its own location's only (asking for another is a 403)."""
    if scope.location is not None and location not in (None, scope.location):
        raise Forbidden(
            f"this key acts for location {scope.location!r}, not {location!r}", field="location"
        )
    with db.read() as conn:
        rows = repo.page(
            conn,
            now=now,
            location=scope.location or location,
            status=status,
            channel=scope.channel,
            after=after,
            limit=limit,
        )
    return [_view(row, lines, now=now) for row, lines in rows]


def set_aside(
    db: Database, view: SourcingView, reservation_id: str, *, now: datetime, scope: Scope = Scope()
) -> ReservationView:
    """The store has put the units away for the customer."""
    return _act(db, view, reservation_id, ReservationAction.SET_ASIDE, now=now, scope=scope)


def cancel(
    db: Database, view: SourcingView, reservation_id: str, *, now: datetime, scope: Scope = Scope()
) -> ReservationView:
    """The customer (or the store) gives the units back before expiry."""
    return _act(db, view, reservation_id, ReservationAction.CANCEL, now=now, scope=scope)


def convert(
    db: Database,
    view: SourcingView,
    reservation_id: str,
    *,
    now: datetime,
    scope: Scope = Scope(),
    record: DecisionRecorder | None = None,
) -> ReservationView:
    """Paid at the till: a sale at the store. A shelf the sale leaves below what orders hold
    there (stock drift since the reservation) has their newest holds re-routed afterwards."""
    return _act(
        db, view, reservation_id, ReservationAction.CONVERT, now=now, scope=scope, record=record
    )


def _act(
    db: Database,
    view: SourcingView,
    reservation_id: str,
    action: ReservationAction,
    *,
    now: datetime,
    scope: Scope,
    record: DecisionRecorder | None = None,
) -> ReservationView:
    with db.write() as uow:
        conn = uow.conn
        found = repo.find(conn, reservation_id)
        if found is None or not _visible(found[0], scope):
            raise NotFound("reservation", reservation_id)
        short = _transition(conn, *found, action, now)
        done = _read(conn, reservation_id, now)
        uow.commit()
    view.index.mark_stale()
    if short:
        drift.resolve_positions(db, short, now, view=view, record=record)
    return done


def _transition(
    conn: Connection,
    row: Row[Any],
    lines: list[Row[Any]],
    action: ReservationAction,
    now: datetime,
) -> list[tuple[str, str]]:
    """Apply `action` in the caller's transaction; the positions a sale left short."""
    stored = ReservationStatus(row.state)
    try:
        becomes = next_status(stored, action, row.expires_at, now)
    except IllegalReservationTransition as error:
        raise ReservationTransitionRefused(f"reservation {row.id}: {error}") from error
    unexpired = action is not ReservationAction.EXPIRE
    if not repo.set_state(
        conn, row.id, was=stored.value, becomes=becomes.value, now=now, unexpired=unexpired
    ):
        raise Conflict(f"reservation {row.id} changed meanwhile; try again")
    stamp = changes.stamp(conn)
    keys = sorted({(line.location_code, line.sku_code) for line in lines})
    short: list[tuple[str, str]] = []
    if action is ReservationAction.CONVERT:
        sales = [
            MovementRow(
                movement_id(SALE, row.id, line.line_id),
                line.location_code,
                line.sku_code,
                -line.units,
                SALE,
                now,
            )
            for line in lines
        ]
        _, _, short = apply_movements(conn, sales, stamp, now)
    stock_changes.record(conn, keys, stamp, now)
    done = _read(conn, row.id, now)
    events_repo.append(conn, [_event(f"reservation.{becomes.value}", done)], stamp, now)
    return short


def expire_reservation(conn: Connection, reservation_id: str, now: datetime) -> None:
    """The `reservation_expiry` job: write down the expiry of one still holding (its units came
    back at `expires_at` already) and emit `reservation.expired`."""
    found = repo.find(conn, reservation_id)
    if found is None:
        return
    row, lines = found
    if row.state in repo.HOLDING and row.expires_at <= now:
        _transition(conn, row, lines, ReservationAction.EXPIRE, now)


def _visible(row: Row[Any], scope: Scope) -> bool:
    """Another store's or another channel's reservation is, for this caller, not there."""
    return scope.channel in (None, row.channel) and scope.location in (None, row.location_code)


def _read(conn: Connection, reservation_id: str, now: datetime) -> ReservationView:
    found = repo.find(conn, reservation_id)
    assert found is not None
    return _view(*found, now=now)


def _view(row: Row[Any], lines: list[Row[Any]], *, now: datetime) -> ReservationView:
    return ReservationView(
        id=row.id,
        channel=row.channel,
        location=row.location_code,
        customer=dict(row.customer),
        status=status_at(ReservationStatus(row.state), row.expires_at, now),
        created_at=row.created_at,
        expires_at=row.expires_at,
        updated_at=row.updated_at,
        lines=tuple(ReservedLine(line.line_id, line.sku_code, line.units) for line in lines),
    )


def _event(kind: str, reservation: ReservationView) -> dict[str, Any]:
    return {
        "order_id": None,
        "fulfilment_id": None,
        "type": kind,
        "payload": {
            "reservation_id": reservation.id,
            "channel": reservation.channel,
            "location": reservation.location,
            "status": reservation.status.value,
            "expires_at": reservation.expires_at.isoformat(),
            "lines": [
                {"line_id": line.line_id, "sku": line.sku, "units": line.units}
                for line in reservation.lines
            ],
        },
    }
