"""/v1/reservations: e-reservations made by a channel, set aside and sold by the store."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from openoms.api.auth import allow, check_channel_scope
from openoms.api.deps import (
    CodePath,
    CursorQuery,
    DatabaseDep,
    LimitQuery,
    NowDep,
    ReservationLimitsDep,
    SourcingViewDep,
)
from openoms.api.routes.orders import decision_record
from openoms.api.schemas.common import Code, Page
from openoms.api.schemas.orders import IdempotencyKey
from openoms.api.schemas.reservations import ReservationBody, ReservationRequestBody
from openoms.domain.reservations import ReservationStatus
from openoms.services import reservations
from openoms.services.keys import Principal, Role

router = APIRouter(prefix="/v1/reservations", tags=["reservations"])

Channel = Annotated[Principal, Depends(allow(Role.CHANNEL))]
Store = Annotated[Principal, Depends(allow(Role.STORE))]
Anyone = Annotated[Principal, Depends(allow(Role.CHANNEL, Role.STORE))]
IdempotencyHeader = Annotated[
    IdempotencyKey,
    Header(alias="Idempotency-Key", description="One per reservation: a retry sends the same."),
]


def _scope(caller: Principal) -> reservations.Scope:
    if caller.role is Role.STORE:
        return reservations.Scope(location=caller.location)
    if caller.role is Role.CHANNEL:
        return reservations.Scope(channel=caller.channel)
    return reservations.Scope()


@router.post(
    "",
    status_code=201,
    responses={200: {"description": "The same key and body again: the reservation made first."}},
)
def create_reservation(
    body: ReservationRequestBody,
    key: IdempotencyHeader,
    *,
    caller: Channel,
    response: Response,
    db: DatabaseDep,
    view: SourcingViewDep,
    limits: ReservationLimitsDep,
    now: NowDep,
) -> ReservationBody:
    """Reserve units at one store for the customer, for the store's holding time (its
    `reservation_hours`), with no payment. All or nothing: a 409 `reservation_does_not_fit`
    when the store lacks units, `reservation_limit_exceeded` naming the customer's limit."""
    check_channel_scope(caller, body.channel, "channel")
    made = reservations.create_reservation(db, view, body.to_request(key), limits=limits, now=now)
    if not made.created:
        response.status_code = 200
    response.headers["Location"] = f"/v1/reservations/{made.reservation.id}"
    return ReservationBody.of(made.reservation)


@router.get("")
def list_reservations(
    *,
    caller: Anyone,
    db: DatabaseDep,
    now: NowDep,
    location: Annotated[Code | None, Query(description="A store key: its own only.")] = None,
    status: ReservationStatus | None = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 100,
) -> Page[ReservationBody]:
    found = reservations.list_reservations(
        db,
        now=now,
        location=location,
        status=status,
        scope=_scope(caller),
        after=cursor,
        limit=limit,
    )
    items = [ReservationBody.of(r) for r in found]
    return Page[ReservationBody].of(items, limit, lambda r: r.id)


@router.get("/{reservation_id}")
def get_reservation(
    reservation_id: CodePath, caller: Anyone, db: DatabaseDep, now: NowDep
) -> ReservationBody:
    found = reservations.get_reservation(db, reservation_id, now=now, scope=_scope(caller))
    return ReservationBody.of(found)


@router.post("/{reservation_id}/set-aside")
def set_aside(
    reservation_id: CodePath, caller: Store, db: DatabaseDep, view: SourcingViewDep, now: NowDep
) -> ReservationBody:
    """The store has put the units away for the customer (store key of that location)."""
    done = reservations.set_aside(db, view, reservation_id, now=now, scope=_scope(caller))
    return ReservationBody.of(done)


@router.post("/{reservation_id}/convert")
def convert(
    reservation_id: CodePath, caller: Store, db: DatabaseDep, view: SourcingViewDep, now: NowDep
) -> ReservationBody:
    """Paid at the till: a `sale` movement at the store takes the units off on_hand. An
    expired reservation (`expires_at` now or past) cannot be converted (409)."""
    done = reservations.convert(
        db, view, reservation_id, now=now, scope=_scope(caller), record=decision_record
    )
    return ReservationBody.of(done)


@router.post("/{reservation_id}/cancel")
def cancel(
    reservation_id: CodePath, caller: Anyone, db: DatabaseDep, view: SourcingViewDep, now: NowDep
) -> ReservationBody:
    """The customer (through the channel) or the store gives the units back."""
    done = reservations.cancel(db, view, reservation_id, now=now, scope=_scope(caller))
    return ReservationBody.of(done)
