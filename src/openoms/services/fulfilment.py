"""Fulfilments: each transition of the state machine is a use case, one transaction each.

Every transition reads the order first, locked (so that changes of one order queue on
PostgreSQL), checks the caller's role (`may_act`) and scope (a store key acts at its location
only: another store's fulfilment is not found), asks the domain for the next status, and moves
the fulfilment by a conditional update on (id, version): of two concurrent transitions, one wins
and the other is refused with 409, having changed nothing.

What a transition does to stock follows from the domain's `holding` of the status before and
after: held -> consumed (ship) takes the units off the shelf (on_hand and reserved both drop,
and a `shipped` stock movement lets later snapshots net them out); held -> released (reject,
cancel) gives the reserved units back. The order lines' buckets are moved with the domain's
`move`, then compared with what the rows say after the writes, and conservation is checked:
a disagreement is a bug and rolls the transaction back.

Units a store gives back (a reject, or a pick short of units) are sourced again with the
order's profile, excluding that store and any store closed for the day, from stock read in the
same transaction: new fulfilments and allocations, or a backorder with a reason, and a record
in the order's decision history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row
from sqlalchemy.exc import IntegrityError
from uuid6 import uuid7

from openoms.db import changes
from openoms.db.repositories import events as events_repo
from openoms.db.repositories import fulfilments as repo
from openoms.db.repositories import orders as orders_repo
from openoms.db.repositories import stock_changes
from openoms.db.repositories.fulfilments import ParcelRow, TrackingRow, Units
from openoms.db.tables import allocations, fulfilments
from openoms.db.uow import Database
from openoms.domain.fulfilments import (
    INITIAL_STATUS,
    Actor,
    FulfilmentStatus,
    Holding,
    IllegalTransition,
    Transition,
    holding,
    may_act,
    next_status,
)
from openoms.domain.network import GeoPoint
from openoms.domain.orders import (
    AllocatedAt,
    Bucket,
    Buckets,
    OrderStatus,
    ensure_conserved,
    move,
    place_for,
)
from openoms.domain.profiles import DeliveryMethod, OfferMode
from openoms.domain.shipping import Destination
from openoms.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from openoms.services.ordering import (
    CONTENTION,
    MAX_ATTEMPTS,
    NO_PLAN,
    NO_STOCK,
    AllocationView,
    DecisionRecorder,
    FulfilmentView,
    order_view,
)
from openoms.services.sourcing import BasketStock, RequestedLine, SourcingResult, plan_basket
from openoms.services.sourcing_view import SourcingView

MISSING = "missing"
"""A pick short of units: the store did not find them."""

PAST = {
    Transition.CLAIM: "claimed",
    Transition.PICK: "picked",
    Transition.PACK: "packed",
    Transition.SHIP: "shipped",
    Transition.DELIVER: "delivered",
    Transition.REJECT: "rejected",
    Transition.CANCEL: "cancelled",
}
"""The event of each action: `fulfilment.<past tense>`."""


class RejectReason(StrEnum):
    OUT_OF_STOCK = "out_of_stock"
    """Fewer units on the shelf than thought: on_hand becomes what was found."""
    DAMAGED = "damaged"
    """The units cannot be sold: written off."""
    NO_CAPACITY = "no_capacity"
    """No stock change; the store takes no new offer for the rest of its local day."""


class TrackingStatus(StrEnum):
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    EXCEPTION = "exception"


class TransitionRefused(Conflict):
    code = "illegal_transition"
    title = "Illegal transition"

    def __init__(self, error: IllegalTransition) -> None:
        super().__init__(str(error))
        self.allowed = sorted(error.allowed)


class ChangedMeanwhile(Conflict):
    code = "changed_meanwhile"
    title = "Changed meanwhile"


class DuplicateParcel(Conflict):
    code = "duplicate_tracking_number"
    title = "Tracking number already used"


class UnknownParcels(NotFound):
    """A tracking batch naming parcels we never shipped: refused whole, nothing applied."""

    code = "unknown_parcel"

    def __init__(self, tracking_numbers: Sequence[str]) -> None:
        super().__init__("parcel", ", ".join(tracking_numbers))
        self.tracking_numbers = tuple(tracking_numbers)
        self.detail = (
            f"unknown parcels: {', '.join(tracking_numbers)}; nothing of the batch was applied"
        )


@dataclass(frozen=True, slots=True)
class Caller:
    actor: Actor
    location: str | None = None
    """A store key's location: it sees and acts on fulfilments there only."""


@dataclass(frozen=True, slots=True)
class ParcelView:
    tracking_number: str
    carrier_service: str
    weight_g: int
    status: str
    status_at: datetime


@dataclass(frozen=True, slots=True)
class FulfilmentDetail:
    fulfilment: FulfilmentView
    order_id: str
    order_status: OrderStatus
    parcels: tuple[ParcelView, ...]


@dataclass(frozen=True, slots=True)
class Parcel:
    tracking_number: str
    carrier_service: str
    weight_g: int


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    tracking_number: str
    status: TrackingStatus
    at: datetime


@dataclass(frozen=True, slots=True)
class TrackingReport:
    received: int
    applied: int
    replayed: int
    """Received before: a replay changes nothing."""
    delivered: tuple[str, ...]
    """Fulfilments that these events moved to `delivered` (all their parcels arrived)."""


@dataclass(frozen=True, slots=True)
class _Context:
    view: SourcingView | None
    record: DecisionRecorder | None
    reroute: bool
    """False on the last attempt after lost races: given-back units wait as a backorder."""


@dataclass
class _Step:
    """One transition in one transaction: what it read and what it changed so far."""

    conn: Connection
    stamp: int
    now: datetime
    rows: orders_repo.OrderRows
    fulfilment: Row[Any]
    action: Transition
    before: FulfilmentStatus
    after: FulfilmentStatus
    context: _Context
    buckets: dict[str, Buckets]
    """Each line's buckets as the domain moved them: the rows must agree at the end."""
    lines: dict[str, list[Any]]
    """line id -> [unallocated, unallocated_reason, cancelled], written at the end."""
    units: dict[str, int] = field(default_factory=dict)
    """line id -> units of this fulfilment now."""
    released: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """line id -> units given back by this step."""
    touched: set[tuple[str, str]] = field(default_factory=set)
    events: list[dict[str, Any]] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)
    """Extra fields of this transition's event."""

    @property
    def location(self) -> str:
        return str(self.fulfilment.location_code)

    @property
    def sku_of(self) -> dict[str, str]:
        return {line.line_id: line.sku_code for line in self.rows.lines}

    def event(self, kind: str, fulfilment_id: str | None, **payload: Any) -> None:
        order_id = self.rows.order.id
        body = {"order_id": order_id, **({"fulfilment_id": fulfilment_id} if fulfilment_id else {})}
        self.events.append(
            {
                "order_id": order_id,
                "fulfilment_id": fulfilment_id,
                "type": kind,
                "payload": {**body, **payload},
            }
        )


class _RaceLost(Exception):
    """A re-route's plan no longer fits a position: roll back and do it all again."""


Change = Callable[[_Step], None]


# --- reading -----------------------------------------------------------------------------


def get_fulfilment(db: Database, fulfilment_id: str, caller: Caller) -> FulfilmentDetail:
    with db.read() as conn:
        row = repo.find(conn, fulfilment_id)
        if row is None or not _in_scope(caller, row):
            raise NotFound("fulfilment", fulfilment_id)
        return _detail(conn, row)


def list_fulfilments(
    db: Database,
    caller: Caller,
    *,
    location: str | None,
    status: FulfilmentStatus | None,
    after: str | None,
    limit: int,
) -> list[FulfilmentDetail]:
    """A store's queue: oldest first. A store key sees its own location only."""
    if caller.location is not None:
        if location not in (None, caller.location):
            message = f"this key acts for location {caller.location!r}, not {location!r}"
            raise Forbidden(message, field="location")
        location = caller.location
    with db.read() as conn:
        rows = repo.page(
            conn,
            location=location,
            status=status.value if status else None,
            after=after,
            limit=limit,
        )
        return _details(conn, rows)


def _in_scope(caller: Caller, row: Row[Any]) -> bool:
    return caller.location is None or row.location_code == caller.location


def _detail(conn: Connection, row: Row[Any]) -> FulfilmentDetail:
    [detail] = _details(conn, [row])
    return detail


def _details(conn: Connection, rows: Sequence[Row[Any]]) -> list[FulfilmentDetail]:
    ids = [row.id for row in rows]
    held: dict[str, list[AllocationView]] = defaultdict(list)
    for a in repo.allocations_of(conn, ids):
        held[a.fulfilment_id].append(AllocationView(a.line_id, a.sku_code, a.units))
    boxes: dict[str, list[ParcelView]] = defaultdict(list)
    for p in repo.parcels_of(conn, ids):
        boxes[p.fulfilment_id].append(
            ParcelView(p.tracking_number, p.carrier_service, p.weight_g, p.status, p.status_at)
        )
    statuses = repo.order_statuses(conn, [row.order_id for row in rows])
    return [
        FulfilmentDetail(
            fulfilment=FulfilmentView(
                id=row.id,
                location=row.location_code,
                status=FulfilmentStatus(row.status),
                rule=row.rule,
                version=row.version,
                created_at=row.created_at,
                updated_at=row.updated_at,
                allocations=tuple(held[row.id]),
            ),
            order_id=row.order_id,
            order_status=OrderStatus(statuses[row.order_id]),
            parcels=tuple(boxes[row.id]),
        )
        for row in rows
    ]


# --- the transitions -----------------------------------------------------------------------


def claim_fulfilment(
    db: Database, fulfilment_id: str, caller: Caller, *, now: datetime
) -> FulfilmentDetail:
    return _run(db, fulfilment_id, Transition.CLAIM, caller, now)


def pack_fulfilment(
    db: Database, fulfilment_id: str, caller: Caller, *, now: datetime
) -> FulfilmentDetail:
    return _run(db, fulfilment_id, Transition.PACK, caller, now)


def pick_fulfilment(
    db: Database,
    view: SourcingView,
    fulfilment_id: str,
    caller: Caller,
    *,
    picked: Mapping[str, int] | None,
    now: datetime,
    record: DecisionRecorder,
) -> FulfilmentDetail:
    """`picked`: units picked per line (a line not named was picked whole). The units not
    found are released at the store and sourced again elsewhere; the fulfilment goes on with
    what was picked."""

    def short(step: _Step) -> None:
        if picked:
            _pick_short(step, picked)

    def reroute(step: _Step) -> None:
        if any(step.released.values()):
            _reroute(step, dict(step.released), MISSING)

    return _run(
        db,
        fulfilment_id,
        Transition.PICK,
        caller,
        now,
        before=short,
        after=reroute,
        context=_Context(view, record, reroute=True),
    )


def ship_fulfilment(
    db: Database,
    fulfilment_id: str,
    caller: Caller,
    *,
    parcels: Sequence[Parcel],
    now: datetime,
) -> FulfilmentDetail:
    """The parcels leave: the units are consumed at the location (on_hand and reserved both
    drop) and the lines' units move from allocated to shipped."""
    if not parcels:
        raise InvalidInput([FieldError("parcels", "at least one parcel", "missing")])

    def add(step: _Step) -> None:
        _add_parcels(step, parcels)

    return _run(db, fulfilment_id, Transition.SHIP, caller, now, before=add)


def deliver_fulfilment(
    db: Database, fulfilment_id: str, caller: Caller, *, now: datetime
) -> FulfilmentDetail:
    """Delivered as a whole: every parcel of it is marked delivered too."""

    def parcels_arrived(step: _Step) -> None:
        for parcel in repo.parcels_of(step.conn, [step.fulfilment.id]):
            if parcel.status != TrackingStatus.DELIVERED:
                repo.set_parcel_status(
                    step.conn, parcel.tracking_number, TrackingStatus.DELIVERED, step.now
                )

    return _run(db, fulfilment_id, Transition.DELIVER, caller, now, after=parcels_arrived)


def cancel_fulfilment(
    db: Database, fulfilment_id: str, caller: Caller, *, now: datetime
) -> FulfilmentDetail:
    """Its units are released and cancelled on their lines; refused once they have shipped."""
    return _run(db, fulfilment_id, Transition.CANCEL, caller, now)


def reject_fulfilment(
    db: Database,
    view: SourcingView,
    fulfilment_id: str,
    caller: Caller,
    *,
    reason: RejectReason,
    found: Mapping[str, int] | None,
    now: datetime,
    record: DecisionRecorder,
) -> FulfilmentDetail:
    """The store refuses: its units are released, the reason's effect on stock applied, and
    the units sourced again without that store."""

    def check(step: _Step) -> None:
        _check_found(step, reason, found)

    def effect(step: _Step) -> None:
        _reject_effect(step, reason, found or {})
        _reroute(step, dict(step.released), reason.value)

    return _run(
        db,
        fulfilment_id,
        Transition.REJECT,
        caller,
        now,
        before=check,
        after=effect,
        context=_Context(view, record, reroute=True),
    )


def _run(
    db: Database,
    fulfilment_id: str,
    action: Transition,
    caller: Caller,
    now: datetime,
    *,
    before: Change | None = None,
    after: Change | None = None,
    context: _Context | None = None,
) -> FulfilmentDetail:
    context = context or _Context(None, None, reroute=False)
    if context.view is not None:
        context.view.refresh()
    for attempt in range(MAX_ATTEMPTS):
        last = attempt == MAX_ATTEMPTS - 1
        try:
            with db.write() as uow:
                conn = uow.conn
                step = _begin(
                    conn, changes.stamp(conn), fulfilment_id, action, caller=caller, now=now
                )
                step.context = _Context(
                    context.view, context.record, reroute=context.reroute and not last
                )
                if before is not None:
                    before(step)
                _transition(step)
                if after is not None:
                    after(step)
                _finish(step)
                detail = _detail(conn, _reread(conn, fulfilment_id))
                uow.commit()
            return detail
        except _RaceLost:
            if context.view is not None:
                context.view.index.mark_stale()
        except IntegrityError as error:  # a tracking number taken meanwhile by another ship
            if action is not Transition.SHIP:
                raise
            raise DuplicateParcel("a tracking number of these parcels is already used") from error
    raise AssertionError("the last attempt never re-routes, so it cannot lose a race")


def _reread(conn: Connection, fulfilment_id: str) -> Row[Any]:
    row = repo.find(conn, fulfilment_id)
    assert row is not None
    return row


def _begin(
    conn: Connection,
    stamp: int,
    fulfilment_id: str,
    action: Transition,
    *,
    caller: Caller,
    now: datetime,
) -> _Step:
    found = repo.find(conn, fulfilment_id)
    if found is None or not _in_scope(caller, found):
        raise NotFound("fulfilment", fulfilment_id)
    if not may_act(caller.actor, action):
        raise Forbidden(f"role {caller.actor.value!r} may not {action.value} a fulfilment")
    rows = orders_repo.load(conn, found.order_id, for_update=True)
    assert rows is not None
    fulfilment = next(f for f in rows.fulfilments if f.id == fulfilment_id)
    status = FulfilmentStatus(fulfilment.status)
    try:
        target = next_status(status, action)
    except IllegalTransition as error:
        raise TransitionRefused(error) from error
    view = order_view(rows)
    return _Step(
        conn=conn,
        stamp=stamp,
        now=now,
        rows=rows,
        fulfilment=fulfilment,
        action=action,
        before=status,
        after=target,
        context=_Context(None, None, reroute=False),
        buckets={line.line_id: line.buckets for line in view.lines},
        lines={
            line.line_id: [line.unallocated, line.unallocated_reason, line.cancelled]
            for line in rows.lines
        },
        units={a.line_id: a.units for a in rows.allocations if a.fulfilment_id == fulfilment_id},
    )


def _transition(step: _Step) -> None:
    """The status change, its stock effect (from `holding`) and its buckets (with `move`)."""
    location = step.location
    source, target = place_for(step.before, location), place_for(step.after, location)
    was, becomes = holding(step.before), holding(step.after)
    sku_of = step.sku_of
    for line_id, units in sorted(step.units.items()):
        if not units:
            continue
        if source != target:
            step.buckets[line_id] = move(step.buckets[line_id], source, target, units)
        held = Units(location, sku_of[line_id], units)
        if (was, becomes) == (Holding.HELD, Holding.CONSUMED):
            if not repo.consume(step.conn, step.fulfilment.id, held, now=step.now):
                raise AssertionError(f"{location}/{held.sku} holds fewer than {units} reserved")
            step.touched.add((location, held.sku))
        elif (was, becomes) == (Holding.HELD, Holding.RELEASED):
            _give_back(step, line_id, units, target)
    if not orders_repo.set_fulfilment_status(
        step.conn, step.fulfilment.id, step.after.value, step.fulfilment.version, step.now
    ):
        raise ChangedMeanwhile(f"fulfilment {step.fulfilment.id} changed meanwhile; read it again")
    step.event(
        f"fulfilment.{PAST[step.action]}",
        step.fulfilment.id,
        location=location,
        status=step.after.value,
        **step.payload,
    )


def _give_back(step: _Step, line_id: str, units: int, target: Any) -> None:
    """Release units held for this fulfilment: they leave its allocation for the line's
    unallocated (to be sourced again) or cancelled bucket."""
    sku = step.sku_of[line_id]
    if not orders_repo.release(step.conn, step.location, sku, units):
        raise AssertionError(f"{step.location}/{sku} holds fewer than {units} reserved units")
    step.touched.add((step.location, sku))
    step.units[line_id] -= units
    orders_repo.set_allocation_units(step.conn, step.fulfilment.id, line_id, step.units[line_id])
    column = 2 if target is Bucket.CANCELLED else 0
    step.lines[line_id][column] += units
    if target is Bucket.UNALLOCATED:
        step.released[line_id] += units


def _finish(step: _Step) -> None:
    """Write the lines, check the rows against the domain's buckets, save the order status."""
    conn, order_id = step.conn, step.rows.order.id
    for line in step.rows.lines:
        unallocated, reason, cancelled = step.lines[line.line_id]
        if (unallocated, reason, cancelled) != (
            line.unallocated,
            line.unallocated_reason,
            line.cancelled,
        ):
            repo.set_line(
                conn,
                order_id,
                line.line_id,
                unallocated=unallocated,
                reason=reason if unallocated else None,
                cancelled=cancelled,
            )
    after = orders_repo.load(conn, order_id)
    assert after is not None
    view = order_view(after)
    for seen in view.lines:
        ensure_conserved(seen.quantity, seen.buckets)
        if seen.buckets != step.buckets[seen.line_id]:
            raise AssertionError(
                f"line {seen.line_id}: rows say {seen.buckets}, moves {step.buckets[seen.line_id]}"
            )
    status = view.summary.status.value
    orders_repo.set_order_status(conn, order_id, status, step.now)
    for event in step.events:
        event["payload"]["order_status"] = status
    stock_changes.record(conn, sorted(step.touched), step.stamp, step.now)
    events_repo.append(conn, step.events, step.stamp, step.now)


# --- pick short, parcels, reject -----------------------------------------------------------


def _pick_short(step: _Step, picked: Mapping[str, int]) -> None:
    errors = []
    for line_id, units in picked.items():
        held = step.units.get(line_id, 0)
        if not held:
            message = f"fulfilment {step.fulfilment.id} holds no unit of line {line_id!r}"
            errors.append(FieldError(f"picked.{line_id}", message, "unknown"))
        elif units > held:
            message = f"{units} picked, {held} asked"
            errors.append(FieldError(f"picked.{line_id}", message, "out_of_range"))
    if errors:
        raise InvalidInput(errors)
    missing = {
        line_id: held - picked[line_id]
        for line_id, held in step.units.items()
        if line_id in picked and held > picked[line_id]
    }
    if sum(step.units.values()) == sum(missing.values()):
        message = "nothing was picked: reject the fulfilment (reason out_of_stock) instead"
        raise InvalidInput([FieldError("picked", message, "nothing_picked")])
    location = step.location
    for line_id, units in sorted(missing.items()):
        step.buckets[line_id] = move(
            step.buckets[line_id], AllocatedAt(location), Bucket.UNALLOCATED, units
        )
        _give_back(step, line_id, units, Bucket.UNALLOCATED)
    step.payload["missing"] = [{"line_id": k, "units": v} for k, v in sorted(missing.items())]


def _add_parcels(step: _Step, parcels: Sequence[Parcel]) -> None:
    numbers = [p.tracking_number for p in parcels]
    errors = [
        FieldError(f"parcels[{i}].tracking_number", "is given twice", "duplicate")
        for i, number in enumerate(numbers)
        if number in numbers[:i]
    ]
    if errors:
        raise InvalidInput(errors)
    taken = repo.existing_parcels(step.conn, numbers)
    if taken:
        raise DuplicateParcel(f"tracking numbers already used: {', '.join(sorted(taken))}")
    rows = [ParcelRow(p.tracking_number, p.carrier_service, p.weight_g) for p in parcels]
    repo.add_parcels(step.conn, step.fulfilment.id, rows, step.now)
    step.payload["parcels"] = [p.tracking_number for p in parcels]


def _check_found(step: _Step, reason: RejectReason, found: Mapping[str, int] | None) -> None:
    step.payload["reason"] = reason.value
    if reason is RejectReason.NO_CAPACITY:
        step.payload["closed_for"] = _local_day(
            step.context.view, step.location, step.now
        ).isoformat()
    if reason is not RejectReason.OUT_OF_STOCK:
        if found:
            message = f"only for out_of_stock, not {reason.value}"
            raise InvalidInput([FieldError("found", message, "not_allowed")])
        return
    if not found:
        message = "out_of_stock says how many units of each sku were found"
        raise InvalidInput([FieldError("found", message, "missing")])
    held = {step.sku_of[line_id] for line_id, units in step.units.items() if units}
    errors = [
        FieldError(f"found.{sku}", f"the fulfilment holds no unit of sku {sku!r}", "unknown")
        for sku in found
        if sku not in held
    ]
    if errors:
        raise InvalidInput(errors)
    step.payload["found"] = dict(found)


def _reject_effect(step: _Step, reason: RejectReason, found: Mapping[str, int]) -> None:
    location = step.location
    if reason is RejectReason.OUT_OF_STOCK:
        for sku, units in sorted(found.items()):
            repo.set_on_hand(step.conn, location, sku, units)
            step.touched.add((location, sku))
    elif reason is RejectReason.DAMAGED:
        by_sku: dict[str, int] = defaultdict(int)
        for line_id, units in step.released.items():
            by_sku[step.sku_of[line_id]] += units
        for sku, units in sorted(by_sku.items()):
            repo.write_off(step.conn, step.fulfilment.id, Units(location, sku, units), now=step.now)
            step.touched.add((location, sku))
    else:
        day = _local_day(step.context.view, location, step.now)
        repo.close_location(step.conn, location, day, reason.value, step.now)


def _local_day(view: SourcingView | None, location: str, now: datetime) -> date:
    known = view.location(location) if view is not None else None
    return now.astimezone(known.zone).date() if known is not None else now.date()


# --- re-routing ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Planned:
    result: SourcingResult | None
    outcomes: tuple[tuple[str, SourcingResult], ...]


def _reroute(step: _Step, units: Mapping[str, int], reason: str) -> None:
    """Source the given-back units again with the order's profile, without this store or a
    store closed for the day; what no location can take waits on its line, with the reason."""
    wanted = {line_id: n for line_id, n in units.items() if n}
    if not wanted:
        return
    view, record = step.context.view, step.context.record
    assert view is not None
    assert record is not None
    sku_of = step.sku_of
    excluded = sorted({step.location} | _closed(step.conn, view, step.now))
    lines = [RequestedLine(line_id, sku_of[line_id], n) for line_id, n in sorted(wanted.items())]
    planned = _plan(step, view, lines, excluded) if step.context.reroute else _Planned(None, ())
    created: list[str] = []
    if planned.result is not None and planned.result.plan is not None:
        created = _allocate(step, view, planned.result)
    allocated: dict[str, int] = defaultdict(int)
    if planned.result is not None and planned.result.plan is not None:
        for shipment in planned.result.plan.shipments:
            for a in shipment.allocations:
                allocated[a.line_id] += a.units
    left = {line_id: n - allocated[line_id] for line_id, n in wanted.items()}
    why = _backorder_reason(planned, step.context.reroute)
    for line_id, n in left.items():
        if n:
            step.lines[line_id][1] = why
    trigger = {
        "fulfilment_id": step.fulfilment.id,
        "location": step.location,
        "reason": reason,
        "units": [{"line_id": k, "units": v} for k, v in sorted(wanted.items())],
        "excluded_locations": excluded,
    }
    history = [
        (outcome, {**record(result), "reroute": trigger}) for outcome, result in planned.outcomes
    ] or [(why, {"reroute": trigger})]
    orders_repo.add_decisions(step.conn, step.rows.order.id, history, step.now)
    step.event(
        "order.rerouted",
        None,
        reason=reason,
        from_fulfilment=step.fulfilment.id,
        to_fulfilments=created,
        unallocated=[{"line_id": k, "units": v} for k, v in sorted(left.items()) if v],
    )


def _backorder_reason(planned: _Planned, tried: bool) -> str:
    if not tried:
        return CONTENTION
    result = planned.outcomes[0][1] if planned.outcomes else None
    if result is not None and any(a.decision.shortfall for a in result.attempts):
        return NO_STOCK
    return NO_PLAN


def _closed(conn: Connection, view: SourcingView, now: datetime) -> set[str]:
    """Stores closed for the rest of their local day (a `no_capacity` reject)."""
    closed = set()
    for location, day in repo.closures_since(conn, (now - timedelta(days=1)).date()):
        if day == _local_day(view, location, now):
            closed.add(location)
    return closed


def _plan(
    step: _Step, view: SourcingView, lines: Sequence[RequestedLine], excluded: Iterable[str]
) -> _Planned:
    """The whole remainder if it can be served; else what the locations hold of it."""
    order = step.rows.order
    skus = view.skus([line.sku for line in lines])
    out = set(excluded)
    stock = {
        location: held
        for location, held in repo.atp_by_location(step.conn, skus).items()
        if location not in out
    }
    basket = BasketStock(skus, stock)

    def run(basket_lines: Sequence[RequestedLine]) -> SourcingResult | None:
        try:
            return plan_basket(
                view,
                channel=order.channel,
                method=DeliveryMethod(order.delivery_method),
                lines=basket_lines,
                destination=_destination(view, order),
                now=step.now,
                basket=basket,
            )
        except (NotFound, Conflict):  # no live profile, or a rule that cannot be applied
            return None

    first = run(lines)
    if first is None:
        return _Planned(None, ())
    if first.plan is not None:
        return _Planned(first, (("rerouted", first),))
    outcomes: list[tuple[str, SourcingResult]] = [("shortfall", first)]
    for attempt in first.attempts:
        missing = {s.line_id: s.units for s in attempt.decision.shortfall}
        reduced = [
            RequestedLine(line.line_id, line.sku, line.quantity - missing.get(line.line_id, 0))
            for line in lines
            if line.quantity > missing.get(line.line_id, 0)
        ]
        if not missing or not reduced:
            continue
        again = run(reduced)
        if again is not None and again.plan is not None:
            return _Planned(again, (*outcomes, ("rerouted", again)))
    return _Planned(None, tuple(outcomes))


def _destination(view: SourcingView, order: Row[Any]) -> Destination:
    if order.pickup_store is not None:
        store = view.location(order.pickup_store)
        if store is not None:
            return Destination(store.point, store.country)
    return Destination(GeoPoint(order.latitude, order.longitude), order.country or "FR")


def _allocate(step: _Step, view: SourcingView, result: SourcingResult) -> list[str]:
    """New fulfilments for the plan, their units reserved; a position that no longer fits
    means another transaction took it since it was read: start again."""
    assert result.plan is not None
    order = step.rows.order
    status = INITIAL_STATUS
    if _offer_mode(view, order, result.rule, step.now) is OfferMode.AUTO_CLAIM and may_act(
        Actor.SYSTEM, Transition.CLAIM
    ):
        status = next_status(status, Transition.CLAIM)
    sku_of = step.sku_of
    created = []
    for shipment in result.plan.shipments:
        fulfilment_id = str(uuid7())
        created.append(fulfilment_id)
        step.conn.execute(
            fulfilments.insert(),
            [
                {
                    "id": fulfilment_id,
                    "order_id": order.id,
                    "location_code": shipment.location,
                    "status": status.value,
                    "rule": result.rule,
                    "version": 1,
                    "created_at": step.now,
                    "updated_at": step.now,
                }
            ],
        )
        rows = []
        for a in shipment.allocations:
            sku = sku_of[a.line_id]
            if not orders_repo.reserve(step.conn, shipment.location, sku, a.units):
                raise _RaceLost(shipment.location, sku)
            step.touched.add((shipment.location, sku))
            step.buckets[a.line_id] = move(
                step.buckets[a.line_id], Bucket.UNALLOCATED, AllocatedAt(shipment.location), a.units
            )
            step.lines[a.line_id][0] -= a.units
            rows.append(
                {
                    "fulfilment_id": fulfilment_id,
                    "line_id": a.line_id,
                    "order_id": order.id,
                    "location_code": shipment.location,
                    "sku_code": sku,
                    "units": a.units,
                }
            )
        step.conn.execute(allocations.insert(), rows)
        step.event(
            f"fulfilment.{status.value}",
            fulfilment_id,
            location=shipment.location,
            status=status.value,
            allocations=[
                {"line_id": r["line_id"], "sku": r["sku_code"], "units": r["units"]} for r in rows
            ],
        )
    return created


def _offer_mode(view: SourcingView, order: Row[Any], rule: str | None, now: datetime) -> OfferMode:
    try:
        profile = view.live_profile(order.channel, DeliveryMethod(order.delivery_method), now)
    except NotFound:
        return OfferMode.AUTO_CLAIM
    found = next((r for r in profile.rules if r.name == rule), None)
    return found.offer.mode if found is not None else OfferMode.AUTO_CLAIM


# --- tracking --------------------------------------------------------------------------------


def record_tracking(
    db: Database, batch: Sequence[TrackingEvent], *, now: datetime
) -> TrackingReport:
    """Carrier events, checked whole first: one unknown parcel refuses the batch (404 naming
    each). A parcel delivered is final; a fulfilment whose parcels are all delivered moves to
    `delivered`. An event received before (same parcel, status and time) changes nothing."""
    rows = list(dict.fromkeys(TrackingRow(e.tracking_number, e.status.value, e.at) for e in batch))
    numbers = sorted({row.tracking_number for row in rows})
    with db.write() as uow:
        conn = uow.conn
        known = repo.existing_parcels(conn, numbers)
        unknown = [number for number in numbers if number not in known]
        if unknown:
            raise UnknownParcels(unknown)
        new = repo.insert_new_tracking(conn, rows, now)
        arrived = _apply_tracking(conn, known, new)
        stamp = changes.stamp(conn)
        _parcel_events(conn, known, new, stamp, now)
        delivered = []
        by_order = sorted((repo.find(conn, f_id) for f_id in arrived), key=_order_key)
        for row in by_order:
            if row is None or FulfilmentStatus(row.status) is not FulfilmentStatus.SHIPPED:
                continue
            states = {p.status for p in repo.parcels_of(conn, [row.id])}
            if states != {TrackingStatus.DELIVERED.value}:
                continue
            step = _begin(
                conn, stamp, row.id, Transition.DELIVER, caller=Caller(Actor.CARRIER), now=now
            )
            _transition(step)
            _finish(step)
            delivered.append(row.id)
        uow.commit()
    return TrackingReport(
        received=len(batch),
        applied=len(new),
        replayed=len(batch) - len(new),
        delivered=tuple(delivered),
    )


def _order_key(row: Row[Any] | None) -> tuple[str, str]:
    return (row.order_id, row.id) if row is not None else ("", "")


def _apply_tracking(
    conn: Connection, known: Mapping[str, Row[Any]], new: Sequence[TrackingRow]
) -> set[str]:
    """Each parcel's status becomes its latest event's; delivered stays. Returns the
    fulfilments with a parcel delivered by these events."""
    state = {number: (row.status, row.status_at) for number, row in known.items()}
    arrived: set[str] = set()
    for event in sorted(new, key=lambda e: e.at):
        status, at = state[event.tracking_number]
        if status == TrackingStatus.DELIVERED:
            continue
        if event.status == TrackingStatus.DELIVERED or event.at >= at:
            state[event.tracking_number] = (event.status, event.at)
            repo.set_parcel_status(conn, event.tracking_number, event.status, event.at)
            if event.status == TrackingStatus.DELIVERED:
                arrived.add(known[event.tracking_number].fulfilment_id)
    return arrived


def _parcel_events(
    conn: Connection,
    known: Mapping[str, Row[Any]],
    new: Sequence[TrackingRow],
    stamp: int,
    now: datetime,
) -> None:
    owners = {row.fulfilment_id: repo.find(conn, row.fulfilment_id) for row in known.values()}
    rows = []
    for event in new:
        fulfilment = owners[known[event.tracking_number].fulfilment_id]
        assert fulfilment is not None
        rows.append(
            {
                "order_id": fulfilment.order_id,
                "fulfilment_id": fulfilment.id,
                "type": f"parcel.{event.status}",
                "payload": {
                    "order_id": fulfilment.order_id,
                    "fulfilment_id": fulfilment.id,
                    "tracking_number": event.tracking_number,
                    "status": event.status,
                    "at": event.at.isoformat(),
                },
            }
        )
    events_repo.append(conn, rows, stamp, now)
