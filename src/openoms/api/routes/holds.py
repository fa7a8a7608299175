"""/v1/holds: a basket's units held during payment, read, released early."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from openoms.api.auth import allow, check_channel_scope
from openoms.api.deps import CodePath, DatabaseDep, NowDep, SourcingViewDep
from openoms.api.schemas.holds import HoldBody, HoldRequestBody
from openoms.services import holds
from openoms.services.keys import Principal, Role

router = APIRouter(prefix="/v1/holds", tags=["holds"])

Channel = Annotated[Principal, Depends(allow(Role.CHANNEL))]


def _channel(caller: Principal) -> str | None:
    return caller.channel if caller.role is Role.CHANNEL else None


@router.post("", status_code=201)
def create_hold(
    body: HoldRequestBody,
    *,
    caller: Channel,
    response: Response,
    db: DatabaseDep,
    view: SourcingViewDep,
    now: NowDep,
) -> HoldBody:
    """Hold the basket's units for `minutes` (default 10, at most 30) during payment: sourced
    with the channel's live profile, all or nothing (409 naming the lines that do not fit).
    Place the order with `hold_id` to take them; past `expires_at` they are sold again."""
    check_channel_scope(caller, body.channel, "channel")
    hold = holds.create_hold(db, view, body.to_request(), now=now)
    response.headers["Location"] = f"/v1/holds/{hold.id}"
    return HoldBody.of(hold)


@router.get("/{hold_id}")
def get_hold(hold_id: CodePath, caller: Channel, db: DatabaseDep, now: NowDep) -> HoldBody:
    return HoldBody.of(holds.get_hold(db, hold_id, now=now, channel=_channel(caller)))


@router.delete("/{hold_id}", status_code=204)
def release_hold(
    hold_id: CodePath, caller: Channel, db: DatabaseDep, view: SourcingViewDep, now: NowDep
) -> Response:
    """Give the units back before the hold expires."""
    holds.release_hold(db, view, hold_id, now=now, channel=_channel(caller))
    return Response(status_code=204)
