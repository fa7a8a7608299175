"""Who is calling, and may they: roles and scopes, checked by every route."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from openoms.errors import Forbidden
from openoms.services.keys import KeyRing, Principal, Role

bearer = HTTPBearer(auto_error=False, description="An API key made with `oms keys create`.")


async def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """A key this process resolved within `ttl` costs no IO; otherwise its row is read in a
    worker thread (once per key and `ttl`), never on the event loop."""
    ring: KeyRing = request.app.state.keys
    secret = credentials.credentials if credentials else None
    known = ring.remembered(secret) if secret else None
    if known is not None:
        return known
    return await run_in_threadpool(ring.authenticate, secret)


def admits(caller: Principal, roles: tuple[Role, ...]) -> bool:
    """Admin is always admitted."""
    return caller.role is Role.ADMIN or caller.role in roles


def allow(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting the given roles (admin is always admitted)."""

    async def check(caller: Annotated[Principal, Depends(principal)]) -> Principal:
        if not admits(caller, roles):
            raise Forbidden(f"role {caller.role.value!r} may not do this")
        return caller

    return check


def check_location_scope(caller: Principal, location: str, field: str | None = None) -> None:
    """A store key acts for its own location only."""
    if caller.role is Role.STORE and caller.location != location:
        raise Forbidden(
            f"this key acts for location {caller.location!r}, not {location!r}", field=field
        )


def check_channel_scope(caller: Principal, channel: str, field: str | None = None) -> None:
    """A channel key scoped to a channel acts for that channel only."""
    if caller.role is Role.CHANNEL and caller.channel is not None and caller.channel != channel:
        raise Forbidden(
            f"this key acts for channel {caller.channel!r}, not {channel!r}", field=field
        )


Admin = Annotated[Principal, Depends(allow())]
Reader = Annotated[Principal, Depends(allow(Role.CHANNEL, Role.STORE, Role.CARRIER))]
SELLERS = (Role.CHANNEL, Role.STORE)
Seller = Annotated[Principal, Depends(allow(*SELLERS))]
StockWriter = Annotated[Principal, Depends(allow(Role.STORE))]
