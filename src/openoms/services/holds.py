"""Holds: a basket's units kept for a channel during payment, for a few minutes.

A hold is sourced like an order (the channel's live profile, `plan_basket`), then checked and
written in one transaction: the positions locked (`FOR UPDATE` on PostgreSQL, the write lock on
SQLite), each (location, sku) checked against ATP less the other active holds, the hold
inserted. It is all or nothing: units that do not fit are a 409 naming the line. Its units
count against ATP until it expires (a matter of time: no job), is released, or an order takes
them (services/ordering.py, `hold_id`). Making, converting or releasing a hold records the
positions in the change log, so that every process's availability index reads the holds again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from uuid6 import uuid7

from openoms.db import changes
from openoms.db.repositories import events as events_repo
from openoms.db.repositories import holds as repo
from openoms.db.repositories import stock_changes
from openoms.db.repositories.codes import existing_codes
from openoms.db.tables import channels
from openoms.db.uow import Database
from openoms.domain.profiles import DeliveryMethod
from openoms.domain.shipping import Destination
from openoms.errors import Conflict, FieldError, InvalidInput, NotFound
from openoms.services.ordering import destination_for
from openoms.services.sourcing import RequestedLine, plan_basket, read_basket
from openoms.services.sourcing_view import SourcingView

DEFAULT_MINUTES = 10
MAX_MINUTES = 30


class HoldDoesNotFit(Conflict):
    code = "hold_does_not_fit"
    title = "Not enough units to hold"


@dataclass(frozen=True, slots=True)
class HoldRequest:
    channel: str
    lines: tuple[RequestedLine, ...]
    method: DeliveryMethod
    destination: Destination | None
    pickup_store: str | None
    minutes: int = DEFAULT_MINUTES


@dataclass(frozen=True, slots=True)
class HeldLine:
    line_id: str
    sku: str
    location: str
    units: int


@dataclass(frozen=True, slots=True)
class HoldView:
    id: str
    channel: str
    state: str
    """active, expired (active, but past expires_at), converted or released."""
    created_at: datetime
    expires_at: datetime
    order_id: str | None
    lines: tuple[HeldLine, ...]


def create_hold(
    db: Database, view: SourcingView, request: HoldRequest, *, now: datetime
) -> HoldView:
    destination = destination_for(view, request)
    basket = read_basket(view, request.lines, now)
    try:
        result = plan_basket(
            view,
            channel=request.channel,
            method=request.method,
            lines=request.lines,
            destination=destination,
            now=now,
            explain=False,
            basket=basket,
        )
    except NotFound as error:
        message = f"no live sourcing profile for channel {request.channel!r}: {error.detail}"
        raise InvalidInput([FieldError("delivery_method", message, "no_profile")]) from error
    if result.plan is None:
        _refuse(request, _short_lines(result))
    assert result.plan is not None
    hold_id = str(uuid7())
    sku_of = {line.line_id: line.sku for line in request.lines}
    lines = [
        HeldLine(a.line_id, sku_of[a.line_id], shipment.location, a.units)
        for shipment in result.plan.shipments
        for a in shipment.allocations
    ]
    wanted: dict[tuple[str, str], int] = defaultdict(int)
    for line in lines:
        wanted[(line.location, line.sku)] += line.units
    expires_at = now + timedelta(minutes=request.minutes)
    with db.write() as uow:
        conn = uow.conn
        if not existing_codes(conn, channels, [request.channel]):
            message = f"unknown channel {request.channel!r}"
            raise InvalidInput([FieldError("channel", message, "unknown")])
        keys = sorted(wanted)
        repo.lock_positions(conn, keys)
        atp = repo.atp_now(conn, keys, now)
        short = {key for key, units in wanted.items() if atp.get(key, 0) < units}
        if short:
            view.index.mark_stale()
            _refuse(request, {line.line_id for line in lines if (line.location, line.sku) in short})
        stamp = changes.stamp(conn)
        hold = {
            "id": hold_id,
            "channel": request.channel,
            "rule": result.rule,
            "created_at": now,
            "expires_at": expires_at,
            "state": repo.ACTIVE,
            "order_id": None,
        }
        repo.insert(
            conn,
            hold,
            [
                {
                    "hold_id": hold_id,
                    "line_id": line.line_id,
                    "location_code": line.location,
                    "sku_code": line.sku,
                    "units": line.units,
                }
                for line in lines
            ],
        )
        stock_changes.record(conn, keys, stamp, now)
        created = HoldView(
            hold_id, request.channel, repo.ACTIVE, now, expires_at, None, tuple(lines)
        )
        events_repo.append(conn, [_event("hold.created", created)], stamp, now)
        uow.commit()
    view.index.mark_stale()
    return created


def get_hold(db: Database, hold_id: str, *, now: datetime, channel: str | None = None) -> HoldView:
    """`channel`: a key scoped to a channel reads its own holds only (else: not found)."""
    with db.read() as conn:
        found = repo.find(conn, hold_id)
    if found is None or channel not in (None, found[0].channel):
        raise NotFound("hold", hold_id)
    return _view(*found, now=now)


def release_hold(
    db: Database, view: SourcingView, hold_id: str, *, now: datetime, channel: str | None = None
) -> None:
    """Give the units back before expiry. A hold expired, converted or released already is a
    409 (nothing to give back)."""
    with db.write() as uow:
        conn = uow.conn
        found = repo.find(conn, hold_id)
        if found is None or channel not in (None, found[0].channel):
            raise NotFound("hold", hold_id)
        if not repo.close(conn, hold_id, repo.RELEASED, now):
            state = _view(*found, now=now).state
            raise Conflict(f"hold {hold_id} is {state}: it holds nothing to release")
        stamp = changes.stamp(conn)
        keys = sorted({(row.location_code, row.sku_code) for row in found[1]})
        stock_changes.record(conn, keys, stamp, now)
        released = _view(*repo.find(conn, hold_id) or found, now=now)
        events_repo.append(conn, [_event("hold.released", released)], stamp, now)
        uow.commit()
    view.index.mark_stale()


def _view(hold: Any, lines: list[Any], *, now: datetime) -> HoldView:
    state = hold.state
    if state == repo.ACTIVE and hold.expires_at <= now:
        state = "expired"
    return HoldView(
        id=hold.id,
        channel=hold.channel,
        state=state,
        created_at=hold.created_at,
        expires_at=hold.expires_at,
        order_id=hold.order_id,
        lines=tuple(HeldLine(r.line_id, r.sku_code, r.location_code, r.units) for r in lines),
    )


def _event(kind: str, hold: HoldView) -> dict[str, Any]:
    return {
        "order_id": hold.order_id,
        "fulfilment_id": None,
        "type": kind,
        "payload": {
            "hold_id": hold.id,
            "channel": hold.channel,
            "expires_at": hold.expires_at.isoformat(),
            "lines": [
                {"line_id": ln.line_id, "sku": ln.sku, "location": ln.location, "units": ln.units}
                for ln in hold.lines
            ],
        },
    }


def _short_lines(result: Any) -> set[str]:
    """The lines short under every rule tried (another rule may have had them)."""
    found = [{s.line_id for s in a.decision.shortfall} for a in result.attempts]
    return set.intersection(*found) if found else set()


def _refuse(request: HoldRequest, short: set[str]) -> None:
    """All or nothing: the lines that cannot be held, named."""
    named = [i for i, line in enumerate(request.lines) if line.line_id in short] or list(
        range(len(request.lines))
    )
    ids = ", ".join(request.lines[i].line_id for i in named)
    raise HoldDoesNotFit(f"lines {ids} cannot be held in full now: no unit is held")
