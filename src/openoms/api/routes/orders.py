"""/v1/orders: placing an order (sourced and allocated), reading, listing and cancelling it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response
from starlette.concurrency import run_in_threadpool

from openoms.api.auth import Seller, allow, check_channel_scope
from openoms.api.deps import CodePath, CursorQuery, DatabaseDep, LimitQuery, NowDep, SourcingViewDep
from openoms.api.schemas.common import Page
from openoms.api.schemas.orders import (
    CancelRequest,
    IdempotencyKey,
    OrderBody,
    OrderRequestBody,
    OrderSummaryBody,
    order_json,
)
from openoms.api.schemas.orders_record import decision_record
from openoms.domain.fulfilments import Actor
from openoms.domain.orders import OrderStatus
from openoms.errors import NotFound
from openoms.services import ordering
from openoms.services.keys import Principal, Role

__all__ = ["decision_record", "router"]

router = APIRouter(prefix="/v1/orders", tags=["orders"])

Channel = Annotated[Principal, Depends(allow(Role.CHANNEL))]
IdempotencyHeader = Annotated[
    IdempotencyKey,
    Header(alias="Idempotency-Key", description="One per order: a retry sends the same again."),
]


def _scope(caller: Principal) -> str | None:
    """A store key sees the orders with a fulfilment at its location only."""
    return caller.location if caller.role is Role.STORE else None


def _answer(order: ordering.OrderView, status: int = 200, **headers: str) -> Response:
    """The order as `OrderBody` shows it, written without the models (`order_json`)."""
    return Response(order_json(order), status, headers, media_type="application/json")


def _visible(caller: Principal, order: ordering.OrderView) -> ordering.OrderView:
    """A key scoped to a channel does not see another channel's orders: as if there were none."""
    if caller.role is Role.CHANNEL and caller.channel not in (None, order.summary.channel):
        raise NotFound("order", order.summary.id)
    return order


# Placing an order is `async`, its database work one call in a worker thread: a sync route
# also hops to a thread a second time to validate and serialize its answer. The answer is
# written by `order_json` (the `OrderBody` document) and returned as it is.
@router.post(
    "",
    status_code=201,
    response_model=OrderBody,
    responses={200: {"description": "The same key and body again: the order placed first."}},
)
async def place_order(
    body: OrderRequestBody,
    key: IdempotencyHeader,
    *,
    caller: Channel,
    db: DatabaseDep,
    view: SourcingViewDep,
    now: NowDep,
) -> Response:
    """Source the basket with the channel's live profile and allocate its units at once.

    Units no location can give now stay `unallocated` on their line, with the reason: the
    order is accepted all the same (a backorder). The same `Idempotency-Key` and body again
    answer the first order with 200 and create nothing; another body with a used key is a 409.
    """
    check_channel_scope(caller, body.channel, "channel")
    request = body.to_request(key)
    placed = await run_in_threadpool(
        ordering.place_order, db, view, request, now=now, record=decision_record
    )
    location = f"/v1/orders/{placed.order.summary.id}"
    return _answer(placed.order, 201 if placed.created else 200, Location=location)


@router.get("")
def list_orders(
    caller: Seller,
    db: DatabaseDep,
    *,
    channel: Annotated[str | None, Query(max_length=64)] = None,
    status: OrderStatus | None = None,
    after: CursorQuery = None,
    limit: LimitQuery = 100,
) -> Page[OrderSummaryBody]:
    """Oldest first; `after` is the `next_cursor` of the previous page."""
    if caller.role is Role.CHANNEL and caller.channel is not None:
        check_channel_scope(caller, channel or caller.channel, "channel")
        channel = caller.channel
    found = ordering.list_orders(
        db, channel=channel, status=status, location=_scope(caller), after=after, limit=limit
    )
    items = [OrderSummaryBody.of(order) for order in found]
    return Page[OrderSummaryBody].of(items, limit, lambda order: order.id)


@router.get("/{order_id}", response_model=OrderBody)
def get_order(order_id: CodePath, caller: Seller, db: DatabaseDep) -> Response:
    """The order, its lines with where each unit stands, its fulfilments, its decisions."""
    order = ordering.get_order(db, order_id, location=_scope(caller))
    return _answer(_visible(caller, order))


@router.post("/{order_id}/cancel", response_model=OrderBody)
def cancel_order(
    order_id: CodePath,
    caller: Channel,
    db: DatabaseDep,
    now: NowDep,
    body: CancelRequest | None = None,
) -> Response:
    """Cancel the whole order, or units of some lines; held units are released at once.

    Units that left their location (shipped, in transfer, delivered) cannot be cancelled:
    the request is refused with 409 and nothing changes.
    """
    _visible(caller, ordering.get_order(db, order_id))
    actor = Actor.ADMIN if caller.role is Role.ADMIN else Actor.CHANNEL
    lines = body.to_lines() if body is not None else None
    return _answer(ordering.cancel_order(db, order_id, lines, actor=actor, now=now))
