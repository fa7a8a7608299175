"""Re-routing: units an order gave back (a reject, a short pick, stock drift under a hold)
sourced again with the order's profile, inside the caller's write transaction.

The entry point is `reroute_units`: it plans from stock read in the same transaction, without
the excluded locations and any store closed for the day, reserves the plan's units by
conditional updates (a position that no longer fits raises `RaceLost`: the caller rolls back and
starts again, as `place_order` does), creates the new fulfilments (claimed at once or offered,
as the rule says), leaves what no location can take on its line as a backorder with a reason,
and adds the attempt to the order's decision history with an `order.rerouted` event.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection
from uuid6 import uuid7

from openoms.db.repositories import fulfilments as repo
from openoms.db.repositories import jobs as jobs_repo
from openoms.db.repositories import orders as orders_repo
from openoms.db.tables import allocations, fulfilments
from openoms.domain.fulfilments import INITIAL_STATUS, Actor, Transition, may_act, next_status
from openoms.domain.orders import AllocatedAt, Bucket, move
from openoms.domain.profiles import DeliveryMethod, OfferMode
from openoms.errors import Conflict, NotFound
from openoms.services.offers import offer_policy, open_wave, order_destination
from openoms.services.order_change import OrderChange, local_day
from openoms.services.ordering import CONTENTION, NO_PLAN, NO_STOCK, DecisionRecorder
from openoms.services.sourcing import BasketStock, RequestedLine, SourcingResult, plan_basket
from openoms.services.sourcing_view import SourcingView

BACKORDER_RETRY = "backorder_retry"
"""The job that sources an order's unallocated units again: subject the order id."""
BACKORDER_RETRY_EVERY = timedelta(minutes=5)


class RaceLost(Exception):
    """A re-route's plan no longer fits a position: roll back and do it all again."""


@dataclass(frozen=True, slots=True)
class Rerouted:
    created: tuple[str, ...]
    """The new fulfilments."""
    unallocated: Mapping[str, int]
    """line id -> units left as a backorder."""


@dataclass(frozen=True, slots=True)
class _Planned:
    result: SourcingResult | None
    outcomes: tuple[tuple[str, SourcingResult], ...]


def reroute_units(
    change: OrderChange,
    *,
    view: SourcingView,
    record: DecisionRecorder,
    units_by_line: Mapping[str, int],
    exclude: Iterable[str],
    reason: str,
    from_fulfilment: str | None = None,
    from_location: str | None = None,
    plan: bool = True,
) -> Rerouted:
    """Source the units again (they must already be in their lines' `unallocated` bucket of
    `change`) without the excluded locations or a store closed for the day; what no location
    can take waits on its line, with the reason. `plan=False` (the last attempt after lost
    races) plans nothing: the units wait as a backorder for contention. Raises `RaceLost`."""
    wanted = {line_id: n for line_id, n in units_by_line.items() if n}
    if not wanted:
        return Rerouted((), {})
    sku_of = change.sku_of
    excluded = sorted(set(exclude) | closed_locations(change.conn, view, change.now))
    lines = [RequestedLine(line_id, sku_of[line_id], n) for line_id, n in sorted(wanted.items())]
    planned = _plan(change, view, lines, excluded) if plan else _Planned(None, ())
    created: list[str] = []
    allocated: dict[str, int] = defaultdict(int)
    if planned.result is not None and planned.result.plan is not None:
        created = _allocate(change, view, planned.result, excluded)
        for shipment in planned.result.plan.shipments:
            for a in shipment.allocations:
                allocated[a.line_id] += a.units
    left = {line_id: n - allocated[line_id] for line_id, n in wanted.items()}
    why = _backorder_reason(planned, plan)
    for line_id, n in left.items():
        if n:
            change.lines[line_id][1] = why
    trigger = {
        "fulfilment_id": from_fulfilment,
        "location": from_location,
        "reason": reason,
        "units": [{"line_id": k, "units": v} for k, v in sorted(wanted.items())],
        "excluded_locations": excluded,
    }
    history = [
        (outcome, {**record(result), "reroute": trigger}) for outcome, result in planned.outcomes
    ] or [(why, {"reroute": trigger})]
    orders_repo.add_decisions(change.conn, change.rows.order.id, history, change.now)
    change.event(
        "order.rerouted",
        None,
        reason=reason,
        from_fulfilment=from_fulfilment,
        to_fulfilments=created,
        unallocated=[{"line_id": k, "units": v} for k, v in sorted(left.items()) if v],
    )
    if any(left.values()):
        schedule_backorder_retry(change)
    return Rerouted(tuple(created), {k: v for k, v in left.items() if v})


def schedule_backorder_retry(change: OrderChange) -> None:
    """The order's backorder sourced again by the worker in `BACKORDER_RETRY_EVERY`."""
    due = change.now + BACKORDER_RETRY_EVERY
    jobs_repo.schedule(change.conn, BACKORDER_RETRY, change.rows.order.id, due, change.now)


def _backorder_reason(planned: _Planned, tried: bool) -> str:
    if not tried:
        return CONTENTION
    result = planned.outcomes[0][1] if planned.outcomes else None
    if result is not None and any(a.decision.shortfall for a in result.attempts):
        return NO_STOCK
    return NO_PLAN


def closed_locations(conn: Connection, view: SourcingView, now: datetime) -> set[str]:
    """Stores closed for the rest of their local day (a `no_capacity` reject)."""
    closed = set()
    for location, day in repo.closures_since(conn, (now - timedelta(days=1)).date()):
        if day == local_day(view, location, now):
            closed.add(location)
    return closed


def _plan(
    change: OrderChange, view: SourcingView, lines: Sequence[RequestedLine], excluded: Iterable[str]
) -> _Planned:
    """The whole remainder if it can be served; else what the locations hold of it."""
    order = change.rows.order
    skus = view.skus([line.sku for line in lines])
    out = set(excluded)
    stock = {
        location: held
        for location, held in repo.atp_by_location(change.conn, skus, change.now).items()
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
                destination=order_destination(view, order),
                now=change.now,
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


def _allocate(
    change: OrderChange, view: SourcingView, result: SourcingResult, excluded: Sequence[str]
) -> list[str]:
    """New fulfilments for the plan, their units reserved (offered to stores by waves when
    the rule broadcasts); a position that no longer fits means another transaction took it
    since it was read: start again."""
    assert result.plan is not None
    order = change.rows.order
    status = INITIAL_STATUS
    policy = offer_policy(view, order, result.rule, change.now)
    if policy.mode is OfferMode.AUTO_CLAIM and may_act(Actor.SYSTEM, Transition.CLAIM):
        status = next_status(status, Transition.CLAIM)
    sku_of = change.sku_of
    created = []
    for shipment in result.plan.shipments:
        fulfilment_id = str(uuid7())
        created.append(fulfilment_id)
        change.conn.execute(
            fulfilments.insert(),
            [
                {
                    "id": fulfilment_id,
                    "order_id": order.id,
                    "location_code": shipment.location,
                    "status": status.value,
                    "rule": result.rule,
                    "version": 1,
                    "created_at": change.now,
                    "updated_at": change.now,
                }
            ],
        )
        rows = []
        for a in shipment.allocations:
            sku = sku_of[a.line_id]
            if not orders_repo.reserve(
                change.conn, shipment.location, sku, a.units, now=change.now
            ):
                raise RaceLost(shipment.location, sku)
            change.touched.add((shipment.location, sku))
            change.buckets[a.line_id] = move(
                change.buckets[a.line_id],
                Bucket.UNALLOCATED,
                AllocatedAt(shipment.location),
                a.units,
            )
            change.lines[a.line_id][0] -= a.units
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
        change.conn.execute(allocations.insert(), rows)
        change.event(
            f"fulfilment.{status.value}",
            fulfilment_id,
            location=shipment.location,
            status=status.value,
            allocations=[
                {"line_id": r["line_id"], "sku": r["sku_code"], "units": r["units"]} for r in rows
            ],
        )
        if status is INITIAL_STATUS:
            change.rows = orders_repo.load(change.conn, order.id) or change.rows
            row = repo.find(change.conn, fulfilment_id)
            assert row is not None
            open_wave(change, view, row, wave=1, exclude=excluded)
    return created
