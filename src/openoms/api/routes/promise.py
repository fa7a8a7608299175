"""/v1/promise: the delivery options of a basket, and the product page's delivery line."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from openoms.api.auth import Seller, check_channel_scope
from openoms.api.deps import NowDep, SourcingViewDep
from openoms.api.schemas.promise import (
    ProductPromiseBody,
    ProductPromiseRequest,
    PromiseBody,
    PromiseRequest,
    product_promise_document,
    promise_document,
)
from openoms.services import promise
from openoms.services.sourcing_view import SourcingView

router = APIRouter(prefix="/v1/promise", tags=["promise"])

# The handlers are `async` though they compute: a promise reads from memory (the sourcing
# view) and takes about 2 ms of CPU, less than the hop to a worker thread and its lock
# contention cost. The rare database read (a catch-up every 25 ms at most) goes to a worker
# thread: on a busy database it would stall every request this process holds.


def _json(document: dict[str, Any]) -> Response:
    """The answer written by orjson, as the response model would write it (UTC as `Z`), without
    validating the promise's forty-odd objects again (tests/unit/test_promise_documents.py)."""
    return Response(orjson.dumps(document, option=orjson.OPT_UTC_Z), media_type="application/json")


async def _caught_up(view: SourcingView) -> None:
    if view.index.due():
        await run_in_threadpool(view.refresh)


@router.post("", response_model=PromiseBody)
async def promise_basket(
    body: PromiseRequest, caller: Seller, view: SourcingViewDep, now: NowDep
) -> Response:
    """Every delivery option of the basket, with its price, date, carbon and plan.

    A method that cannot serve (no live profile, no plan, a store closed) is listed in
    `unavailable` with the reason, not an error. Nothing is reserved.
    """
    check_channel_scope(caller, body.channel, "channel")
    await _caught_up(view)
    result = promise.promise(
        view,
        channel=body.channel,
        lines=body.requested_lines(),
        destination=body.destination.to_domain(),
        now=now,
        pickup_store=body.pickup_store,
        nearest=body.nearest,
    )
    return _json(promise_document(result))


@router.post("/product", response_model=ProductPromiseBody)
async def promise_product(
    body: ProductPromiseRequest, caller: Seller, view: SourcingViewDep, now: NowDep
) -> Response:
    """One unit delivered home: the earliest window and the minutes left to order for it."""
    check_channel_scope(caller, body.channel, "channel")
    await _caught_up(view)
    result = promise.promise_product(
        view,
        channel=body.channel,
        sku=body.sku,
        destination=body.destination.to_domain(),
        now=now,
    )
    return _json(product_promise_document(result))
