"""/v1/fulfilments: a location's queue, and every transition of a fulfilment as an action.

Any key may call an action; the service admits the roles the state machine names for it
(`may_act`: a store claims, picks, packs, ships, rejects, and for click & collect readies,
transfers and receives; a channel cancels; a carrier delivers) and a store key acts on its own
location's fulfilments only (another's is not found; a transfer is received by its pickup store).
An action the fulfilment's status does not allow answers 409 `illegal_transition`, naming what
is allowed, and changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from openoms.api.auth import allow
from openoms.api.deps import CodePath, CursorQuery, DatabaseDep, LimitQuery, NowDep, SourcingViewDep
from openoms.api.routes.orders import decision_record
from openoms.api.schemas.collect import ReceiveRequest, TransferRequest
from openoms.api.schemas.common import Page
from openoms.api.schemas.fulfilments import (
    FulfilmentOut,
    PickRequest,
    RejectRequest,
    ShipRequest,
)
from openoms.domain.fulfilments import Actor, FulfilmentStatus
from openoms.services import collect, drift
from openoms.services import fulfilment as service
from openoms.services.keys import Principal, Role

router = APIRouter(prefix="/v1/fulfilments", tags=["fulfilments"])

Anyone = Annotated[Principal, Depends(allow(Role.CHANNEL, Role.STORE, Role.CARRIER))]


def caller_of(principal: Principal) -> service.Caller:
    """The key's role as the state machine's actor; a store key with its location, a channel
    key with its channel when it is scoped to one."""
    location = principal.location if principal.role is Role.STORE else None
    channel = principal.channel if principal.role is Role.CHANNEL else None
    return service.Caller(Actor(principal.role.value), location, channel)


@router.get("")
def list_fulfilments(
    caller: Annotated[Principal, Depends(allow(Role.CHANNEL, Role.STORE))],
    db: DatabaseDep,
    now: NowDep,
    *,
    location: Annotated[str | None, Query(max_length=64)] = None,
    status: FulfilmentStatus | None = None,
    after: CursorQuery = None,
    limit: LimitQuery = 100,
) -> Page[FulfilmentOut]:
    """A location's queue, oldest first (a store key: its own location, by default), with the
    fulfilments offered to it and the time left to claim them."""
    found = service.list_fulfilments(
        db, caller_of(caller), location=location, status=status, after=after, limit=limit
    )
    items = [FulfilmentOut.of_detail(d, now) for d in found]
    return Page[FulfilmentOut].of(items, limit, lambda f: f.id)


@router.get("/{fulfilment_id}")
def get_fulfilment(
    fulfilment_id: CodePath, caller: Anyone, db: DatabaseDep, now: NowDep
) -> FulfilmentOut:
    detail = service.get_fulfilment(db, fulfilment_id, caller_of(caller))
    return FulfilmentOut.of_detail(detail, now)


@router.post("/{fulfilment_id}/claim")
def claim(fulfilment_id: CodePath, caller: Anyone, db: DatabaseDep, now: NowDep) -> FulfilmentOut:
    """A store takes a fulfilment offered to it; the first claim wins. A store that is not
    the holding location takes the hold over, or is refused (409 `claim_does_not_fit`) when its
    stock no longer has the units: the offer then stays open to the others."""
    detail = service.claim_fulfilment(db, fulfilment_id, caller_of(caller), now=now)
    return FulfilmentOut.of_detail(detail)


@router.post("/{fulfilment_id}/pick")
def pick(
    fulfilment_id: CodePath,
    *,
    caller: Anyone,
    db: DatabaseDep,
    view: SourcingViewDep,
    now: NowDep,
    body: PickRequest | None = None,
) -> FulfilmentOut:
    """Picking starts; units not found (`picked` below what was asked) are released at the
    store and sourced again elsewhere, and recorded in the order's decisions."""
    detail = service.pick_fulfilment(
        db,
        view,
        fulfilment_id,
        caller_of(caller),
        picked=body.picked if body else None,
        now=now,
        record=decision_record,
    )
    return FulfilmentOut.of_detail(detail)


@router.post("/{fulfilment_id}/pack")
def pack(fulfilment_id: CodePath, caller: Anyone, db: DatabaseDep, now: NowDep) -> FulfilmentOut:
    detail = service.pack_fulfilment(db, fulfilment_id, caller_of(caller), now=now)
    return FulfilmentOut.of_detail(detail)


@router.post("/{fulfilment_id}/ship")
def ship(
    fulfilment_id: CodePath,
    body: ShipRequest,
    *,
    caller: Anyone,
    db: DatabaseDep,
    view: SourcingViewDep,
    now: NowDep,
) -> FulfilmentOut:
    """The parcels leave: the units leave the location's stock (on_hand and reserved). Each
    parcel names one of the carrier services the OMS knows."""
    detail = service.ship_fulfilment(
        db,
        fulfilment_id,
        caller_of(caller),
        parcels=body.to_parcels(),
        now=now,
        services={s.code for s in view.services},
    )
    return FulfilmentOut.of_detail(detail)


@router.post("/{fulfilment_id}/deliver")
def deliver(fulfilment_id: CodePath, caller: Anyone, db: DatabaseDep, now: NowDep) -> FulfilmentOut:
    """Every parcel arrived (carriers usually say so through /v1/carriers/tracking)."""
    detail = service.deliver_fulfilment(db, fulfilment_id, caller_of(caller), now=now)
    return FulfilmentOut.of_detail(detail)


@router.post("/{fulfilment_id}/reject")
def reject(
    fulfilment_id: CodePath,
    body: RejectRequest,
    *,
    caller: Anyone,
    db: DatabaseDep,
    view: SourcingViewDep,
    now: NowDep,
) -> FulfilmentOut:
    """The store refuses: units released, the reason's stock effect applied, the units
    sourced again without this store (new fulfilments, or a backorder with a reason). What an
    `out_of_stock` store found may leave other orders' holds there short: those are re-routed
    as stock drift."""
    detail = service.reject_fulfilment(
        db,
        view,
        fulfilment_id,
        caller_of(caller),
        reason=body.reason,
        found=body.found,
        now=now,
        record=decision_record,
    )
    if body.found:
        location = detail.fulfilment.location
        drift.resolve_found(db, location, body.found, now, view=view, record=decision_record)
    return FulfilmentOut.of_detail(detail)


@router.post("/{fulfilment_id}/cancel")
def cancel(fulfilment_id: CodePath, caller: Anyone, db: DatabaseDep, now: NowDep) -> FulfilmentOut:
    """Its units are released and cancelled on their lines; refused (409) once shipped."""
    detail = service.cancel_fulfilment(db, fulfilment_id, caller_of(caller), now=now)
    return FulfilmentOut.of_detail(detail)


@router.post("/{fulfilment_id}/ready")
def ready(fulfilment_id: CodePath, caller: Anyone, db: DatabaseDep, now: NowDep) -> FulfilmentOut:
    """Click & collect from the pickup store's own shelf: packed, it waits for the customer.
    Elsewhere than the pickup store: 409 `not_at_pickup_store` (transfer it instead)."""
    detail = collect.ready_fulfilment(db, fulfilment_id, caller_of(caller), now=now)
    return FulfilmentOut.of_detail(detail)


@router.post("/{fulfilment_id}/transfer")
def transfer(
    fulfilment_id: CodePath,
    body: TransferRequest,
    *,
    caller: Anyone,
    db: DatabaseDep,
    view: SourcingViewDep,
    now: NowDep,
) -> FulfilmentOut:
    """Click & collect from another location: the parcels leave for the pickup store (the
    units leave this location's stock); the transfer is flagged overdue if not received a
    day after the carrier's latest arrival day."""
    detail = collect.transfer_fulfilment(
        db, view, fulfilment_id, caller_of(caller), parcels=body.to_parcels(), now=now
    )
    return FulfilmentOut.of_detail(detail)


@router.post("/{fulfilment_id}/receive")
def receive(
    fulfilment_id: CodePath,
    *,
    caller: Anyone,
    db: DatabaseDep,
    now: NowDep,
    body: ReceiveRequest | None = None,
) -> FulfilmentOut:
    """The pickup store receives a transfer (only a key of that store): its units go on the
    store's shelf, held for the order; the order is ready for pickup once all of it is there."""
    detail = collect.receive_fulfilment(
        db,
        fulfilment_id,
        caller_of(caller),
        key_id=caller.key_id,
        tracking_number=body.tracking_number if body else None,
        now=now,
    )
    return FulfilmentOut.of_detail(detail)
