"""The application factory: everything is built in `create_app(settings)`, nothing at import."""

from __future__ import annotations

import gc
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openoms import __version__
from openoms.api import errors
from openoms.api.direct import DirectRoutes
from openoms.api.routes import (
    carriers,
    channels,
    collect,
    events,
    fulfilments,
    holds,
    keys,
    locations,
    orders,
    parcels,
    pickups,
    profiles,
    promise,
    reservations,
    returns,
    skus,
    sourcing,
    stock,
)
from openoms.api.routes.orders import decision_record
from openoms.config import Settings
from openoms.db.uow import Database
from openoms.domain.profiles import installed_criteria
from openoms.domain.reservations import ReservationLimits
from openoms.domain.returns import ReturnPolicy
from openoms.services.availability import AvailabilityIndex
from openoms.services.keys import KeyRing
from openoms.services.mail import mailer_from
from openoms.services.sourcing_view import SourcingView
from openoms.services.timers import Timers
from openoms.services.worker import start_worker_thread
from openoms.web import routes as store_app

DESCRIPTION = """
An omnichannel Order Management System: unified stock across warehouses, stores, suppliers and
partners, published per channel. Authenticate with `Authorization: Bearer <key>`
(`oms keys create`). Errors are `application/problem+json` with a stable `code` and the fields
at fault.
"""


class WritesMarkTheIndexStale:
    """Any write through this process may change availability: mark the index stale before the
    answer leaves, so that the caller's next read sees its write. (A plain ASGI middleware:
    Starlette's BaseHTTPMiddleware costs more per request than an availability read.)"""

    SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
    UNMARKED = re.compile(
        r"^/v1/(promise|sourcing/(plan|score)|channels/[^/]+/availability|orders)/?$"
    )
    """POSTs left unmarked. Those that only read (a body too large for a query string): they
    must not force the next read to catch up, or every promise would cost a database round
    trip. And placing an order (`POST /v1/orders`), whose service takes its reserves off the
    index itself (`AvailabilityIndex.apply_own`), or marks it stale when it wrote more."""

    def __init__(self, app: ASGIApp, index: AvailabilityIndex) -> None:
        self.app = app
        self.index = index

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in self.SAFE
            or self.UNMARKED.match(scope["path"])
        ):
            await self.app(scope, receive, send)
            return

        async def marking(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.index.mark_stale()
            await send(message)

        await self.app(scope, receive, marking)


def _settle(app: FastAPI) -> None:
    """Load the sourcing view and the catalogue before the first request, and keep what the
    process has loaded out of the garbage collector's full passes: each would scan those
    long-lived objects again (~60 ms for ~200,000, during which every request of the process
    waits: the promise's p99). Objects made later are collected as usual."""
    app.state.sourcing.refresh()
    app.state.sourcing.load_catalogue()
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None, *, db: Database | None = None) -> FastAPI:
    settings = settings or Settings()
    database = db or Database(settings.database_url, echo=settings.sql_echo)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.index.catch_up()
        if db is None:  # a server's process (`oms serve`), not an app a test or script holds
            _settle(app)
        worker = None
        if settings.run_worker:
            timers = Timers(app.state.sourcing, decision_record, mailer_from(settings))
            worker = start_worker_thread(database, timers)
        yield
        if worker is not None:
            thread, stop = worker
            stop.set()
            thread.join(timeout=10)
        if db is None:
            database.dispose()

    app = FastAPI(
        title="openoms",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = database
    app.state.keys = KeyRing(database, ttl=settings.key_cache_seconds)
    app.state.criteria = installed_criteria()
    app.state.reservation_limits = ReservationLimits(
        max_open=settings.reservation_max_open,
        max_units_per_sku=settings.reservation_max_units_per_sku,
    )
    app.state.return_policy = ReturnPolicy(
        days=settings.return_days, carrier_fee=settings.return_carrier_fee
    )
    app.state.index = AvailabilityIndex(
        database, max_staleness=settings.availability_max_staleness_ms / 1000
    )
    app.state.sourcing = SourcingView(database, criteria=app.state.criteria, index=app.state.index)
    app.add_middleware(WritesMarkTheIndexStale, index=app.state.index)
    app.add_middleware(DirectRoutes, fastapi=app)  # outermost of ours: the promise first

    errors.install(app)
    # Routes are matched in order: the busiest first (the promise, orders), so that their
    # requests do not try every other route on the way.
    for module in (
        promise,
        orders,
        locations,
        skus,
        stock,
        channels,
        profiles,
        sourcing,
        keys,
        holds,
        reservations,
        returns,
        fulfilments,
        collect,
        parcels,
        pickups,
        carriers,
        events,
    ):
        app.include_router(module.router)
    store_app.install(app)

    @app.get("/healthz", tags=["ops"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
