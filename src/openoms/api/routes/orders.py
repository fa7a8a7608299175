"""/v1/orders: placing an order (sourced and allocated), reading, listing and cancelling it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response

from openoms.api.auth import Seller, allow, check_channel_scope
from openoms.api.deps import CodePath, CursorQuery, DatabaseDep, LimitQuery, NowDep, SourcingViewDep
from openoms.api.schemas.common import Page
from openoms.api.schemas.orders import (
    CancelRequest,
    IdempotencyKey,
    OrderBody,
    OrderRequestBody,
    OrderSummaryBody,
)
from openoms.api.schemas.sourcing import DecisionBody
from openoms.domain.fulfilments import Actor
from openoms.domain.orders import OrderStatus
from openoms.errors import NotFound
from openoms.services import ordering
from openoms.services.keys import Principal, Role
from openoms.services.sourcing import SourcingResult

router = APIRouter(prefix="/v1/orders", tags=["orders"])

Channel = Annotated[Principal, Depends(allow(Role.CHANNEL))]
IdempotencyHeader = Annotated[
    IdempotencyKey,
    Header(alias="Idempotency-Key", description="One per order: a retry sends the same again."),
]


def decision_record(result: SourcingResult) -> dict[str, Any]:
    return DecisionBody.of(result).model_dump(mode="json")


def _scope(caller: Principal) -> str | None:
    """A store key sees the orders with a fulfilment at its location only."""
    return caller.location if caller.role is Role.STORE else None


def _visible(caller: Principal, order: ordering.OrderView) -> ordering.OrderView:
    """A key scoped to a channel does not see another channel's orders: as if there were none."""
    if caller.role is Role.CHANNEL and caller.channel not in (None, order.summary.channel):
        raise NotFound("order", order.summary.id)
    return order


@router.post(
    "",
    status_code=201,
    responses={200: {"description": "The same key and body again: the order placed first."}},
)
def place_order(
    body: OrderRequestBody,
    key: IdempotencyHeader,
    *,
    caller: Channel,
    response: Response,
    db: DatabaseDep,
    view: SourcingViewDep,
    now: NowDep,
) -> OrderBody:
    """Source the basket with the channel's live profile and allocate its units at once.

    Units no location can give now stay `unallocated` on their line, with the reason: the
    order is accepted all the same (a backorder). The same `Idempotency-Key` and body again
    answer the first order with 200 and create nothing; another body with a used key is a 409.
    """
    check_channel_scope(caller, body.channel, "channel")
    placed = ordering.place_order(db, view, body.to_request(key), now=now, record=decision_record)
    if not placed.created:
        response.status_code = 200
    response.headers["Location"] = f"/v1/orders/{placed.order.summary.id}"
    return OrderBody.of_order(placed.order)


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


@router.get("/{order_id}")
def get_order(order_id: CodePath, caller: Seller, db: DatabaseDep) -> OrderBody:
    """The order, its lines with where each unit stands, its fulfilments, its decisions."""
    order = ordering.get_order(db, order_id, location=_scope(caller))
    return OrderBody.of_order(_visible(caller, order))


@router.post("/{order_id}/cancel")
def cancel_order(
    order_id: CodePath,
    caller: Channel,
    db: DatabaseDep,
    now: NowDep,
    body: CancelRequest | None = None,
) -> OrderBody:
    """Cancel the whole order, or units of some lines; held units are released at once.

    Units that left their location (shipped, in transfer, delivered) cannot be cancelled:
    the request is refused with 409 and nothing changes.
    """
    _visible(caller, ordering.get_order(db, order_id))
    actor = Actor.ADMIN if caller.role is Role.ADMIN else Actor.CHANNEL
    lines = body.to_lines() if body is not None else None
    return OrderBody.of_order(ordering.cancel_order(db, order_id, lines, actor=actor, now=now))
