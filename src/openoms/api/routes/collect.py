"""/v1/collect-orders: click & collect orders as their store's queue; the handover at the counter;
a new pickup code; a store's click & collect settings; receiving a transfer by scanning it.

The fulfilment transitions of click & collect (`ready`, `transfer`, `receive`) are actions on
fulfilments (api/routes/fulfilments.py); the handover is on the order, because the customer
has one code for the whole order and takes every part of it at once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from openoms.api.auth import allow
from openoms.api.deps import CodePath, CursorQuery, DatabaseDep, LimitQuery, NowDep, SourcingViewDep
from openoms.api.routes.fulfilments import caller_of
from openoms.api.schemas.collect import CollectOrderOut, CollectSettingsBody, HandoverRequest
from openoms.api.schemas.common import Page
from openoms.api.schemas.fulfilments import FulfilmentOut
from openoms.services import collect as service
from openoms.services import collect_orders
from openoms.services.keys import Principal, Role

router = APIRouter(tags=["click & collect"])

Store = Annotated[Principal, Depends(allow(Role.STORE))]
Seller = Annotated[Principal, Depends(allow(Role.CHANNEL, Role.STORE))]
Channel = Annotated[Principal, Depends(allow(Role.CHANNEL))]
Admin = Annotated[Principal, Depends(allow())]
State = Annotated[str | None, Query(pattern="^(preparing|ready|collected|uncollected|cancelled)$")]


@router.get("/v1/collect-orders")
def list_collect_orders(
    caller: Seller,
    db: DatabaseDep,
    now: NowDep,
    *,
    store: Annotated[str | None, Query(max_length=64)] = None,
    state: State = None,
    late: bool | None = None,
    after: CursorQuery = None,
    limit: LimitQuery = 100,
) -> Page[CollectOrderOut]:
    """A store's click & collect queue, oldest first (a store key: its own store): orders
    on their way with their transfers, waiting with how long they have waited, express
    orders with the seconds left to their deadline, late ones (`late=true`)."""
    found = collect_orders.list_collect_orders(
        db, caller_of(caller), store=store, state=state, late=late, after=after, limit=limit
    )
    return Page[CollectOrderOut].of(
        [CollectOrderOut.of(p, now) for p in found], limit, lambda p: p.order_id
    )


@router.get("/v1/orders/{order_id}/collect-order")
def get_collect_order(
    order_id: CodePath, caller: Seller, db: DatabaseDep, now: NowDep
) -> CollectOrderOut:
    return CollectOrderOut.of(
        collect_orders.get_collect_order(db, order_id, caller_of(caller)), now
    )


@router.post("/v1/orders/{order_id}/collect")
def collect(
    order_id: CodePath, body: HandoverRequest, caller: Store, db: DatabaseDep, now: NowDep
) -> CollectOrderOut:
    """The handover, by a key of the pickup store: the code (or the customer's name). A wrong
    one is a 422 `wrong_pickup_code` with the tries left; after 5, 409 `pickup_locked`."""
    found = service.collect_order(
        db, order_id, caller_of(caller), body.to_handover(), key_id=caller.key_id, now=now
    )
    return CollectOrderOut.of(found, now)


@router.post("/v1/orders/{order_id}/pickup-code")
def reissue_code(
    order_id: CodePath, caller: Channel, db: DatabaseDep, now: NowDep
) -> CollectOrderOut:
    """A new code for an order waiting at its store (sent again; the tries start again)."""
    collect_orders.get_collect_order(
        db, order_id, caller_of(caller)
    )  # a scoped channel key: its own only
    return CollectOrderOut.of(service.reissue_code(db, order_id, now=now), now)


@router.post("/v1/transfers/{tracking_number}/receive")
def receive_parcel(
    tracking_number: CodePath, caller: Store, db: DatabaseDep, now: NowDep
) -> FulfilmentOut:
    """The pickup store scans a parcel of a transfer: the transfer is received."""
    detail = service.receive_parcel(
        db, tracking_number, caller_of(caller), key_id=caller.key_id, now=now
    )
    return FulfilmentOut.of_detail(detail)


@router.get("/v1/locations/{code}/collect-settings")
def get_settings(
    code: CodePath, caller: Seller, db: DatabaseDep, view: SourcingViewDep
) -> CollectSettingsBody:
    """The store's own settings, or the defaults."""
    return CollectSettingsBody.of(collect_orders.collect_settings(db, view, code))


@router.put("/v1/locations/{code}/collect-settings")
def put_settings(
    code: CodePath,
    body: CollectSettingsBody,
    *,
    caller: Admin,
    db: DatabaseDep,
    view: SourcingViewDep,
    now: NowDep,
) -> CollectSettingsBody:
    """How long the store keeps an uncollected order, how fast it prepares an express one,
    and whether an uncollected order is cancelled or refunded."""
    saved = collect_orders.put_collect_settings(db, view, code, body.to_settings(), now=now)
    return CollectSettingsBody.of(saved)
