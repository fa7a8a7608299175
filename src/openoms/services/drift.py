"""Stock drift: a count that finds fewer units on a shelf than are reserved there.

Invariant 1 of DESIGN.md: when a snapshot (the API's, `oms import stock`'s, or a store's
`out_of_stock` reject saying what it found) lowers on_hand below what is reserved, the holds
that no longer fit are re-routed, newest first, never silently kept.

The rules chosen here:
- A position has drifted when `on_hand < reserved`: units promised to customers are not on the
  shelf. `on_hand - safety_stock < reserved` is not drift: the units are there, and safety
  stock is a buffer against selling what a count may be wrong about. Dipping into it already
  stops new sales (ATP is 0); moving an order that can be served, to restore a buffer, would
  cost the customer a split or a later date for nothing.
- Only as many units are taken as the shortfall (`reserved - on_hand`): a hold that partly fits
  keeps the units that fit, as a short pick does.
- Which holds: fulfilments that hold an allocation (`holds_allocation`). Those not started
  (offered, claimed: the ones the OMS may still `withdraw`) go first, newest order first (ids are
  UUIDv7, they sort by creation); only if the shortfall is still not covered, those in progress
  (picking, packed, ready_for_pickup), newest first. Work under way is touched last because its
  units are often the very ones a shelf count misses (picked into a tote, packed at the desk);
  but it is touched when the count leaves no other way, since a fulfilment that ships takes its
  units off on_hand and cannot take units that the count says are not there.
- A fulfilment left holding nothing is withdrawn (offered, claimed) or, once started, cancelled
  by the system (the state machine allows no withdraw after picking starts); one that keeps
  units goes on with them (`fulfilment.reduced`). The units taken are re-routed with the order's
  profile without that location (services/rerouting.py); what no location can take waits on its
  line as a backorder with reason `stock_drift`. The order's decision history and the events
  outbox say so (`order.rerouted`, `fulfilment.*`).

One transaction per drifted position, after the snapshot's own committed. Locks are taken in a
fixed order, the same as every change of an order takes them: the orders concerned by id, then
the position; the shortfall is read again under those locks, so that two ingestions resolving the
same position at once re-route it once (the second finds nothing left to do).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection

from openoms.db import changes
from openoms.db.repositories import orders as orders_repo
from openoms.db.repositories import stock as stock_repo
from openoms.db.repositories.stock import HeldUnits
from openoms.db.uow import Database
from openoms.domain.fulfilments import (
    Actor,
    FulfilmentStatus,
    Transition,
    allowed_actions,
    holds_allocation,
    may_act,
    next_status,
)
from openoms.domain.orders import AllocatedAt, Bucket, move
from openoms.domain.profiles import installed_criteria
from openoms.services.order_change import OrderChange, change_fields, finish_change
from openoms.services.ordering import MAX_ATTEMPTS, DecisionRecorder
from openoms.services.rerouting import RaceLost, reroute_units
from openoms.services.sourcing import SourcingResult
from openoms.services.sourcing_view import SourcingView

STOCK_DRIFT = "stock_drift"
"""The reason on re-routes, events and backorders caused by a count below reserved."""

HOLDING = frozenset(status.value for status in FulfilmentStatus if holds_allocation(status))


@dataclass(frozen=True, slots=True)
class DriftReport:
    positions: int
    """Drifted positions whose holds were re-routed."""
    orders: int
    units: int
    """Units released at drifted positions."""
    backordered: int
    """Of those, units that no other location could take."""


@dataclass(frozen=True, slots=True)
class _Taken:
    held: HeldUnits
    units: int


class _MoreOrders(Exception):
    """Under the locks, the holds to take belong to an order not locked: lock it too, again."""

    def __init__(self, order_ids: Iterable[str]) -> None:
        super().__init__(", ".join(sorted(order_ids)))
        self.order_ids = frozenset(order_ids)


def resolve_changed(
    db: Database,
    seq: int,
    now: datetime,
    *,
    view: SourcingView | None = None,
    record: DecisionRecorder | None = None,
) -> DriftReport:
    """Resolve the positions that the transaction stamped `seq` changed to below reserved."""
    with db.read() as conn:
        keys = stock_repo.drifted_positions(conn, seq)
    return resolve_positions(db, keys, now, view=view, record=record)


def resolve_positions(
    db: Database,
    keys: Iterable[tuple[str, str]],
    now: datetime,
    *,
    view: SourcingView | None = None,
    record: DecisionRecorder | None = None,
) -> DriftReport:
    """Re-route the newest holds of each (location, sku) with fewer units on hand than
    reserved; a position that has not drifted (or no longer has) is left alone."""
    wanted = sorted(set(keys))
    if not wanted:
        return DriftReport(0, 0, 0, 0)
    view = view if view is not None else shared_view(db)
    record = record if record is not None else plan_summary
    view.refresh()
    positions = orders = units = backordered = 0
    for key in wanted:
        outcome = _resolve(db, view, record, key, now)
        if outcome is not None:
            positions += 1
            orders += outcome.orders
            units += outcome.units
            backordered += outcome.backordered
    return DriftReport(positions, orders, units, backordered)


def resolve_found(
    db: Database,
    location: str,
    found: Mapping[str, int],
    now: datetime,
    *,
    view: SourcingView | None = None,
    record: DecisionRecorder | None = None,
) -> DriftReport:
    """A store said what it found of some skus (an `out_of_stock` reject sets on_hand to it,
    and may leave other orders' holds there short): resolved once that has committed."""
    keys = [(location, sku) for sku in found]
    return resolve_positions(db, keys, now, view=view, record=record)


@dataclass(frozen=True, slots=True)
class _Outcome:
    orders: int
    units: int
    backordered: int


def _resolve(
    db: Database,
    view: SourcingView,
    record: DecisionRecorder,
    key: tuple[str, str],
    now: datetime,
) -> _Outcome | None:
    """One position in one transaction; again from the start when a re-route lost a race for
    stock (the last attempt plans nothing: the units wait as a backorder)."""
    also: frozenset[str] = frozenset()
    attempt = 0
    while True:
        last = attempt >= MAX_ATTEMPTS - 1
        try:
            with db.write() as uow:
                outcome = _resolve_in(uow.conn, view, record, key, now, also=also, plan=not last)
                uow.commit()
            return outcome
        except RaceLost:
            view.index.mark_stale()
            attempt += 1
        except _MoreOrders as more:
            also |= more.order_ids


def _resolve_in(
    conn: Connection,
    view: SourcingView,
    record: DecisionRecorder,
    key: tuple[str, str],
    now: datetime,
    *,
    also: frozenset[str],
    plan: bool,
) -> _Outcome | None:
    location, sku = key
    first = _to_take(conn, key, _shortfall(conn, key))
    if not first and not also:
        return None
    stamp = changes.stamp(conn)
    locked = sorted({t.held.order_id for t in first} | also)
    rows = {order_id: orders_repo.load(conn, order_id, for_update=True) for order_id in locked}
    position = stock_repo.lock_positions(conn, [key])[key]
    taken = _to_take(conn, key, position.reserved - position.on_hand)
    if not taken:
        return None
    unlocked = {t.held.order_id for t in taken} - set(locked)
    if unlocked:
        raise _MoreOrders(unlocked)
    by_order: dict[str, list[_Taken]] = defaultdict(list)
    for t in taken:
        by_order[t.held.order_id].append(t)
    backordered = 0
    for order_id in sorted(by_order, reverse=True):
        found = rows[order_id]
        assert found is not None
        change = OrderChange(**change_fields(conn, found, now, stamp))
        fulfilment_ids = _release(change, location, sku, by_order[order_id])
        units_by_line: dict[str, int] = defaultdict(int)
        for t in by_order[order_id]:
            units_by_line[t.held.line_id] += t.units
        rerouted = reroute_units(
            change,
            view=view,
            record=record,
            units_by_line=units_by_line,
            exclude=[location],
            reason=STOCK_DRIFT,
            from_fulfilment=fulfilment_ids[0] if len(fulfilment_ids) == 1 else None,
            from_location=location,
            plan=plan,
        )
        for line_id, units in rerouted.unallocated.items():
            change.lines[line_id][1] = STOCK_DRIFT
            backordered += units
        finish_change(change)
    return _Outcome(len(by_order), sum(t.units for t in taken), backordered)


def _shortfall(conn: Connection, key: tuple[str, str]) -> int:
    """Units reserved beyond on_hand, read without a lock (to know which orders to lock)."""
    [row] = stock_repo.positions_of_sku_at(conn, *key)
    return row.reserved - row.on_hand


def _to_take(conn: Connection, key: tuple[str, str], shortfall: int) -> list[_Taken]:
    """The holds that no longer fit, in the order they go: not started before under way,
    newest order first within each; the last one only for what is still short."""
    if shortfall <= 0:
        return []
    held = stock_repo.held_at(conn, *key, HOLDING)
    ordered = sorted(held, key=lambda h: _started(FulfilmentStatus(h.status)))
    taken = []
    for hold in ordered:
        units = min(hold.units, shortfall)
        taken.append(_Taken(hold, units))
        shortfall -= units
        if not shortfall:
            break
    return taken


def _started(status: FulfilmentStatus) -> bool:
    """Work under way at the location: the OMS may no longer withdraw it."""
    return Transition.WITHDRAW not in allowed_actions(status)


def _release(change: OrderChange, location: str, sku: str, taken: Sequence[_Taken]) -> list[str]:
    """Give the units back at the position and to their lines' unallocated bucket; a
    fulfilment left with nothing is withdrawn (or cancelled, once started). Returns the
    fulfilments concerned."""
    conn, now = change.conn, change.now
    given: dict[str, list[_Taken]] = defaultdict(list)
    for t in taken:
        line_id = t.held.line_id
        if not orders_repo.release(conn, location, sku, t.units):
            raise AssertionError(f"{location}/{sku} holds fewer than {t.units} reserved units")
        orders_repo.set_allocation_units(
            conn, t.held.fulfilment_id, line_id, t.held.units - t.units
        )
        change.buckets[line_id] = move(
            change.buckets[line_id], AllocatedAt(location), Bucket.UNALLOCATED, t.units
        )
        change.lines[line_id][0] += t.units
        given[t.held.fulfilment_id].append(t)
    change.touched.add((location, sku))
    for fulfilment_id, gone in sorted(given.items()):
        fulfilment = next(f for f in change.rows.fulfilments if f.id == fulfilment_id)
        held = sum(a.units for a in change.rows.allocations if a.fulfilment_id == fulfilment_id)
        released = [{"line_id": t.held.line_id, "units": t.units} for t in gone]
        if held > sum(t.units for t in gone):
            change.event(
                "fulfilment.reduced",
                fulfilment_id,
                location=location,
                status=fulfilment.status,
                reason=STOCK_DRIFT,
                released=released,
            )
            continue
        status = FulfilmentStatus(fulfilment.status)
        action = Transition.CANCEL if _started(status) else Transition.WITHDRAW
        assert may_act(Actor.SYSTEM, action)
        target = next_status(status, action)
        if not orders_repo.set_fulfilment_status(
            conn, fulfilment_id, target.value, fulfilment.version, now
        ):
            raise AssertionError(f"fulfilment {fulfilment_id} changed under its order's lock")
        change.event(
            f"fulfilment.{target.value}",
            fulfilment_id,
            location=location,
            status=target.value,
            reason=STOCK_DRIFT,
            released=released,
        )
    return sorted(given)


def plan_summary(result: SourcingResult) -> Mapping[str, Any]:
    """A decision record for callers that bring none (the CLI): the rule and its plan."""
    plan = result.plan
    return {
        "profile": result.profile,
        "rule": result.rule,
        "shipments": [
            {
                "location": shipment.location,
                "allocations": [
                    {"line_id": a.line_id, "units": a.units} for a in shipment.allocations
                ],
            }
            for shipment in (plan.shipments if plan is not None else ())
        ],
    }


_views: WeakKeyDictionary[Database, SourcingView] = WeakKeyDictionary()
_views_lock = threading.Lock()


def shared_view(db: Database) -> SourcingView:
    """A sourcing view for callers without one (the CLI, a feed through the service alone):
    built on first drift only, then kept for the database's life, since building it reads the
    whole network."""
    with _views_lock:
        view = _views.get(db)
        if view is None:
            view = _views[db] = SourcingView(db, criteria=installed_criteria())
        return view
