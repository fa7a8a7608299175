"""The application factory: everything is built in `create_app(settings)`, nothing at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from openoms import __version__
from openoms.api import errors
from openoms.api.routes import channels, keys, locations, skus, stock
from openoms.config import Settings
from openoms.db.uow import Database
from openoms.services.availability import AvailabilityIndex
from openoms.services.keys import KeyRing

DESCRIPTION = """
An omnichannel Order Management System: unified stock across warehouses, stores, suppliers and
partners, published per channel. Authenticate with `Authorization: Bearer <key>`
(`oms keys create`). Errors are `application/problem+json` with a stable `code` and the fields
at fault.
"""


def create_app(settings: Settings | None = None, *, db: Database | None = None) -> FastAPI:
    settings = settings or Settings()
    database = db or Database(settings.database_url, echo=settings.sql_echo)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.index.catch_up()
        yield
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
    app.state.index = AvailabilityIndex(database)
    errors.install(app)
    for module in (locations, skus, stock, channels, keys):
        app.include_router(module.router)

    @app.get("/healthz", tags=["ops"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
