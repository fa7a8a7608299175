"""/v1/events: the outbox of order and fulfilment changes, read in order with a cursor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from openoms.api.auth import allow
from openoms.api.deps import CursorQuery, DatabaseDep, LimitQuery
from openoms.api.schemas.orders import EventPageBody
from openoms.services import events
from openoms.services.keys import Principal, Role

router = APIRouter(prefix="/v1/events", tags=["events"])


@router.get("")
def list_events(
    caller: Annotated[Principal, Depends(allow(Role.CHANNEL))],
    db: DatabaseDep,
    since: CursorQuery = None,
    limit: LimitQuery = 100,
) -> EventPageBody:
    """Events after `since` (a `next` of an earlier answer; absent: from the first event).

    An event shows once every transaction that could still write one before it has ended:
    poll with `next`, and no event is ever skipped. A key scoped to a channel reads the events
    of that channel's orders only.
    """
    channel = caller.channel if caller.role is Role.CHANNEL else None
    return EventPageBody.of(events.list_events(db, since=since, limit=limit, channel=channel))
