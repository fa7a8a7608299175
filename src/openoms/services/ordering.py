"""Orders: placing one (sourced, then allocated without oversell), reading, listing, cancelling.

Allocation is a conditional update per position (`orders_repo.reserve`: `reserved + q` only
where ATP still holds q), in key order, last in the order's write transaction (so that the
positions' row locks are held for the commit only; on PostgreSQL the whole write is one round
trip, `orders_repo.place_in_one_trip`). Chosen over locking
the positions first (`lock_positions`, then checking in Python, then updating): one statement
and one round trip per position instead of two, the check and the write cannot drift apart,
and it behaves the same on SQLite and PostgreSQL. The plan was made from the in-process index,
which may be a little stale: a position that no longer fits means a race was lost. The whole
transaction is then rolled back, the index marked stale, and the basket sourced again from
fresh figures, at most `MAX_ATTEMPTS` times; what cannot be allocated after that stays on its
line as `unallocated` with a reason (a backorder: the order is still accepted).

Every change writes its events to the outbox in its own transaction, with the same change stamp
as the stock it moved (db/changes.py), so the availability index sees the reservation.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Row
from sqlalchemy.exc import IntegrityError
from uuid6 import uuid7

from openoms.db import changes
from openoms.db.repositories import events as events_repo
from openoms.db.repositories import holds as holds_repo
from openoms.db.repositories import orders as repo
from openoms.db.repositories import stock_changes
from openoms.db.repositories.codes import existing_codes
from openoms.db.tables import channels
from openoms.db.uow import Database
from openoms.domain.fulfilments import (
    INITIAL_STATUS,
    Actor,
    FulfilmentStatus,
    Transition,
    allowed_actions,
    may_act,
    next_status,
)
from openoms.domain.network import Capability, GeoPoint
from openoms.domain.orders import (
    AllocatedAt,
    Bucket,
    Buckets,
    OrderStatus,
    ensure_conserved,
    move,
    order_status,
    place_for,
)
from openoms.domain.profiles import DeliveryMethod, FilterReason, OfferMode
from openoms.domain.shipping import Destination
from openoms.domain.sourcing import Allocation, Plan
from openoms.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from openoms.services.sourcing import (
    BasketStock,
    RequestedLine,
    SourcingResult,
    plan_basket,
    read_basket,
)
from openoms.services.sourcing_view import ExcludedLocation, SourcingView

MAX_ATTEMPTS = 3
COLLECT_METHODS = frozenset({DeliveryMethod.CLICK_COLLECT, DeliveryMethod.EXPRESS_COLLECT})

NO_STOCK = "no_stock"
"""The locations the profile admits hold fewer units than ordered."""
NO_PLAN = "no_plan"
"""There are units, but no rule of the profile may serve them (split policy, filters)."""
CONTENTION = "contention"
"""Other orders took the stock of every plan tried, `MAX_ATTEMPTS` times."""

DecisionRecorder = Callable[[SourcingResult], Mapping[str, Any]]
"""Turns a sourcing result into the JSON kept in the decision history (the API's shape)."""


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    title = "Idempotency-Key reused"


@dataclass(frozen=True, slots=True)
class Customer:
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class OrderRequest:
    channel: str
    lines: tuple[RequestedLine, ...]
    customer: Customer
    method: DeliveryMethod
    destination: Destination | None
    pickup_store: str | None
    promise_option: Mapping[str, Any] | None
    idempotency_key: str
    request_hash: str
    hold_id: str | None = None
    """A hold of the same channel and lines, made during payment: its units become the order's."""


@dataclass(frozen=True, slots=True)
class LineView:
    line_id: str
    sku: str
    quantity: int
    unit_price: int
    currency: str
    unallocated_reason: str | None
    buckets: Buckets


@dataclass(frozen=True, slots=True)
class AllocationView:
    line_id: str
    sku: str
    units: int


@dataclass(frozen=True, slots=True)
class FulfilmentView:
    id: str
    location: str
    status: FulfilmentStatus
    rule: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    allocations: tuple[AllocationView, ...]


@dataclass(frozen=True, slots=True)
class DecisionView:
    seq: int
    outcome: str
    record: Mapping[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OrderSummary:
    id: str
    channel: str
    delivery_method: str
    status: OrderStatus
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class OrderView:
    summary: OrderSummary
    customer: Mapping[str, Any]
    destination: Destination | None
    pickup_store: str | None
    promise_option: Mapping[str, Any] | None
    lines: tuple[LineView, ...]
    fulfilments: tuple[FulfilmentView, ...]
    decisions: tuple[DecisionView, ...]


@dataclass(frozen=True, slots=True)
class Placed:
    order: OrderView
    created: bool
    """False when the idempotency key had placed it already: nothing new was written."""


@dataclass(frozen=True, slots=True)
class CancelLine:
    line_id: str
    units: int


class _RaceLost(Exception):
    """A position of the plan no longer had the units: roll back and source again."""


@dataclass(frozen=True, slots=True)
class _Sourcing:
    results: tuple[tuple[str, SourcingResult], ...]
    """(outcome, result) of each sourcing run, for the decision history."""
    plan: Plan | None
    rule: str | None
    reason: str
    """Why the units the plan leaves out are unallocated."""
    held: tuple[tuple[str, tuple[Allocation, ...]], ...] = ()
    """The hold's (location, allocations), when the order takes them instead of a plan."""
    hold_id: str | None = None


def request_hash(body: Mapping[str, Any]) -> str:
    """The fingerprint an idempotency key is bound to: the body in canonical JSON."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def place_order(
    db: Database,
    view: SourcingView,
    request: OrderRequest,
    *,
    now: datetime,
    record: DecisionRecorder,
) -> Placed:
    """Source, allocate and save an order; the same key and body again answer the first order.

    A retry is not looked up before sourcing (a read transaction per order for the rare
    retry): the order's insert meets the unique (channel, idempotency key) first thing in the
    write, and the first order is answered from there; a retry that would now be refused
    (its pickup store closed since, say) is looked up before the refusal is answered.
    """
    try:
        destination = destination_for(view, request)
        held, notes = _from_hold(db, request, now)
        lost: list[tuple[str, SourcingResult]] = []
        for _ in range(MAX_ATTEMPTS):
            sourcing = held or _source(view, request, destination, now)
            if request.method is DeliveryMethod.EXPRESS_COLLECT:
                _check_express(view, request, sourcing, now)
            try:
                return _save(db, view, request, sourcing, lost, notes=notes, now=now, record=record)
            except _RaceLost:
                lost += [("race_lost", result) for _, result in sourcing.results]
                view.index.mark_stale()
                if held is not None:  # converted or expired meanwhile: sourced as usual
                    notes = [*notes, ("hold_lost", {"hold_id": held.hold_id})]
                    held = None
        given_up = _Sourcing((), None, None, CONTENTION)
        return _save(db, view, request, given_up, lost, notes=notes, now=now, record=record)
    except IntegrityError:
        replay = _replay(db, request)  # the same key, placed before or meanwhile
        if replay is None:
            raise
        return replay
    except (InvalidInput, Conflict, NotFound):
        replay = _replay(db, request)
        if replay is None:
            raise
        return replay


def _check_express(
    view: SourcingView, request: OrderRequest, sourcing: _Sourcing, now: datetime
) -> None:
    """Express collect: from the pickup store's own shelf only, while it is open (else 409)."""
    from openoms.services import collect  # noqa: PLC0415  (collect builds on this module)

    plan = sourcing.plan
    shipments = [(s.location, s.allocations) for s in plan.shipments] if plan else sourcing.held
    ordered = {line.line_id: line.quantity for line in request.lines}
    collect.check_express(view, request.pickup_store, shipments, ordered, now)


def _from_hold(
    db: Database, request: OrderRequest, now: datetime
) -> tuple[_Sourcing | None, list[tuple[str, Mapping[str, Any]]]]:
    """The order's plan taken from its hold, if it is active and not expired; else None and
    a note for the decision history (the order is then sourced as usual). A hold unknown, of
    another channel or of other lines is a 422 naming `hold_id`."""
    if request.hold_id is None:
        return None, []
    with db.read() as conn:
        found = holds_repo.find(conn, request.hold_id)
    if found is None or found[0].channel != request.channel:
        message = f"no hold {request.hold_id!r} of channel {request.channel!r}"
        raise InvalidInput([FieldError("hold_id", message, "unknown")])
    hold, hold_lines = found
    held: dict[str, tuple[str, int]] = {}
    for row in hold_lines:
        units = held.get(row.line_id, (row.sku_code, 0))[1] + row.units
        held[row.line_id] = (row.sku_code, units)
    if held != {line.line_id: (line.sku, line.quantity) for line in request.lines}:
        message = f"hold {hold.id} holds other lines (sku and quantity per line_id)"
        raise InvalidInput([FieldError("hold_id", message, "other_lines")])
    if hold.state != holds_repo.ACTIVE or hold.expires_at <= now:
        state = "expired" if hold.state == holds_repo.ACTIVE else hold.state
        note = {"hold_id": hold.id, "state": state, "detail": f"hold {state}: sourced as usual"}
        return None, [("hold_" + state, note)]
    by_location: dict[str, list[Allocation]] = defaultdict(list)
    for row in hold_lines:
        by_location[row.location_code].append(Allocation(row.line_id, row.location_code, row.units))
    shipments = tuple((loc, tuple(found)) for loc, found in sorted(by_location.items()))
    plan = [
        {
            "location": loc,
            "allocations": [{"line_id": a.line_id, "units": a.units} for a in allocated],
        }
        for loc, allocated in shipments
    ]
    note = {"hold_id": hold.id, "rule": hold.rule, "plan": plan, "detail": f"from hold {hold.id}"}
    sourcing = _Sourcing((), None, hold.rule, NO_STOCK, held=shipments, hold_id=hold.id)
    return sourcing, [("from_hold", note)]


def _replay(db: Database, request: OrderRequest) -> Placed | None:
    with db.read() as conn:
        found = repo.find_by_key(conn, request.channel, request.idempotency_key)
        if found is None:
            return None
        order_id, fingerprint = found
        if fingerprint != request.request_hash:
            raise IdempotencyKeyReused(
                f"Idempotency-Key {request.idempotency_key!r} placed order {order_id} with"
                " another body; use a new key for a new order"
            )
        rows = repo.load(conn, order_id)
    assert rows is not None
    return Placed(_view(rows), created=False)


class Deliverable(Protocol):
    """What says where a basket goes: an order, or a hold before it."""

    @property
    def method(self) -> DeliveryMethod: ...
    @property
    def destination(self) -> Destination | None: ...
    @property
    def pickup_store(self) -> str | None: ...


def destination_for(view: SourcingView, request: Deliverable) -> Destination:
    """Home methods go to the destination; collect methods source towards the pickup store."""
    if request.method not in COLLECT_METHODS:
        if request.pickup_store is not None:
            message = f"only for click_collect and express_collect, not {request.method.value}"
            raise InvalidInput([FieldError("pickup_store", message, "not_allowed")])
        if request.destination is None:
            raise InvalidInput([FieldError("destination", "home delivery needs a destination")])
        return request.destination
    if request.pickup_store is None:
        message = f"{request.method.value} needs a pickup_store"
        raise InvalidInput([FieldError("pickup_store", message, "missing")])
    if request.destination is not None:
        message = "a collected order goes to its pickup_store: give no destination"
        raise InvalidInput([FieldError("destination", message, "not_allowed")])
    view.refresh()
    store = view.location(request.pickup_store)
    if store is None or not store.active:
        message = f"no location {request.pickup_store!r}"
        raise InvalidInput([FieldError("pickup_store", message, "unknown")])
    if Capability.CLICK_COLLECT not in store.capabilities:
        message = f"{store.code} does not offer click & collect"
        raise InvalidInput([FieldError("pickup_store", message, "not_a_pickup_store")])
    return Destination(store.point, store.country)


def _source(
    view: SourcingView, request: OrderRequest, destination: Destination, now: datetime
) -> _Sourcing:
    """The plan for the whole basket; failing that, for what the locations hold of it."""
    basket = read_basket(view, request.lines, now)
    first = _plan(view, request, request.lines, destination, now, basket=basket)
    if first.plan is not None:
        return _Sourcing((("allocated", first),), first.plan, first.rule, NO_STOCK)
    results: list[tuple[str, SourcingResult]] = [("shortfall", first)]
    tried: set[tuple[RequestedLine, ...]] = set()
    for attempt in first.attempts:  # each rule's shortfall: what the basket can be cut to
        missing = {s.line_id: s.units for s in attempt.decision.shortfall}
        reduced = tuple(
            RequestedLine(line.line_id, line.sku, line.quantity - missing.get(line.line_id, 0))
            for line in request.lines
            if line.quantity > missing.get(line.line_id, 0)
        )
        if not missing or not reduced or reduced in tried:
            continue
        tried.add(reduced)
        again = _plan(view, request, reduced, destination, now, basket=basket)
        results.append(("allocated" if again.plan else "shortfall", again))
        if again.plan is not None:
            return _Sourcing(tuple(results), again.plan, again.rule, NO_STOCK)
    reason = NO_STOCK if any(a.decision.shortfall for a in first.attempts) else NO_PLAN
    if len(results) == 1:
        results = [(reason, first)]
    return _Sourcing(tuple(results), None, None, reason)


def _plan(
    view: SourcingView,
    request: OrderRequest,
    lines: Sequence[RequestedLine],
    destination: Destination,
    now: datetime,
    *,
    basket: BasketStock,
) -> SourcingResult:
    """With its decision record: runners-up, and why each location was left out."""
    try:
        return plan_basket(
            view,
            channel=request.channel,
            method=request.method,
            lines=lines,
            destination=destination,
            now=now,
            explain=True,
            basket=basket,
        )
    except NotFound as error:
        message = f"no live sourcing profile for channel {request.channel!r}: {error.detail}"
        raise InvalidInput([FieldError("delivery_method", message, "no_profile")]) from error


def _save(
    db: Database,
    view: SourcingView,
    request: OrderRequest,
    sourcing: _Sourcing,
    lost: Sequence[tuple[str, SourcingResult]],
    *,
    notes: Sequence[tuple[str, Mapping[str, Any]]],
    now: datetime,
    record: DecisionRecorder,
) -> Placed:
    """One write transaction: the order and its parts, the hold it came from converted, the
    reserves last; then the first offer wave of its broadcast fulfilments and its backorder
    timer, in the same transaction (a crash cannot leave an offered fulfilment without its
    wave and timeout, or a backorder without its retry)."""
    order_id = str(uuid7())
    skus = view.skus([line.sku for line in request.lines])
    offer = _offer_mode(view, request, sourcing.rule, now)
    placed = _placed_rows(order_id, request, sourcing, offer, now)
    wanted: dict[tuple[str, str], int] = defaultdict(int)
    for allocation in placed.allocations:
        wanted[(allocation["location_code"], allocation["sku_code"])] += allocation["units"]
    lines = [
        {
            "order_id": order_id,
            "line_id": line.line_id,
            "position": i,
            "sku_code": line.sku,
            "quantity": line.quantity,
            "unit_price": skus[line.sku].price,
            "currency": skus[line.sku].currency,
            "unallocated": placed.unallocated[line.line_id],
            "unallocated_reason": sourcing.reason if placed.unallocated[line.line_id] else None,
            "cancelled": 0,
            "returned": 0,
        }
        for i, line in enumerate(request.lines)
    ]
    status = order_status(
        [row["status"] for row in placed.fulfilments], sum(placed.unallocated.values())
    )
    order = {
        "id": order_id,
        "channel": request.channel,
        "customer": {"name": request.customer.name, "email": request.customer.email},
        "delivery_method": request.method.value,
        "latitude": request.destination.point.latitude if request.destination else None,
        "longitude": request.destination.point.longitude if request.destination else None,
        "country": request.destination.country if request.destination else None,
        "pickup_store": request.pickup_store,
        "promise_option": dict(request.promise_option) if request.promise_option else None,
        "status": status.value,
        "idempotency_key": request.idempotency_key,
        "request_hash": request.request_hash,
        "created_at": now,
        "updated_at": now,
    }
    history: list[tuple[str, Mapping[str, Any]]] = list(notes)
    history += [(o, _decision(record, result)) for o, result in [*lost, *sourcing.results]]
    hold_id = sourcing.hold_id
    events = _placed_events(order, lines, placed, hold_id)
    timers = (
        any(placed.unallocated.values())
        or any(f["status"] == INITIAL_STATUS.value for f in placed.fulfilments)
        or request.method in COLLECT_METHODS
    )
    with db.write() as uow:
        conn = uow.conn
        if not _known_channel(view, conn, request.channel):
            message = f"unknown channel {request.channel!r}"
            raise InvalidInput([FieldError("channel", message, "unknown")])
        if hold_id is not None and not holds_repo.close(
            conn, hold_id, holds_repo.CONVERTED, now, order_id
        ):
            raise _RaceLost(hold_id)
        reserve = sorted(wanted.items())
        stamp: int
        if conn.dialect.name == "postgresql":
            decisions = repo.decision_rows(order_id, history, now, start=1)
            rows = repo.OrderRows.of(
                order, lines, placed.fulfilments, placed.allocations, decisions
            )
            # Without timers to set, nothing follows: the pipeline commits too.
            placed_at = repo.place_in_one_trip(
                conn, rows, events, reserve, now, own_hold=hold_id, commit=not timers
            )
            if placed_at is None:
                raise _RaceLost(order_id)
            stamp = placed_at
        else:
            stamp = changes.stamp(conn)
            repo.insert_order(conn, order, lines, placed.fulfilments, placed.allocations)
            decisions = repo.add_decisions(conn, order_id, history, now, start=1)
            events_repo.append(conn, events, stamp, now)
            stock_changes.record(conn, [key for key, _ in reserve], stamp, now)
            # Last, so that the positions' row locks are held for these statements and the
            # commit only: every other order of these skus at these locations waits on them.
            for (location, sku), units in reserve:
                if not repo.reserve(conn, location, sku, units, now=now, own_hold=hold_id):
                    raise _RaceLost(location, sku)
            rows = repo.OrderRows.of(
                order, lines, placed.fulfilments, placed.allocations, decisions
            )
        if timers:
            # timers builds on this module (order views, decision records): a cycle at import.
            from openoms.services.timers import after_placement  # noqa: PLC0415

            after_placement(conn, view, order_id, stamp, now)
            reread = repo.load(conn, order_id)
            assert reread is not None
            rows = reread
        uow.commit()
    _show_in_index(view, stamp, reserve, own_only=hold_id is None and not timers)
    return Placed(_view(rows), created=True)


def _show_in_index(
    view: SourcingView,
    stamp: int,
    reserve: Sequence[tuple[tuple[str, str], int]],
    *,
    own_only: bool,
) -> None:
    """An order committed: when its reserves are all it changed of what the index holds
    (`own_only`), they are taken off the index at once, so that the next order here needs no
    catch-up to see them; else (a hold converted, offers, timers) the index is marked stale."""
    if own_only:
        view.index.apply_own(stamp, [(loc, sku, units) for (loc, sku), units in reserve])
    else:
        view.index.mark_stale()


@dataclass(frozen=True, slots=True)
class _PlacedRows:
    fulfilments: list[dict[str, Any]]
    allocations: list[dict[str, Any]]
    unallocated: dict[str, int]


NETWORK_REASONS = frozenset(
    reason.value
    for reason in (
        FilterReason.RULE_INACTIVE,
        FilterReason.LOCATION_INACTIVE,
        FilterReason.KIND,
        FilterReason.CAPABILITY,
        FilterReason.TAGS_IN,
        FilterReason.TAGS_OUT,
    )
)
"""Exclusions by the rule's filters on the location alone: the same for every basket."""


def _decision(record: DecisionRecorder, result: SourcingResult) -> dict[str, Any]:
    """The decision record kept with the order: the API's (`record`), except that locations
    left out by a filter on the location alone (kind, capability, tags, inactive) are listed
    in `excluded_by_network`, one entry per rule, reason and detail with their location codes
    (`{"rule", "reason", "detail", "locations"}`), instead of one entry each in `excluded`.

    They are most of the network under each rule tried (every store under a rule for
    warehouses): one entry per location made the record ~19 KB and its making cost more than
    the rest of placing the order. `excluded` keeps the exclusions that depend on the basket
    (distance, capacity, stock, carrier, promise, the optimizer's), one per location."""
    by_network: dict[tuple[str, str, str], list[str]] = {}
    kept: list[ExcludedLocation] = []
    for exclusion in result.excluded:
        if exclusion.reason in NETWORK_REASONS:
            key = (exclusion.rule, exclusion.reason, exclusion.detail)
            by_network.setdefault(key, []).append(exclusion.location)
        else:
            kept.append(exclusion)
    written = dict(record(replace(result, excluded=tuple(kept))))
    written["excluded_by_network"] = [
        {"rule": rule, "reason": reason, "detail": detail, "locations": locations}
        for (rule, reason, detail), locations in by_network.items()
    ]
    return written


def _known_channel(view: SourcingView, conn: Connection, channel: str) -> bool:
    """The index knows every channel as of its last catch-up (this request's); one created
    since then is looked up."""
    try:
        view.index.compiled(channel)
    except NotFound:
        return bool(existing_codes(conn, channels, [channel]))
    return True


def _offer_mode(
    view: SourcingView, request: OrderRequest, rule: str | None, now: datetime
) -> OfferMode:
    if rule is None:
        return OfferMode.AUTO_CLAIM
    profile = view.live_profile(request.channel, request.method, now)
    found = next((r for r in profile.rules if r.name == rule), None)
    return found.offer.mode if found is not None else OfferMode.AUTO_CLAIM


def _placed_rows(
    order_id: str, request: OrderRequest, sourcing: _Sourcing, offer: OfferMode, now: datetime
) -> _PlacedRows:
    """One fulfilment per shipment of the plan: claimed at once when the rule says so (as
    warehouses do), else offered; the lines' units the plan leaves out are unallocated."""
    unallocated = {line.line_id: line.quantity for line in request.lines}
    sku_of = {line.line_id: line.sku for line in request.lines}
    status = INITIAL_STATUS
    if offer is OfferMode.AUTO_CLAIM and may_act(Actor.SYSTEM, Transition.CLAIM):
        status = next_status(status, Transition.CLAIM)
    fulfilment_rows: list[dict[str, Any]] = []
    allocation_rows: list[dict[str, Any]] = []
    shipments = (
        [(s.location, s.allocations) for s in sourcing.plan.shipments]
        if sourcing.plan is not None
        else sourcing.held
    )
    for location, allocated in shipments:
        fulfilment_id = str(uuid7())
        fulfilment_rows.append(
            {
                "id": fulfilment_id,
                "order_id": order_id,
                "location_code": location,
                "status": status.value,
                "rule": sourcing.rule,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
        for allocation in allocated:
            unallocated[allocation.line_id] -= allocation.units
            allocation_rows.append(
                {
                    "fulfilment_id": fulfilment_id,
                    "line_id": allocation.line_id,
                    "order_id": order_id,
                    "location_code": location,
                    "sku_code": sku_of[allocation.line_id],
                    "units": allocation.units,
                }
            )
    return _PlacedRows(fulfilment_rows, allocation_rows, unallocated)


def _placed_events(
    order: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]],
    placed: _PlacedRows,
    hold_id: str | None,
) -> list[dict[str, Any]]:
    """The order placed, each fulfilment's first state, and the hold it converted (if any)."""
    order_id = order["id"]
    rows: list[dict[str, Any]] = [
        {
            "order_id": order_id,
            "fulfilment_id": None,
            "type": "order.placed",
            "payload": {
                "order_id": order_id,
                "channel": order["channel"],
                "status": order["status"],
                "lines": [
                    {
                        "line_id": line["line_id"],
                        "sku": line["sku_code"],
                        "quantity": line["quantity"],
                        "unallocated": line["unallocated"],
                    }
                    for line in lines
                ],
            },
        }
    ]
    for fulfilment in placed.fulfilments:
        rows.append(
            {
                "order_id": order_id,
                "fulfilment_id": fulfilment["id"],
                "type": f"fulfilment.{fulfilment['status']}",
                "payload": {
                    "order_id": order_id,
                    "fulfilment_id": fulfilment["id"],
                    "location": fulfilment["location_code"],
                    "status": fulfilment["status"],
                    "allocations": [
                        {"line_id": a["line_id"], "sku": a["sku_code"], "units": a["units"]}
                        for a in placed.allocations
                        if a["fulfilment_id"] == fulfilment["id"]
                    ],
                },
            }
        )
    if hold_id is not None:
        payload = {"hold_id": hold_id, "order_id": order_id, "channel": order["channel"]}
        rows.append(
            {
                "order_id": order_id,
                "fulfilment_id": None,
                "type": "hold.converted",
                "payload": payload,
            }
        )
    return rows


def get_order(db: Database, order_id: str, *, location: str | None = None) -> OrderView:
    """`location`: a store's key reads only orders with a fulfilment there (else: not found)."""
    with db.read() as conn:
        rows = repo.load(conn, order_id)
    if rows is None or (
        location is not None and all(f.location_code != location for f in rows.fulfilments)
    ):
        raise NotFound("order", order_id)
    return _view(rows)


def list_orders(
    db: Database,
    *,
    channel: str | None,
    status: OrderStatus | None,
    location: str | None,
    after: str | None,
    limit: int,
) -> list[OrderSummary]:
    with db.read() as conn:
        rows = repo.page(
            conn,
            channel=channel,
            status=status.value if status else None,
            location=location,
            after=after,
            limit=limit,
        )
    return [_summary(row) for row in rows]


def cancel_order(
    db: Database,
    order_id: str,
    lines: Sequence[CancelLine] | None,
    *,
    actor: Actor,
    now: datetime,
) -> OrderView:
    """Cancel the whole order (`lines` None) or units of lines: units waiting for stock first,
    then those held at locations, least advanced fulfilment first. Held units are released
    (reserved goes down); a fulfilment left with nothing is cancelled. Units that left their
    location cannot be cancelled: the request is refused whole (409), nothing changes."""
    if not may_act(actor, Transition.CANCEL):
        raise Forbidden(f"{actor.value} may not cancel orders")
    with db.write() as uow:
        conn = uow.conn
        rows = repo.load(conn, order_id, for_update=True)
        if rows is None:
            raise NotFound("order", order_id)
        plan = _cancellation(rows, lines)
        stamp = changes.stamp(conn)
        _apply_cancellation(conn, rows, plan, now)
        released = sorted(plan.released)
        for (location, sku), units in plan.released.items():
            if not repo.release(conn, location, sku, units):
                raise AssertionError(f"{location}/{sku} holds fewer than {units} reserved units")
        stock_changes.record(conn, released, stamp, now)
        after = repo.load(conn, order_id)
        assert after is not None
        saved = _view(after)
        repo.set_order_status(conn, order_id, saved.summary.status.value, now)
        events_repo.append(conn, _cancel_events(saved, lines, plan), stamp, now)
        if rows.order.pickup_store is not None:
            from openoms.services import collect  # noqa: PLC0415  (collect builds on this module)

            collect.after_cancellation(conn, order_id, stamp, now)
        uow.commit()
    return get_order(db, order_id)


@dataclass
class _CancelPlan:
    lines: dict[str, tuple[int, int]]
    """line id -> (unallocated, cancelled) after."""
    allocations: dict[tuple[str, str], int]
    """(fulfilment id, line id) -> units after."""
    released: dict[tuple[str, str], int]
    """(location, sku) -> units to release."""
    cancelled_fulfilments: list[Row[Any]]
    cancelled: dict[str, int]
    """line id -> units cancelled by this request."""


def _cancellation(rows: repo.OrderRows, asked: Sequence[CancelLine] | None) -> _CancelPlan:
    status_of = {f.id: FulfilmentStatus(f.status) for f in rows.fulfilments}
    rung = {status: i for i, status in enumerate(FulfilmentStatus)}
    by_line: dict[str, list[Row[Any]]] = defaultdict(list)
    for allocation in rows.allocations:
        if allocation.units and Transition.CANCEL in allowed_actions(
            status_of[allocation.fulfilment_id]
        ):
            by_line[allocation.line_id].append(allocation)
    for held in by_line.values():  # least advanced first; among equals, newest first
        held.sort(key=lambda a: a.fulfilment_id, reverse=True)
        held.sort(key=lambda a: rung[status_of[a.fulfilment_id]])
    lines = {line.line_id: line for line in rows.lines}
    wanted = _wanted_units(rows, lines, by_line, asked)
    plan = _CancelPlan({}, {}, defaultdict(int), [], {})
    buckets_of = {line.line_id: _buckets(line, rows, status_of) for line in rows.lines}
    for line_id, units in wanted.items():
        line = lines[line_id]
        buckets = buckets_of[line_id]
        left = units
        take = min(left, line.unallocated)
        if take:
            buckets = move(buckets, Bucket.UNALLOCATED, Bucket.CANCELLED, take)
            left -= take
        for allocation in by_line[line_id]:
            if not left:
                break
            take = min(left, allocation.units)
            buckets = move(buckets, AllocatedAt(allocation.location_code), Bucket.CANCELLED, take)
            plan.allocations[(allocation.fulfilment_id, line_id)] = allocation.units - take
            plan.released[(allocation.location_code, allocation.sku_code)] += take
            left -= take
        ensure_conserved(line.quantity, buckets)
        plan.lines[line_id] = (
            line.unallocated - min(units, line.unallocated),
            line.cancelled + units,
        )
        plan.cancelled[line_id] = units
    remaining = {(a.fulfilment_id, a.line_id): a.units for a in rows.allocations}
    remaining.update(plan.allocations)
    touched = {fulfilment_id for fulfilment_id, _ in plan.allocations}
    for fulfilment in rows.fulfilments:
        empty = not any(u for (f, _), u in remaining.items() if f == fulfilment.id)
        if fulfilment.id in touched and empty:
            plan.cancelled_fulfilments.append(fulfilment)
    return plan


def _wanted_units(
    rows: repo.OrderRows,
    lines: Mapping[str, Row[Any]],
    held: Mapping[str, Sequence[Row[Any]]],
    asked: Sequence[CancelLine] | None,
) -> dict[str, int]:
    """Units to cancel per line, each within what may still be cancelled."""
    cancellable = {
        line_id: line.unallocated + sum(a.units for a in held.get(line_id, ()))
        for line_id, line in lines.items()
    }
    if asked is None:
        beyond = [
            line_id
            for line_id, line in lines.items()
            if cancellable[line_id] < line.quantity - line.cancelled
        ]
        if beyond:
            raise Conflict(
                f"units of lines {', '.join(beyond)} have left their location and cannot be"
                " cancelled; cancel the other lines by name"
            )
        wanted = {line_id: n for line_id, n in cancellable.items() if n}
        if not wanted:
            raise Conflict(f"order {rows.order.id} has nothing left to cancel")
        return wanted
    errors: list[FieldError] = []
    wanted = {}
    for i, item in enumerate(asked):
        if item.line_id not in lines:
            message = f"order {rows.order.id} has no line {item.line_id!r}"
            errors.append(FieldError(f"lines[{i}].line_id", message, "unknown"))
        elif item.line_id in wanted:
            errors.append(FieldError(f"lines[{i}].line_id", "is given twice", "duplicate"))
        else:
            wanted[item.line_id] = item.units
    if errors:
        raise InvalidInput(errors)
    for item in asked:
        if item.units > cancellable[item.line_id]:
            raise Conflict(
                f"line {item.line_id}: {item.units} units asked, {cancellable[item.line_id]}"
                " may still be cancelled (the others are cancelled already or left their"
                " location)"
            )
    return wanted


def _apply_cancellation(
    conn: Connection, rows: repo.OrderRows, plan: _CancelPlan, now: datetime
) -> None:
    for line_id, (unallocated, cancelled) in plan.lines.items():
        repo.set_line_buckets(conn, rows.order.id, line_id, unallocated, cancelled)
    for (fulfilment_id, line_id), units in plan.allocations.items():
        repo.set_allocation_units(conn, fulfilment_id, line_id, units)
    for fulfilment in plan.cancelled_fulfilments:
        status = next_status(FulfilmentStatus(fulfilment.status), Transition.CANCEL)
        if not repo.set_fulfilment_status(
            conn, fulfilment.id, status.value, fulfilment.version, now
        ):
            raise Conflict(f"fulfilment {fulfilment.id} changed meanwhile; try again")


def _cancel_events(
    order: OrderView, asked: Sequence[CancelLine] | None, plan: _CancelPlan
) -> list[dict[str, Any]]:
    order_id = order.summary.id
    kind = "order.cancelled" if asked is None else "order.lines_cancelled"
    payload = {
        "order_id": order_id,
        "status": order.summary.status.value,
        "lines": [{"line_id": k, "units": v} for k, v in plan.cancelled.items()],
    }
    rows: list[dict[str, Any]] = [
        {"order_id": order_id, "fulfilment_id": None, "type": kind, "payload": payload}
    ]
    for fulfilment in plan.cancelled_fulfilments:
        rows.append(
            {
                "order_id": order_id,
                "fulfilment_id": fulfilment.id,
                "type": "fulfilment.cancelled",
                "payload": {
                    "order_id": order_id,
                    "fulfilment_id": fulfilment.id,
                    "location": fulfilment.location_code,
                    "status": FulfilmentStatus.CANCELLED.value,
                },
            }
        )
    return rows


def _buckets(
    line: Row[Any], rows: repo.OrderRows, status_of: Mapping[str, FulfilmentStatus]
) -> Buckets:
    """Where the line's units stand: its own columns, and its allocations as their
    fulfilments' statuses place them."""
    counts: dict[Bucket, int] = defaultdict(int)
    allocated: dict[str, int] = defaultdict(int)
    counts[Bucket.UNALLOCATED] = line.unallocated
    counts[Bucket.CANCELLED] = line.cancelled
    counts[Bucket.RETURNED] = line.returned
    for allocation in rows.allocations:
        if allocation.line_id != line.line_id:
            continue
        place = place_for(status_of[allocation.fulfilment_id], allocation.location_code)
        if isinstance(place, AllocatedAt):
            allocated[place.location] += allocation.units
        else:
            counts[place] += allocation.units
    return Buckets(
        unallocated=counts[Bucket.UNALLOCATED],
        allocated=dict(allocated),
        shipped=counts[Bucket.SHIPPED],
        delivered=counts[Bucket.DELIVERED],
        collected=counts[Bucket.COLLECTED],
        cancelled=counts[Bucket.CANCELLED],
        returned=counts[Bucket.RETURNED],
    )


def _summary(row: Row[Any]) -> OrderSummary:
    return OrderSummary(
        id=row.id,
        channel=row.channel,
        delivery_method=row.delivery_method,
        status=OrderStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _view(rows: repo.OrderRows) -> OrderView:
    """The order as the API shows it; its status derived from its parts, not read."""
    status_of = {f.id: FulfilmentStatus(f.status) for f in rows.fulfilments}
    lines = tuple(
        LineView(
            line_id=line.line_id,
            sku=line.sku_code,
            quantity=line.quantity,
            unit_price=line.unit_price,
            currency=line.currency,
            unallocated_reason=line.unallocated_reason if line.unallocated else None,
            buckets=_buckets(line, rows, status_of),
        )
        for line in rows.lines
    )
    fulfilments = tuple(
        FulfilmentView(
            id=f.id,
            location=f.location_code,
            status=status_of[f.id],
            rule=f.rule,
            version=f.version,
            created_at=f.created_at,
            updated_at=f.updated_at,
            allocations=tuple(
                AllocationView(a.line_id, a.sku_code, a.units)
                for a in rows.allocations
                if a.fulfilment_id == f.id
            ),
        )
        for f in rows.fulfilments
    )
    status = order_status(status_of.values(), sum(line.buckets.unallocated for line in lines))
    order = rows.order
    destination = None
    if order.latitude is not None and order.longitude is not None:
        destination = Destination(GeoPoint(order.latitude, order.longitude), order.country or "FR")
    return OrderView(
        summary=OrderSummary(
            id=order.id,
            channel=order.channel,
            delivery_method=order.delivery_method,
            status=status,
            created_at=order.created_at,
            updated_at=order.updated_at,
        ),
        customer=order.customer,
        destination=destination,
        pickup_store=order.pickup_store,
        promise_option=order.promise_option,
        lines=lines,
        fulfilments=fulfilments,
        decisions=tuple(
            DecisionView(d.seq, d.outcome, d.record, d.created_at) for d in rows.decisions
        ),
    )


def order_view(rows: repo.OrderRows) -> OrderView:
    """The order as the API shows it, for a service that changed it in its own transaction."""
    return _view(rows)
