"""Returns: units of any channel's delivered order asked back, received at a location,
inspected, restocked, refunded.

Asking is one transaction with the order read locked (`orders.load(for_update=True)`), so two
returns of one order queue on PostgreSQL (SQLite: the write lock): the second sees the first's
units as pending and is refused if it asks for them again. The rules are the domain's
(domain/returns.py): a delivered or collected order, within the time limit after its last
delivery, no more units than reached the customer less those returned or being returned.

Receiving is one transaction too, an order change (services/order_change.py): the units
leave their delivered (or collected) fulfilment's allocation for the line's `returned` bucket,
each inspected unit becomes a stock movement (`resell`: back on that location's shelf;
`second_hand`: onto the second-hand hub's, graded; `damaged`: in and written off), and the
outbox gets `return.received` and `return.refund_due` with the amount and currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from uuid6 import uuid7

from openoms.db import changes
from openoms.db.repositories import events as events_repo
from openoms.db.repositories import locations as locations_repo
from openoms.db.repositories import orders as orders_repo
from openoms.db.repositories import returns as repo
from openoms.db.repositories.stock import MovementRow
from openoms.db.uow import Database
from openoms.domain.fulfilments import FulfilmentStatus
from openoms.domain.network import Capability
from openoms.domain.orders import Bucket, OrderStatus, move
from openoms.domain.returns import (
    Grade,
    InspectedUnits,
    Inspection,
    InspectionMismatch,
    ReturnableLine,
    ReturnMethod,
    ReturnPolicy,
    ReturnReason,
    ReturnRefused,
    ReturnStatus,
    UnknownLine,
    check_inspection,
    check_return,
    refund,
)
from openoms.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from openoms.services.order_change import OrderChange, finish_change, open_change
from openoms.services.ordering import IdempotencyKeyReused, order_view
from openoms.services.sourcing_view import SourcingView
from openoms.services.stock import apply_movements, stock_arrived

FINISHED = (OrderStatus.DELIVERED, OrderStatus.COLLECTED, OrderStatus.COMPLETED)
"""The order statuses a return may be asked in: every live part delivered or collected."""
_BUCKET_OF = {
    FulfilmentStatus.DELIVERED: Bucket.DELIVERED,
    FulfilmentStatus.COLLECTED: Bucket.COLLECTED,
}
RETURNED = "returned"
"""The reason of the movement that brings a returned unit in."""
DAMAGED = "damaged"


class ReturnNotAccepted(Conflict):
    title = "The return is refused"

    def __init__(self, refused: ReturnRefused) -> None:
        super().__init__(str(refused))
        self.code = refused.reason


class NoSecondHandHub(Conflict):
    code = "no_second_hand_hub"
    title = "The network has no second-hand hub"


class ReturnTransitionRefused(Conflict):
    code = "illegal_transition"
    title = "Illegal transition"


@dataclass(frozen=True, slots=True)
class ReturnRequest:
    order_id: str
    method: ReturnMethod
    location: str | None
    reason: ReturnReason
    note: str
    lines: tuple[tuple[str, int], ...]
    """(line id, units)."""
    idempotency_key: str
    request_hash: str


@dataclass(frozen=True, slots=True)
class ReturnedLine:
    line_id: str
    sku: str
    units: int
    unit_price: int


@dataclass(frozen=True, slots=True)
class InspectedView:
    line_id: str
    outcome: Inspection
    grade: Grade | None
    units: int
    location: str


@dataclass(frozen=True, slots=True)
class RefundView:
    amount: int
    currency: str
    fee: int


@dataclass(frozen=True, slots=True)
class ReturnView:
    id: str
    order_id: str
    channel: str
    method: ReturnMethod
    location: str | None
    reason: ReturnReason
    note: str
    status: ReturnStatus
    created_at: datetime
    received_at: datetime | None
    received_location: str | None
    lines: tuple[ReturnedLine, ...]
    items: tuple[InspectedView, ...]
    refund: RefundView | None


@dataclass(frozen=True, slots=True)
class Asked:
    ret: ReturnView
    created: bool


@dataclass(frozen=True, slots=True)
class Scope:
    """A store key: returns to be or received at its location; a channel key scoped to a
    channel: returns of that channel's orders."""

    location: str | None = None
    channel: str | None = None


def create_return(
    db: Database, request: ReturnRequest, *, policy: ReturnPolicy, now: datetime, scope: Scope
) -> Asked:
    try:
        return _create(db, request, policy=policy, now=now, scope=scope)
    except IntegrityError:  # the same key, asked meanwhile by a concurrent retry
        with db.read() as conn:
            replay = _replay(conn, request)
        if replay is None:
            raise
        return replay


def _create(
    db: Database, request: ReturnRequest, *, policy: ReturnPolicy, now: datetime, scope: Scope
) -> Asked:
    with db.write() as uow:
        conn = uow.conn
        rows = orders_repo.load(conn, request.order_id, for_update=True)
        if rows is None or scope.channel not in (None, rows.order.channel):
            message = f"no order {request.order_id!r}"
            raise InvalidInput([FieldError("order_id", message, "unknown")])
        replay = _replay(conn, request)
        if replay is not None:
            return replay
        _check_place(conn, request, scope)
        view = order_view(rows)
        pending = repo.pending_units(conn, request.order_id)
        lines = {
            line.line_id: ReturnableLine(
                line.line_id,
                line.sku,
                line.unit_price,
                line.currency,
                line.buckets.delivered + line.buckets.collected,
                pending.get(line.line_id, 0),
            )
            for line in view.lines
        }
        _check_lines(request, lines)
        status = view.summary.status
        delivered = [f.updated_at for f in view.fulfilments if f.status in _BUCKET_OF]
        try:
            check_return(
                status=status.value,
                finished=status in FINISHED,
                delivered_at=max(delivered, default=None),
                lines=lines,
                asked=dict(request.lines),
                policy=policy,
                now=now,
            )
        except ReturnRefused as error:
            raise ReturnNotAccepted(error) from error
        return_id = str(uuid7())
        currency = next(iter({lines[line_id].currency for line_id, _ in request.lines}))
        repo.insert(
            conn,
            {
                "id": return_id,
                "order_id": request.order_id,
                "method": request.method.value,
                "location_code": request.location,
                "reason": request.reason.value,
                "note": request.note,
                "state": ReturnStatus.REQUESTED.value,
                "idempotency_key": request.idempotency_key,
                "request_hash": request.request_hash,
                "created_at": now,
                "received_at": None,
                "received_location": None,
                "currency": currency,
                "refund_amount": None,
                "fee": None,
            },
            [
                {
                    "return_id": return_id,
                    "line_id": line_id,
                    "sku_code": lines[line_id].sku,
                    "units": units,
                    "unit_price": lines[line_id].unit_price,
                }
                for line_id, units in request.lines
            ],
        )
        asked = _read(conn, return_id)
        event = _event("return.requested", asked, lines=_lines_payload(asked))
        events_repo.append(conn, [event], changes.stamp(conn), now)
        uow.commit()
    return Asked(asked, created=True)


def _check_place(conn: Connection, request: ReturnRequest, scope: Scope) -> None:
    """In store: at an active location taking returns (a store key: its own). By carrier:
    no location (where it arrives is said when it is received)."""
    if request.method is ReturnMethod.CARRIER:
        if request.location is not None:
            message = "a return by carrier names no location: it is given when received"
            raise InvalidInput([FieldError("location", message, "not_allowed")])
        return
    if request.location is None:
        message = "an in_store return names the location the customer brings it to"
        raise InvalidInput([FieldError("location", message, "missing")])
    if scope.location is not None and request.location != scope.location:
        raise Forbidden(
            f"this key acts for location {scope.location!r}, not {request.location!r}",
            field="location",
        )
    _check_returns_location(conn, request.location, "location")


def _check_returns_location(conn: Connection, code: str, field: str) -> None:
    location = locations_repo.get(conn, code)
    if location is None:
        raise InvalidInput([FieldError(field, f"unknown location {code!r}", "unknown")])
    if Capability.RETURNS not in location.capabilities or not location.active:
        message = f"location {code!r} is not an active location taking returns"
        raise InvalidInput([FieldError(field, message, "no_returns")])


def _check_lines(request: ReturnRequest, lines: dict[str, ReturnableLine]) -> None:
    errors = [
        FieldError(f"lines[{i}].line_id", str(UnknownLine(line_id)), "unknown")
        for i, (line_id, _) in enumerate(request.lines)
        if line_id not in lines
    ]
    if errors:
        raise InvalidInput(errors)
    if len({lines[line_id].currency for line_id, _ in request.lines}) > 1:
        message = "lines paid in different currencies are returned separately"
        raise InvalidInput([FieldError("lines", message, "mixed_currencies")])


def _replay(conn: Connection, request: ReturnRequest) -> Asked | None:
    found = repo.find_by_key(conn, request.order_id, request.idempotency_key)
    if found is None:
        return None
    return_id, fingerprint = found
    if fingerprint != request.request_hash:
        raise IdempotencyKeyReused(
            f"Idempotency-Key {request.idempotency_key!r} asked return {return_id} with"
            " another body; use a new key for a new return"
        )
    return Asked(_read(conn, return_id), created=False)


@dataclass(frozen=True, slots=True)
class Receipt:
    location: str
    items: tuple[InspectedUnits, ...]


def receive_return(
    db: Database,
    view: SourcingView,
    return_id: str,
    receipt: Receipt,
    *,
    policy: ReturnPolicy,
    now: datetime,
    scope: Scope,
) -> ReturnView:
    """Every unit of the return inspected at `receipt.location`, at once."""
    with db.write() as uow:
        conn = uow.conn
        found = repo.find(conn, return_id)
        if found is None or not _visible(found, scope):
            raise NotFound("return", return_id)
        ret = found.row
        if scope.location is not None and receipt.location != scope.location:
            raise Forbidden(
                f"this key acts for location {scope.location!r}, not {receipt.location!r}",
                field="location",
            )
        if ret.state != ReturnStatus.REQUESTED:
            raise ReturnTransitionRefused(f"return {return_id} was received already")
        if ret.method == ReturnMethod.IN_STORE and receipt.location != ret.location_code:
            message = f"this return is brought to {ret.location_code!r}"
            raise InvalidInput([FieldError("location", message, "other_location")])
        _check_returns_location(conn, receipt.location, "location")
        try:
            check_inspection({line.line_id: line.units for line in found.lines}, receipt.items)
        except InspectionMismatch as error:
            raise InvalidInput([FieldError("items", str(error), "units_mismatch")]) from error
        hub = None
        if any(item.outcome is Inspection.SECOND_HAND for item in receipt.items):
            hub = repo.second_hand_hub(conn)
            if hub is None:
                raise NoSecondHandHub("no active location of kind second_hand takes graded units")
        change = open_change(conn, ret.order_id, now)
        for line in found.lines:
            _take_back(change, line.line_id, line.units)
            repo.add_returned(conn, ret.order_id, line.line_id, line.units)
        sku_of = {line.line_id: line.sku_code for line in found.lines}
        items, movements = _restock(return_id, receipt, sku_of, hub, now)
        repo.add_items(conn, items)
        apply_movements(conn, movements, change.stamp, now)
        amount = refund(
            [(line.units, line.unit_price) for line in found.lines],
            ret.currency,
            ReturnMethod(ret.method),
            policy,
        )
        at = receipt.location
        if not repo.mark_received(
            conn, return_id, location=at, now=now, refund=amount.amount, fee=amount.fee
        ):
            raise Conflict(f"return {return_id} changed meanwhile; try again")
        done = _read(conn, return_id)
        for kind, payload in (
            ("return.received", {"items": _items_payload(done)}),
            (
                "return.refund_due",
                {"amount": amount.amount, "currency": amount.currency, "fee": amount.fee},
            ),
        ):
            change.events.append(_event(kind, done, **payload))
        finish_change(change)
        uow.commit()
    view.index.mark_stale()
    if any(item.outcome is not Inspection.DAMAGED for item in receipt.items):
        stock_arrived(db, now)  # backorders may take the units back on a shelf at once
    return done


def _take_back(change: OrderChange, line_id: str, units: int) -> None:
    """`units` of the line leave the allocations of its delivered or collected fulfilments
    (oldest first) for its `returned` bucket."""
    status_of = {f.id: FulfilmentStatus(f.status) for f in change.rows.fulfilments}
    left = units
    for allocation in change.rows.allocations:
        status = status_of[allocation.fulfilment_id]
        if allocation.line_id != line_id or status not in _BUCKET_OF or not allocation.units:
            continue
        taken = min(left, allocation.units)
        orders_repo.set_allocation_units(
            change.conn, allocation.fulfilment_id, line_id, allocation.units - taken
        )
        change.buckets[line_id] = move(
            change.buckets[line_id], _BUCKET_OF[status], Bucket.RETURNED, taken
        )
        left -= taken
        if not left:
            return
    raise Conflict(f"line {line_id}: {units} units to take back, {units - left} delivered")


def _restock(
    return_id: str, receipt: Receipt, sku_of: dict[str, str], hub: str | None, now: datetime
) -> tuple[list[dict[str, Any]], list[MovementRow]]:
    """The inspection's rows, and the movements it makes: in at the receiving location (or the
    hub, for second-hand units), and out again for damaged ones. Ids sort in the order the
    movements apply (a damaged unit comes in before it is written off)."""
    items: list[dict[str, Any]] = []
    movements: list[MovementRow] = []
    at = receipt.location
    for seq, item in enumerate(receipt.items, 1):
        sku = sku_of[item.line_id]
        place = hub if item.outcome is Inspection.SECOND_HAND and hub is not None else at
        items.append(
            {
                "return_id": return_id,
                "seq": seq,
                "line_id": item.line_id,
                "outcome": item.outcome.value,
                "grade": item.grade.value if item.grade else None,
                "units": item.units,
                "location_code": place,
            }
        )
        base = f"return:{return_id}:{seq:04d}"
        movements.append(MovementRow(f"{base}:1", place, sku, item.units, RETURNED, now))
        if item.outcome is Inspection.DAMAGED:
            movements.append(MovementRow(f"{base}:2", at, sku, -item.units, DAMAGED, now))
    return items, movements


def get_return(db: Database, return_id: str, *, scope: Scope) -> ReturnView:
    with db.read() as conn:
        found = repo.find(conn, return_id)
    if found is None or not _visible(found, scope):
        raise NotFound("return", return_id)
    return _view(found)


def list_returns(
    db: Database,
    *,
    order_id: str | None,
    location: str | None,
    status: ReturnStatus | None,
    scope: Scope,
    after: str | None,
    limit: int,
) -> list[ReturnView]:
    """A store key lists its own location's only (asking for another is a 403)."""
    if scope.location is not None and location not in (None, scope.location):
        raise Forbidden(
            f"this key acts for location {scope.location!r}, not {location!r}", field="location"
        )
    with db.read() as conn:
        ids = repo.page(
            conn,
            order_id=order_id,
            location=scope.location or location,
            status=status,
            channel=scope.channel,
            after=after,
            limit=limit,
        )
        return [_read(conn, return_id) for return_id in ids]


def _visible(found: repo.ReturnRows, scope: Scope) -> bool:
    """Another channel's return is not there for this caller; nor, for a store, one brought
    to or received at another location (a parcel on its way back may arrive anywhere)."""
    row = found.row
    at = {row.location_code, row.received_location}
    on_its_way = row.method == ReturnMethod.CARRIER and row.state == ReturnStatus.REQUESTED
    seen_by_store = scope.location is None or scope.location in at or on_its_way
    return scope.channel in (None, found.channel) and seen_by_store


def _read(conn: Connection, return_id: str) -> ReturnView:
    found = repo.find(conn, return_id)
    assert found is not None
    return _view(found)


def _view(found: repo.ReturnRows) -> ReturnView:
    row = found.row
    paid = None
    if row.refund_amount is not None:
        paid = RefundView(row.refund_amount, row.currency, row.fee or 0)
    return ReturnView(
        id=row.id,
        order_id=row.order_id,
        channel=found.channel,
        method=ReturnMethod(row.method),
        location=row.location_code,
        reason=ReturnReason(row.reason),
        note=row.note,
        status=ReturnStatus(row.state),
        created_at=row.created_at,
        received_at=row.received_at,
        received_location=row.received_location,
        lines=tuple(
            ReturnedLine(line.line_id, line.sku_code, line.units, line.unit_price)
            for line in found.lines
        ),
        items=tuple(
            InspectedView(
                item.line_id,
                Inspection(item.outcome),
                Grade(item.grade) if item.grade else None,
                item.units,
                item.location_code,
            )
            for item in found.items
        ),
        refund=paid,
    )


def _lines_payload(ret: ReturnView) -> list[dict[str, Any]]:
    return [{"line_id": line.line_id, "sku": line.sku, "units": line.units} for line in ret.lines]


def _items_payload(ret: ReturnView) -> list[dict[str, Any]]:
    return [
        {
            "line_id": item.line_id,
            "outcome": item.outcome.value,
            "grade": item.grade.value if item.grade else None,
            "units": item.units,
            "location": item.location,
        }
        for item in ret.items
    ]


def _event(kind: str, ret: ReturnView, **payload: Any) -> dict[str, Any]:
    return {
        "order_id": ret.order_id,
        "fulfilment_id": None,
        "type": kind,
        "payload": {
            "return_id": ret.id,
            "order_id": ret.order_id,
            "method": ret.method.value,
            "status": ret.status.value,
            **payload,
        },
    }
