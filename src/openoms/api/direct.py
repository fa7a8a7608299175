"""Direct answers to the promise's routes, without FastAPI's per-request machinery.

`POST /v1/promise` is asked at every page view of a shop, and over HTTP a quarter of its CPU
went to FastAPI's routing, dependency resolution and request objects around a computation that
takes about a millisecond (docs/benchmarks.md). So a request that this lane can answer exactly
as the FastAPI route would is answered here, by the very function the route calls
(`routes/promise.py::basket_document`): an API key this process already knows, of a role the
route admits, a JSON body that the route's own model validates, no dependency overridden but
the clock, and no error from the promise. Any other request goes on, body and all, to the
FastAPI route, which answers it: every error (401, 403, 422, problem+json) is FastAPI's. The
lane changes how fast, never what (tests/integration/test_direct.py holds the answers of both
equal), and the routes stay in the OpenAPI document as they are (decisions/0017).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import orjson
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openoms.api.auth import SELLERS, admits, bearer
from openoms.api.deps import get_now
from openoms.api.routes.promise import basket_document, dumps, product_document
from openoms.api.schemas.promise import ProductPromiseRequest, PromiseRequest
from openoms.errors import OmsError
from openoms.services.keys import KeyRing, Principal, Role
from openoms.services.sourcing_view import SourcingView

Answer = Callable[[Any, Principal, SourcingView, datetime], Awaitable[dict[str, Any]]]


class DirectRoute:
    __slots__ = ("answer", "model", "roles")

    def __init__(self, model: type[BaseModel], answer: Answer, roles: tuple[Role, ...]) -> None:
        self.model = model
        self.answer = answer
        self.roles = roles


ROUTES = {
    "/v1/promise": DirectRoute(PromiseRequest, basket_document, SELLERS),
    "/v1/promise/product": DirectRoute(ProductPromiseRequest, product_document, SELLERS),
}
"""The POST routes answered directly: each only reads, so answering twice changes nothing."""

JSON = "application/json"


class DirectRoutes:
    """An ASGI middleware: the promise's well-formed requests answered here, the rest passed on."""

    def __init__(self, app: ASGIApp, fastapi: FastAPI) -> None:
        self.app = app
        self.fastapi = fastapi

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = ROUTES.get(scope["path"]) if scope["type"] == "http" else None
        if route is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body, ended = await _body(receive)
        document = await self._answer(route, scope, body) if ended else None
        if document is None:
            await self.app(scope, _replay(body, ended, receive), send)
            return
        payload = dumps(document)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(payload)).encode()),
                    (b"content-type", JSON.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def _answer(self, route: DirectRoute, scope: Scope, body: bytes) -> dict[str, Any] | None:
        """The route's answer, or None where the FastAPI route must give it."""
        overrides = self.fastapi.dependency_overrides
        if any(dependency is not get_now for dependency in overrides):
            return None
        connection = Request(scope)
        content_type = connection.headers.get("content-type", "")
        if content_type.partition(";")[0].strip().lower() != JSON:
            return None
        credentials = await bearer(connection)  # the route's own scheme, as FastAPI calls it
        ring: KeyRing = self.fastapi.state.keys
        caller = ring.remembered(credentials.credentials) if credentials else None
        if caller is None or not admits(caller, route.roles):
            return None
        try:
            request = route.model.model_validate(orjson.loads(body))
        except (orjson.JSONDecodeError, ValidationError):
            return None
        now = overrides.get(get_now, get_now)()
        if inspect.isawaitable(now):
            now = await now
        try:
            return await route.answer(request, caller, self.fastapi.state.sourcing, now)
        except OmsError:
            return None


async def _body(receive: Receive) -> tuple[bytes, bool]:
    """The whole body, and whether it came whole (False: the client went away)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _replay(body: bytes, ended: bool, receive: Receive) -> Receive:
    """`receive` as if nothing had been read of it yet."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            if ended:
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}
        return await receive()

    return replayed
