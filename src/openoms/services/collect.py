"""Click & collect and express click & collect: the use cases, one transaction each.

The path of an order to collect at store S (docs/decisions/0015-click-and-collect.md):
- placed: a `collect_orders` row is written with the order (`after_placement`); an express
  order also gets its deadline (`ready_by`, the store's `express_minutes` from now) and a job
  that flags it late when the deadline passes unready. An express order is only placed when S's
  own shelf has every unit and S is open (`check_express`, else 409 `express_collect_unavailable`).
- a fulfilment at S itself (S's own shelf) is claimed, picked and packed as any other, then
  `ready` (packed -> ready_for_pickup): its units stay held on S's shelf until handover.
- a fulfilment elsewhere (a warehouse, another store) is a transfer: packed, then `transfer`
  (packed -> in_transfer) with its parcels: the units leave the sender's stock (a
  `transfer_out` movement), a `transfers` row keeps the latest arrival day the parcel's carrier
  gives, and a job flags it overdue a day of grace after that. S `receive`s it (in_transfer ->
  ready_for_pickup), by fulfilment id or by scanning a parcel: the units go on S's shelf held
  for the order (on_hand and reserved up, a `transfer_in` movement) and the fulfilment moves to
  S, so that cancelling, collecting or stock drift act where the units are.
- when the whole order is at S (its derived status becomes `ready_for_pickup`), a pickup code
  is drawn, kept hashed, and sent: an `order.ready_for_pickup` event carries it with the store
  and the holding time, and an e-mail is owed (services/notifications.py sends it after
  commit). A job ends the holding time.
- handover (`collect_order`) by a key of S: the code, or the customer's name; each wrong try is
  counted (it commits even though the answer is an error), and after `MAX_TRIES` the code is
  locked until the channel re-issues one. Every fulfilment goes `collected` (the units leave
  S's stock, a `collected` movement); the key and the associate are recorded.
- not collected in time (`uncollected` job): every fulfilment is cancelled by the system (the
  units go back to S's stock), and per S's policy the payment system is told to release the
  authorisation or to refund (`payment.void_requested` / `payment.refund_requested`).
- an express order its store cannot make is rejected by the store as any fulfilment is: it
  goes on as a normal click & collect (`order.express_declined`), re-sourced with the channel's
  click & collect profile without that store.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, select
from sqlalchemy.exc import IntegrityError

from openoms.db import changes
from openoms.db.repositories import collect as repo
from openoms.db.repositories import fulfilments as fulfilments_repo
from openoms.db.repositories import jobs as jobs_repo
from openoms.db.repositories import orders as orders_repo
from openoms.db.repositories.fulfilments import Units
from openoms.db.tables import orders
from openoms.db.uow import Database
from openoms.domain.calendars import open_intervals
from openoms.domain.carriers import CannotShip
from openoms.domain.collect import (
    ExpressRefused,
    check_express_plan,
    code_matches,
    express_ready_by,
    hash_code,
    holding_until,
    is_late,
    name_matches,
    new_pickup_code,
    transfer_overdue_at,
    tries_left,
)
from openoms.domain.fulfilments import Actor, FulfilmentStatus, Transition
from openoms.domain.network import Capability, great_circle_km
from openoms.domain.orders import AllocatedAt, OrderStatus, move, order_status
from openoms.domain.profiles import DeliveryMethod
from openoms.domain.shipping import arrival_window
from openoms.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from openoms.services.collect_orders import CollectOrderView, collect_order_for, get_collect_order
from openoms.services.fulfilment import (
    Caller,
    DuplicateParcel,
    FulfilmentDetail,
    Parcel,
    add_parcels,
    apply_transition,
    begin_step,
    get_fulfilment,
)
from openoms.services.notifications import owe
from openoms.services.order_change import OrderChange, change_fields, finish_change, open_change
from openoms.services.ordering import COLLECT_METHODS
from openoms.services.sourcing_view import SourcingView

if TYPE_CHECKING:
    from openoms.services.fulfilment import _Step as Step

EXPRESS_LATE = "express_late"
"""The job that flags an express order not ready by its deadline: subject the order id."""
TRANSFER_OVERDUE = "transfer_overdue"
"""The job that flags a transfer not received in time: subject the fulfilment id."""
UNCOLLECTED = "collect_order_uncollected"
"""The job that ends the holding time of an order waiting at its store: subject the order id."""

NOT_COLLECTED = "not_collected"
SYSTEM = Caller(Actor.SYSTEM)


class ExpressCollectUnavailable(Conflict):
    code = "express_collect_unavailable"
    title = "Express collect unavailable"


class NotAtPickupStore(Conflict):
    code = "not_at_pickup_store"
    title = "Not at the pickup store"


class NotACollectOrder(Conflict):
    code = "not_a_collect_order"
    title = "Not a click & collect order"


class NotReadyForPickup(Conflict):
    code = "not_ready_for_pickup"
    title = "Not ready for pickup"


class PickupLocked(Conflict):
    code = "pickup_locked"
    title = "Too many wrong tries"


class WrongPickupCode(InvalidInput):
    code = "wrong_pickup_code"
    title = "Wrong pickup code"


@dataclass(frozen=True, slots=True)
class Handover:
    code: str | None = None
    customer_name: str | None = None
    associate: str | None = None
    """Who, at the counter (the store app's signed-in associate); the key is recorded anyway."""


# --- placement -----------------------------------------------------------------------------


def check_express(
    view: SourcingView,
    pickup_store: str | None,
    shipments: Collection[tuple[str, Sequence[Any]]],
    ordered: Mapping[str, int],
    now: datetime,
) -> None:
    """An express collect order is placed only from its store's own shelf, while it is open.

    `shipments`: (location, allocations) of the plan or of the hold; `ordered`: line id ->
    units."""
    store = view.location(pickup_store) if pickup_store else None
    if store is None:
        return  # destination_for has refused it already
    planned: list[tuple[str, dict[str, int]]] = []
    for location, allocated in shipments:
        units: dict[str, int] = {}
        for a in allocated:
            units[a.line_id] = units.get(a.line_id, 0) + a.units
        planned.append((location, units))
    first = next(open_intervals(store.opening_hours, store.zone, now, 0), None)
    try:
        check_express_plan(
            store.code,
            planned,
            ordered,
            capable=Capability.EXPRESS_COLLECT in store.capabilities,
            open_now=first is not None and first[0] <= now,
        )
    except ExpressRefused as error:
        raise ExpressCollectUnavailable(
            f"express collect at {store.code} is not possible: {error.reason};"
            " order click_collect instead"
        ) from error


def after_placement(conn: Connection, order_id: str, now: datetime) -> None:
    """In the order's own write transaction: its collect order row, and an express order's
    deadline with the job that flags it late."""
    o = orders.c
    order = conn.execute(select(o.pickup_store, o.delivery_method).where(o.id == order_id)).one()
    settings = repo.settings_of(conn, order.pickup_store)
    express = order.delivery_method == DeliveryMethod.EXPRESS_COLLECT
    ready_by = express_ready_by(now, settings) if express else None
    repo.add_collect_order(
        conn, order_id, order.pickup_store, order.delivery_method, ready_by=ready_by, now=now
    )
    if ready_by is not None:
        jobs_repo.schedule(conn, EXPRESS_LATE, order_id, ready_by, now)


# --- transitions ---------------------------------------------------------------------------


def _transition(
    db: Database,
    fulfilment_id: str,
    action: Transition,
    caller: Caller,
    now: datetime,
    *,
    before: Callable[[Step], None],
    after: Callable[[Step], None],
) -> FulfilmentDetail:
    try:
        with db.write() as uow:
            conn = uow.conn
            stamp = changes.stamp(conn)
            step = begin_step(conn, stamp, fulfilment_id, action, caller=caller, now=now)
            before(step)
            apply_transition(step)
            after(step)
            finish_change(step)
            uow.commit()
    except IntegrityError as error:  # a tracking number taken meanwhile by another parcel
        if action is not Transition.TRANSFER:
            raise
        raise DuplicateParcel("a tracking number of these parcels is already used") from error
    return get_fulfilment(db, fulfilment_id, caller)


def _collect_order(step: Step) -> Row[Any]:
    order = step.rows.order
    if order.delivery_method not in COLLECT_METHODS:
        raise NotACollectOrder(f"order {order.id} is delivered ({order.delivery_method})")
    return order


def ready_fulfilment(
    db: Database, fulfilment_id: str, caller: Caller, *, now: datetime
) -> FulfilmentDetail:
    """Packed at the pickup store, from its own shelf: it waits on the collect shelf."""

    def at_the_store(step: Step) -> None:
        order = _collect_order(step)
        if step.location != order.pickup_store:
            raise NotAtPickupStore(
                f"fulfilment {step.fulfilment.id} is at {step.location}: transfer it to"
                f" {order.pickup_store}, which receives it"
            )

    return _transition(
        db,
        fulfilment_id,
        Transition.READY,
        caller,
        now,
        before=at_the_store,
        after=settle_collect_order,
    )


def transfer_fulfilment(
    db: Database,
    view: SourcingView,
    fulfilment_id: str,
    caller: Caller,
    *,
    parcels: Sequence[Parcel],
    now: datetime,
) -> FulfilmentDetail:
    """Packed elsewhere: the parcels leave for the pickup store. The units leave the sender's
    stock; the transfer's latest arrival day comes from the first parcel's carrier service."""
    if not parcels:
        raise InvalidInput([FieldError("parcels", "at least one parcel", "missing")])
    services = {s.code: s for s in view.services}
    unknown = [
        FieldError(f"parcels[{i}].carrier_service", "not a carrier service", "unknown")
        for i, p in enumerate(parcels)
        if p.carrier_service not in services
    ]
    if unknown:
        raise InvalidInput(unknown)
    view.refresh()

    def leave(step: Step) -> None:
        order = _collect_order(step)
        if step.location == order.pickup_store:
            raise NotAtPickupStore(
                f"fulfilment {step.fulfilment.id} is at its pickup store already: make it ready"
            )
        add_parcels(step, parcels)
        origin, store = view.location(step.location), view.location(order.pickup_store)
        assert origin is not None
        assert store is not None
        service = services[parcels[0].carrier_service]
        try:
            window = arrival_window(
                origin, service, now, store.country, great_circle_km(origin.point, store.point)
            )
        except CannotShip as error:
            field = "parcels[0].carrier_service"
            raise InvalidInput([FieldError(field, str(error), "cannot_carry")]) from error
        overdue_at = transfer_overdue_at(window.latest, store.zone)
        repo.add_transfer(
            step.conn,
            fulfilment_id=step.fulfilment.id,
            order_id=order.id,
            from_location=step.location,
            to_location=store.code,
            latest_arrival=window.latest,
            overdue_at=overdue_at,
            now=now,
        )
        jobs_repo.schedule(step.conn, TRANSFER_OVERDUE, step.fulfilment.id, overdue_at, now)
        step.payload.update(to=store.code, latest_arrival=window.latest.isoformat())

    return _transition(
        db, fulfilment_id, Transition.TRANSFER, caller, now, before=leave, after=lambda _: None
    )


def receive_fulfilment(
    db: Database,
    fulfilment_id: str,
    caller: Caller,
    *,
    key_id: str | None,
    tracking_number: str | None = None,
    now: datetime,
) -> FulfilmentDetail:
    """The pickup store receives a transfer: its units go on the store's shelf, held for the
    order, and the fulfilment is at the store from now on. Only a key of the pickup store (or
    an admin) receives; `tracking_number`, when given, must be one of the transfer's parcels."""
    origin: list[str] = []

    def check(step: Step) -> None:
        order = _collect_order(step)
        if caller.actor is Actor.STORE and caller.location != order.pickup_store:
            raise Forbidden(
                f"only the pickup store {order.pickup_store} receives this transfer",
                field="location",
            )
        if tracking_number is not None:
            numbers = {
                p.tracking_number
                for p in fulfilments_repo.parcels_of(step.conn, [step.fulfilment.id])
            }
            if tracking_number not in numbers:
                message = f"not a parcel of fulfilment {step.fulfilment.id}"
                raise InvalidInput([FieldError("tracking_number", message, "unknown")])
        origin.append(step.location)
        step.payload.update(received_at=order.pickup_store, **{"from": step.location})

    def arrive(step: Step) -> None:
        store = step.rows.order.pickup_store
        for line_id, units in sorted(step.units.items()):
            if not units:
                continue
            sku = step.sku_of[line_id]
            repo.arrive(step.conn, step.fulfilment.id, Units(store, sku, units), step.now)
            step.touched.add((store, sku))
            step.buckets[line_id] = move(
                step.buckets[line_id], AllocatedAt(origin[0]), AllocatedAt(store), units
            )
        repo.relocate(step.conn, step.fulfilment.id, store)
        repo.mark_received(step.conn, step.fulfilment.id, key_id, step.now)
        jobs_repo.cancel(step.conn, TRANSFER_OVERDUE, step.fulfilment.id)
        settle_collect_order(step)

    scope = Caller(caller.actor, None, caller.channel)  # the transfer is at the sender still
    return _transition(
        db, fulfilment_id, Transition.RECEIVE, scope, now, before=check, after=arrive
    )


def receive_parcel(
    db: Database, tracking_number: str, caller: Caller, *, key_id: str | None, now: datetime
) -> FulfilmentDetail:
    """Receiving by scanning a parcel's tracking number."""
    with db.read() as conn:
        fulfilment_id = repo.fulfilment_of_parcel(conn, tracking_number)
    if fulfilment_id is None:
        raise NotFound("parcel", tracking_number)
    return receive_fulfilment(
        db, fulfilment_id, caller, key_id=key_id, tracking_number=tracking_number, now=now
    )


def settle_collect_order(step: Step) -> None:
    """After a part reached the collect shelf, or was cancelled (services/fulfilment.py): the
    collect order follows the order's status now (any order: one delivered home has none)."""
    statuses = [
        step.after if f.id == step.fulfilment.id else FulfilmentStatus(f.status)
        for f in step.rows.fulfilments
    ]
    _settle(step, order_status(statuses, sum(state[0] for state in step.lines.values())))


def _settle(change: OrderChange, status: OrderStatus) -> None:
    """The whole order at the store: its code. Nothing left of it: off the store's queue."""
    if status is OrderStatus.READY_FOR_PICKUP:
        _issue_code(change, reissued=False)
    elif status is OrderStatus.CANCELLED:
        order_id = change.rows.order.id
        collect_order = repo.find_collect_order(change.conn, order_id)
        if collect_order is not None and collect_order.state in (repo.PREPARING, repo.READY):
            repo.update_collect_order(change.conn, order_id, change.now, state=repo.CANCELLED)
            jobs_repo.cancel(change.conn, EXPRESS_LATE, order_id)
            jobs_repo.cancel(change.conn, UNCOLLECTED, order_id)


def after_cancellation(conn: Connection, order_id: str, stamp: int, now: datetime) -> None:
    """In the transaction that cancelled units of a collect order (services/ordering.py): what
    is left may be all at the store now, or nothing may be left."""
    rows = orders_repo.load(conn, order_id, for_update=True)
    assert rows is not None
    change = OrderChange(**change_fields(conn, rows, now, stamp))
    statuses = [FulfilmentStatus(f.status) for f in rows.fulfilments]
    _settle(change, order_status(statuses, sum(line.unallocated for line in rows.lines)))
    finish_change(change)


def _issue_code(change: OrderChange, *, reissued: bool) -> None:
    order = change.rows.order
    collect_order = repo.find_collect_order(change.conn, order.id)
    if collect_order is None or (collect_order.state != repo.PREPARING and not reissued):
        return
    now = change.now
    settings = repo.settings_of(change.conn, collect_order.store)
    code = new_pickup_code()
    ready_at = collect_order.ready_at if reissued else now
    until = collect_order.holding_until if reissued else holding_until(now, settings)
    late = collect_order.late or is_late(collect_order.ready_by, ready_at, now)
    repo.update_collect_order(
        change.conn,
        order.id,
        now,
        state=repo.READY,
        ready_at=ready_at,
        holding_until=until,
        code_hash=hash_code(order.id, code),
        failed_tries=0,
        late=late,
    )
    customer = order.customer
    change.event(
        "order.ready_for_pickup",
        None,
        store=collect_order.store,
        code=code,
        holding_until=until.isoformat(),
        customer={"name": customer.get("name"), "email": customer.get("email")},
        reissued=reissued,
    )
    owe(
        change.conn,
        order_id=order.id,
        recipient=str(customer.get("email")),
        subject=f"Your order {order.id} is ready for pickup",
        body=(
            f"Hello {customer.get('name')},\n\nyour order {order.id} is waiting for you at"
            f" store {collect_order.store} until {until:%Y-%m-%d %H:%M} UTC.\n"
            f"Show this pickup code at the counter: {code}\n"
        ),
        now=now,
    )
    jobs_repo.cancel(change.conn, EXPRESS_LATE, order.id)
    jobs_repo.schedule(change.conn, UNCOLLECTED, order.id, until, now)


# --- handover ------------------------------------------------------------------------------


def collect_order(
    db: Database,
    order_id: str,
    caller: Caller,
    handover: Handover,
    *,
    key_id: str | None,
    now: datetime,
) -> CollectOrderView:
    """Handover at the counter, by a key of the pickup store: the code (or the customer's
    name), then every part of the order collected. A wrong try counts even though it is
    refused; after `MAX_TRIES` the code is locked (409) until the channel issues a new one."""
    if not (handover.code or handover.customer_name):
        message = "give the pickup code, or the customer's name (checked against an ID)"
        raise InvalidInput([FieldError("code", message, "missing")])
    wrong: WrongPickupCode | None = None
    with db.write() as uow:
        conn = uow.conn
        change = open_change(conn, order_id, now)
        found = collect_order_for(conn, order_id, caller)
        if found.state != repo.READY:
            raise NotReadyForPickup(f"order {order_id} is {found.state}, not ready for pickup")
        if tries_left(found.failed_tries) == 0:
            raise PickupLocked(
                f"order {order_id}: too many wrong tries; the channel issues a new code"
            )
        if _matches(found, change.rows.order, handover):
            _hand_over(change, found, caller, handover, key_id)
        else:
            failed = repo.count_failed_try(conn, order_id, now)
            field = "code" if handover.code else "customer_name"
            message = f"does not match; {tries_left(failed)} tries left"
            wrong = WrongPickupCode([FieldError(field, message, "wrong")])
        uow.commit()
    if wrong is not None:
        raise wrong
    return get_collect_order(db, order_id, caller)


def _matches(collect_order: Row[Any], order: Row[Any], handover: Handover) -> bool:
    if handover.code:
        return collect_order.code_hash is not None and code_matches(
            collect_order.code_hash, order.id, handover.code
        )
    return name_matches(str(order.customer.get("name", "")), handover.customer_name or "")


def _hand_over(
    change: OrderChange,
    collect_order: Row[Any],
    caller: Caller,
    handover: Handover,
    key_id: str | None,
) -> None:
    conn, order_id, now = change.conn, change.rows.order.id, change.now
    waiting = [
        f.id for f in change.rows.fulfilments if f.status == FulfilmentStatus.READY_FOR_PICKUP
    ]
    how = "code" if handover.code else "name"
    for i, fulfilment_id in enumerate(waiting):
        step = begin_step(
            conn, change.stamp, fulfilment_id, Transition.COLLECT, caller=caller, now=now
        )
        apply_transition(step)
        if i == len(waiting) - 1:
            repo.update_collect_order(
                conn,
                order_id,
                now,
                state=repo.COLLECTED,
                collected_at=now,
                collected_by=key_id,
                associate=handover.associate,
                handover=how,
            )
            step.event(
                "order.collected",
                None,
                store=collect_order.store,
                handover=how,
                key_id=key_id,
                associate=handover.associate,
            )
        finish_change(step)
    jobs_repo.cancel(conn, UNCOLLECTED, order_id)


def reissue_code(db: Database, order_id: str, *, now: datetime) -> CollectOrderView:
    """A new code for an order waiting at its store (the customer lost it, or it is locked):
    the tries start again, the holding time does not."""
    with db.write() as uow:
        change = open_change(uow.conn, order_id, now)
        collect_order = repo.find_collect_order(uow.conn, order_id)
        if collect_order is None:
            raise NotFound("collect order", order_id)
        if collect_order.state != repo.READY:
            raise NotReadyForPickup(
                f"order {order_id} is {collect_order.state}, not ready for pickup"
            )
        _issue_code(change, reissued=True)
        finish_change(change)
        uow.commit()
    return get_collect_order(db, order_id, SYSTEM)


# --- express declined ----------------------------------------------------------------------


def decline_express(step: Step, reason: str) -> None:
    """A store that cannot make an express order rejected it: it goes on as a normal click &
    collect, so that the re-route that follows uses the click & collect profile."""
    order = step.rows.order
    if order.delivery_method != DeliveryMethod.EXPRESS_COLLECT:
        return
    repo.to_click_collect(step.conn, order.id, step.now)
    jobs_repo.cancel(step.conn, EXPRESS_LATE, order.id)
    reloaded = orders_repo.load(step.conn, order.id)
    assert reloaded is not None
    step.rows = reloaded
    step.event(
        "order.express_declined",
        step.fulfilment.id,
        store=order.pickup_store,
        reason=reason,
        delivery_method=DeliveryMethod.CLICK_COLLECT.value,
    )


def refuse_shipping(step: Step) -> None:
    """A collect order's parcels go to its pickup store (`transfer`), never to the customer."""
    order = step.rows.order
    if order.delivery_method in COLLECT_METHODS:
        raise NotAtPickupStore(
            f"order {order.id} is collected at {order.pickup_store}: transfer the parcels there"
            " (or make them ready, at that store) instead of shipping them"
        )
