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
same transaction (services/rerouting.py): new fulfilments and allocations, or a backorder with a
reason, and a record in the order's decision history. Carrier tracking is services/tracking.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row
from sqlalchemy.exc import IntegrityError

from openoms.db import changes
from openoms.db.repositories import fulfilments as repo
from openoms.db.repositories import offers as offers_repo
from openoms.db.repositories import orders as orders_repo
from openoms.db.repositories.fulfilments import ParcelRow, Units
from openoms.db.uow import Database
from openoms.domain.fulfilments import (
    Actor,
    FulfilmentStatus,
    Holding,
    IllegalTransition,
    Transition,
    holding,
    may_act,
    next_status,
)
from openoms.domain.orders import AllocatedAt, Bucket, OrderStatus, move, place_for
from openoms.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from openoms.services.offers import OfferView, close_offers, move_hold, open_offers
from openoms.services.order_change import OrderChange, change_fields, finish_change, local_day
from openoms.services.ordering import (
    MAX_ATTEMPTS,
    AllocationView,
    DecisionRecorder,
    FulfilmentView,
)
from openoms.services.rerouting import RaceLost, reroute_units
from openoms.services.sourcing_view import SourcingView

MISSING = "missing"
"""A pick short of units: the store did not find them."""

PAST = {
    Transition.CLAIM: "claimed",
    Transition.PICK: "picked",
    Transition.PACK: "packed",
    Transition.SHIP: "shipped",
    Transition.DELIVER: "delivered",
    Transition.TRANSFER: "transferred",
    Transition.READY: "ready_for_pickup",
    Transition.RECEIVE: "received",
    Transition.COLLECT: "collected",
    Transition.REJECT: "rejected",
    Transition.WITHDRAW: "withdrawn",
    Transition.CANCEL: "cancelled",
}
"""The event of each action: `fulfilment.<past tense>`."""

MOVEMENT = {FulfilmentStatus.IN_TRANSFER: "transfer_out", FulfilmentStatus.COLLECTED: "collected"}
"""The stock movement of units leaving a shelf, by where they go (else `shipped`)."""


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


@dataclass(frozen=True, slots=True)
class Caller:
    actor: Actor
    location: str | None = None
    """A store key's location: it sees and acts on fulfilments there only."""
    channel: str | None = None
    """A channel key's channel, when scoped: it sees and acts on that channel's orders only."""


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
    offer: OfferView | None = None
    """Its open offer wave, while it is offered to stores."""


@dataclass(frozen=True, slots=True)
class Parcel:
    tracking_number: str
    carrier_service: str
    weight_g: int


@dataclass(frozen=True, slots=True)
class _Context:
    view: SourcingView | None
    record: DecisionRecorder | None
    reroute: bool
    """False on the last attempt after lost races: given-back units wait as a backorder."""


@dataclass(kw_only=True)
class _Step(OrderChange):
    """One transition in one transaction: what it read and what it changed so far."""

    fulfilment: Row[Any]
    action: Transition
    before: FulfilmentStatus
    after: FulfilmentStatus
    context: _Context
    units: dict[str, int] = field(default_factory=dict)
    """line id -> units of this fulfilment now."""
    released: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """line id -> units given back by this step."""
    payload: dict[str, Any] = field(default_factory=dict)
    """Extra fields of this transition's event."""

    @property
    def location(self) -> str:
        return str(self.fulfilment.location_code)


Change = Callable[[_Step], None]


# --- reading -----------------------------------------------------------------------------


def get_fulfilment(db: Database, fulfilment_id: str, caller: Caller) -> FulfilmentDetail:
    with db.read() as conn:
        row = repo.find(conn, fulfilment_id)
        if row is None or not _in_scope(conn, caller, row):
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
    """A store's queue, oldest first: its fulfilments and those offered to it. A store key
    sees its own location only."""
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
            channel=caller.channel,
        )
        return _details(conn, rows)


def _in_scope(conn: Connection, caller: Caller, row: Row[Any]) -> bool:
    """Its location's, or offered to it (a store sees and may claim an offer made to it); its
    channel's, for a key scoped to a channel."""
    if caller.channel is not None and repo.channel_of(conn, row.order_id) != caller.channel:
        return False
    if caller.location is None or row.location_code == caller.location:
        return True
    offered = row.status == FulfilmentStatus.OFFERED
    return offered and offers_repo.is_open_to(conn, row.id, caller.location)


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
    offered = open_offers(conn, [row.id for row in rows if row.status == FulfilmentStatus.OFFERED])
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
            offer=offered.get(row.id),
        )
        for row in rows
    ]


# --- the transitions -----------------------------------------------------------------------


def claim_fulfilment(
    db: Database, fulfilment_id: str, caller: Caller, *, now: datetime
) -> FulfilmentDetail:
    """The first claim wins. A store claiming an offer made to it takes the hold over from
    the holding store, or is refused (`ClaimDoesNotFit`) if its stock no longer has the units."""

    def take_over(step: _Step) -> None:
        if caller.location is not None and caller.location != step.location:
            step.fulfilment = move_hold(step, step.fulfilment, caller.location)

    return _run(db, fulfilment_id, Transition.CLAIM, caller, now, before=take_over)


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
    services: Collection[str] | None = None,
) -> FulfilmentDetail:
    """The parcels leave: the units are consumed at the location (on_hand and reserved both
    drop) and the lines' units move from allocated to shipped. `services`: the carrier
    service codes a parcel may name (None: any)."""
    if not parcels:
        raise InvalidInput([FieldError("parcels", "at least one parcel", "missing")])
    if services is not None:
        known = ", ".join(sorted(services))
        unknown = [
            FieldError(
                f"parcels[{i}].carrier_service", f"not a carrier service ({known})", "unknown"
            )
            for i, parcel in enumerate(parcels)
            if parcel.carrier_service not in services
        ]
        if unknown:
            raise InvalidInput(unknown)

    def add(step: _Step) -> None:
        from openoms.services.collect import refuse_shipping  # noqa: PLC0415  (builds on this)

        refuse_shipping(step)
        add_parcels(step, parcels)

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
    from openoms.services.collect import settle_collect_order  # noqa: PLC0415  (builds on this)

    return _run(db, fulfilment_id, Transition.CANCEL, caller, now, after=settle_collect_order)


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
        from openoms.services.collect import decline_express  # noqa: PLC0415  (builds on this)

        _reject_effect(step, reason, found or {})
        decline_express(step, reason.value)
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
                step = begin_step(
                    conn, changes.stamp(conn), fulfilment_id, action, caller=caller, now=now
                )
                step.context = _Context(
                    context.view, context.record, reroute=context.reroute and not last
                )
                if before is not None:
                    before(step)
                apply_transition(step)
                if after is not None:
                    after(step)
                finish_change(step)
                detail = _detail(conn, _reread(conn, fulfilment_id))
                uow.commit()
            return detail
        except RaceLost:
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


def begin_step(
    conn: Connection,
    stamp: int,
    fulfilment_id: str,
    action: Transition,
    *,
    caller: Caller,
    now: datetime,
) -> _Step:
    found = repo.find(conn, fulfilment_id)
    if found is None or not _in_scope(conn, caller, found):
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
    return _Step(
        **change_fields(conn, rows, now, stamp),
        fulfilment=fulfilment,
        action=action,
        before=status,
        after=target,
        context=_Context(None, None, reroute=False),
        units={a.line_id: a.units for a in rows.allocations if a.fulfilment_id == fulfilment_id},
    )


def apply_transition(step: _Step) -> None:
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
            kind = MOVEMENT.get(step.after, "shipped")
            if not repo.consume(step.conn, step.fulfilment.id, held, now=step.now, kind=kind):
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
    if step.before is FulfilmentStatus.OFFERED:
        winner = location if step.action is Transition.CLAIM else None
        close_offers(step, step.fulfilment.id, winner)


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


def _reroute(step: _Step, units: Mapping[str, int], reason: str) -> None:
    """The given-back units sourced again without this store."""
    view, record = step.context.view, step.context.record
    assert view is not None
    assert record is not None
    reroute_units(
        step,
        view=view,
        record=record,
        units_by_line=units,
        exclude={step.location},
        reason=reason,
        from_fulfilment=step.fulfilment.id,
        from_location=step.location,
        plan=step.context.reroute,
    )


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


def add_parcels(step: _Step, parcels: Sequence[Parcel]) -> None:
    """The parcels a fulfilment leaves in (ship, or a click & collect transfer), each tracking
    number new: twice in the request is a 422, already known a 409."""
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
        step.payload["closed_for"] = local_day(
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
            repo.set_on_hand(step.conn, location, sku, units, step.now)
            step.touched.add((location, sku))
    elif reason is RejectReason.DAMAGED:
        by_sku: dict[str, int] = defaultdict(int)
        for line_id, units in step.released.items():
            by_sku[step.sku_of[line_id]] += units
        for sku, units in sorted(by_sku.items()):
            repo.write_off(step.conn, step.fulfilment.id, Units(location, sku, units), now=step.now)
            step.touched.add((location, sku))
    else:
        day = local_day(step.context.view, location, step.now)
        repo.close_location(step.conn, location, day, reason.value, step.now)
