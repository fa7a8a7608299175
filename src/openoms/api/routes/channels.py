"""/v1/channels: channels, their publication rules, and what they may sell."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from openoms.api.auth import Admin, Seller, check_channel_scope
from openoms.api.deps import CodePath, CursorQuery, DatabaseDep, IndexDep, NowDep
from openoms.api.schemas.availability import (
    AvailabilityBody,
    AvailabilityList,
    AvailabilityQuery,
    ChangesBody,
    ChannelBody,
    PublicationBody,
)
from openoms.errors import FieldError, InvalidInput
from openoms.services import availability, channels

router = APIRouter(prefix="/v1/channels", tags=["availability"])


def _body(channel: channels.Channel) -> ChannelBody:
    return ChannelBody(
        code=channel.code, name=channel.name, publication=PublicationBody.of(channel.rule)
    )


@router.get("")
def list_channels(_: Seller, db: DatabaseDep) -> list[ChannelBody]:
    return [_body(c) for c in channels.list_channels(db)]


@router.get("/{code}")
def get_channel(code: CodePath, _: Seller, db: DatabaseDep) -> ChannelBody:
    return _body(channels.get_channel(db, code))


@router.put("/{code}")
def put_channel(
    code: CodePath, body: ChannelBody, _: Admin, db: DatabaseDep, index: IndexDep, now: NowDep
) -> ChannelBody:
    if body.code != code:
        raise InvalidInput([FieldError("code", f"must match the path ({code!r})")])
    saved = channels.put_channel(
        db, channels.Channel(body.code, body.name, body.publication.to_domain()), now
    )
    return _body(saved)


# The availability reads are `async`: they run on the event loop instead of hopping to a worker
# thread. Their only IO is the index's catch-up, one indexed read well under a millisecond,
# which costs less than the hop (decision 0006).


@router.get("/{code}/availability/{sku}")
async def sku_availability(
    code: CodePath,
    sku: CodePath,
    *,
    caller: Seller,
    index: IndexDep,
    now: NowDep,
    locations: Annotated[bool, Query(description="Include the per-location breakdown.")] = False,
) -> AvailabilityBody:
    """What the channel may sell of one sku now (units of holds not expired taken off)."""
    check_channel_scope(caller, code)
    found = availability.sku_availability(index, code, sku, detail=locations, now=now)
    return AvailabilityBody.of(found, detail=locations)


@router.post("/{code}/availability")
async def skus_availability(
    code: CodePath, body: AvailabilityQuery, caller: Seller, index: IndexDep, now: NowDep
) -> AvailabilityList:
    """What the channel may sell of up to 500 skus at once (a query: nothing is written)."""
    check_channel_scope(caller, code)
    found = availability.skus_availability(index, code, body.skus, detail=body.locations, now=now)
    return AvailabilityList(items=[AvailabilityBody.of(a, detail=body.locations) for a in found])


@router.get("/{code}/changes")
def availability_changes(
    code: CodePath,
    *,
    caller: Seller,
    db: DatabaseDep,
    index: IndexDep,
    since: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> ChangesBody:
    """Skus whose availability on this channel may have changed since the cursor, each with
    its availability now. Start without `since`; keep the `next_cursor` for the next call."""
    check_channel_scope(caller, code)
    page = availability.availability_changes(db, index, code, since=since, limit=limit)
    return ChangesBody(
        items=[AvailabilityBody.of(a, detail=False) for a in page.items],
        next_cursor=page.next_cursor,
        more=page.more,
    )
