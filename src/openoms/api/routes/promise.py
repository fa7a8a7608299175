"""/v1/promise: the delivery options of a basket, and the product page's delivery line."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
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
from openoms.services.keys import Principal
from openoms.services.sourcing_view import SourcingView

router = APIRouter(prefix="/v1/promise", tags=["promise"])
log = logging.getLogger(__name__)

# The handlers are `async` though they compute: a promise reads from memory (the sourcing
# view) and takes about a millisecond of CPU, less than the hop to a worker thread and its lock
# contention cost. The database read (a catch-up every 25 ms at most) goes to a worker thread:
# on a busy database it would stall every request this process holds.

LATE_S = 1.0
"""A promise reads the index as it is while a catch-up runs, unless it is older than this."""

CATCH_UP_EVERY_S = 0.1
"""A promise that finds the index older than this (and not marked stale) starts one catch-up in
the background. Not every `availability_max_staleness_ms` (25 ms): a catch-up in a worker
thread costs the event loop's thread more than its own CPU (the two trade the GIL at each
statement), ~12% of a promise's CPU at 25 ms in process, measured (docs/benchmarks.md)."""

_catching_up: dict[int, asyncio.Future[None]] = {}
"""The catch-up running in the background, per view (one at a time)."""


def dumps(document: dict[str, Any]) -> bytes:
    """The answer written by orjson, as the response model would write it (UTC as `Z`), without
    validating the promise's forty-odd objects again (tests/unit/test_promise_documents.py)."""
    return orjson.dumps(document, option=orjson.OPT_UTC_Z)


def _json(document: dict[str, Any]) -> Response:
    return Response(dumps(document), media_type="application/json")


async def _caught_up(view: SourcingView) -> None:
    """What this process wrote is read at once (the index was marked stale); what others wrote
    may show a catch-up later: a promise that finds the index merely due by age does not wait
    for the database, it starts one catch-up in a worker thread and reads the index as it is.
    (A promise that waits pays the catch-up's round trips, and at each the worker thread may
    wait up to the interpreter's 5 ms switch interval to take the GIL back from the loop.)"""
    index = view.index
    if view.behind:  # the network or the profiles changed, and the view has not read them
        await run_in_threadpool(view.refresh)
        return
    if not index.due():
        return
    age = index.age()
    if index.marked_stale or age > LATE_S:
        await run_in_threadpool(view.refresh)
        return
    if age < CATCH_UP_EVERY_S:
        return
    running = _catching_up.get(id(view))
    if running is None or running.done():
        started = asyncio.get_running_loop().run_in_executor(None, view.refresh)
        started.add_done_callback(_report)
        _catching_up[id(view)] = started


def _report(done: asyncio.Future[None]) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.warning("a catch-up of the availability index failed", exc_info=done.exception())


@router.post("", response_model=PromiseBody)
async def promise_basket(
    body: PromiseRequest, caller: Seller, view: SourcingViewDep, now: NowDep
) -> Response:
    """Every delivery option of the basket, with its price, date, carbon and plan.

    A method that cannot serve (no live profile, no plan, a store closed) is listed in
    `unavailable` with the reason, not an error. Nothing is reserved.
    """
    return _json(await basket_document(body, caller, view, now))


@router.post("/product", response_model=ProductPromiseBody)
async def promise_product(
    body: ProductPromiseRequest, caller: Seller, view: SourcingViewDep, now: NowDep
) -> Response:
    """One unit delivered home: the earliest window and the minutes left to order for it."""
    return _json(await product_document(body, caller, view, now))


# What the routes answer, also called by api/direct.py for a well-formed request.


async def basket_document(
    body: PromiseRequest, caller: Principal, view: SourcingView, now: datetime
) -> dict[str, Any]:
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
        refresh=False,  # done by _caught_up, off the event loop
    )
    return promise_document(result)


async def product_document(
    body: ProductPromiseRequest, caller: Principal, view: SourcingView, now: datetime
) -> dict[str, Any]:
    check_channel_scope(caller, body.channel, "channel")
    await _caught_up(view)
    result = promise.promise_product(
        view,
        channel=body.channel,
        sku=body.sku,
        destination=body.destination.to_domain(),
        now=now,
        refresh=False,  # done by _caught_up, off the event loop
    )
    return product_promise_document(result)
