"""The worker's click & collect jobs (registered in services/timers.py `HANDLERS`): an express
order's deadline, a transfer's arrival, a collect order's holding time. Each runs in the job's own
write transaction, the order locked first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from openoms.db.repositories import collect as repo
from openoms.db.repositories import jobs as jobs_repo
from openoms.db.repositories import orders as orders_repo
from openoms.domain.collect import UncollectedPolicy
from openoms.domain.fulfilments import FulfilmentStatus, Transition
from openoms.services.collect import (
    EXPRESS_LATE,
    NOT_COLLECTED,
    SYSTEM,
    TRANSFER_OVERDUE,
    UNCOLLECTED,
)
from openoms.services.fulfilment import apply_transition, begin_step
from openoms.services.order_change import OrderChange, change_fields, finish_change, open_change

if TYPE_CHECKING:
    from openoms.services.timers import Timers


def express_late(conn: Connection, timers: Timers, order_id: str, now: datetime) -> None:
    change = open_change(conn, order_id, now)
    collect_order = repo.find_collect_order(conn, order_id)
    if (
        collect_order is None
        or collect_order.state != repo.PREPARING
        or collect_order.ready_by is None
    ):
        return
    if collect_order.ready_by > now:  # the deadline moved
        jobs_repo.schedule(conn, EXPRESS_LATE, order_id, collect_order.ready_by, now)
        return
    repo.update_collect_order(conn, order_id, now, late=True)
    change.event(
        "order.express_late",
        None,
        store=collect_order.store,
        ready_by=collect_order.ready_by.isoformat(),
    )
    finish_change(change)


def transfer_overdue(conn: Connection, timers: Timers, fulfilment_id: str, now: datetime) -> None:
    """Flagged, not re-routed: the parcel may still come, and its units left the sender's
    stock; the pickup store's queue and the event tell the operations team to chase it."""
    transfer = repo.find_transfer(conn, fulfilment_id)
    if transfer is None or transfer.received_at is not None:
        return
    change = open_change(conn, transfer.order_id, now)
    repo.flag_overdue(conn, fulfilment_id)
    change.event(
        "transfer.overdue",
        fulfilment_id,
        **{"from": transfer.from_location},
        to=transfer.to_location,
        latest_arrival=transfer.latest_arrival.isoformat(),
    )
    finish_change(change)


def uncollected(conn: Connection, timers: Timers, order_id: str, now: datetime) -> None:
    """The holding time is over: every part is cancelled by the system (the units back on
    the store's stock), and the payment system is told what to do, per the store's policy."""
    collect_order = repo.find_collect_order(conn, order_id)
    if collect_order is None or collect_order.state != repo.READY:
        return
    if collect_order.holding_until > now:
        jobs_repo.schedule(conn, UNCOLLECTED, order_id, collect_order.holding_until, now)
        return
    change = open_change(conn, order_id, now)
    policy = repo.settings_of(conn, collect_order.store).uncollected
    waiting = [
        f.id for f in change.rows.fulfilments if f.status == FulfilmentStatus.READY_FOR_PICKUP
    ]
    price = {line.line_id: (line.unit_price, line.currency) for line in change.rows.lines}
    amounts: dict[str, int] = {}
    for fulfilment_id in waiting:
        step = begin_step(
            conn, change.stamp, fulfilment_id, Transition.CANCEL, caller=SYSTEM, now=now
        )
        for line_id, units in step.units.items():
            unit_price, currency = price[line_id]
            amounts[currency] = amounts.get(currency, 0) + unit_price * units
        apply_transition(step)
        finish_change(step)
    repo.update_collect_order(conn, order_id, now, state=repo.UNCOLLECTED)
    final = _again(change)
    final.event(
        "order.cancelled",
        None,
        reason=NOT_COLLECTED,
        policy=policy.value,
        store=collect_order.store,
    )
    kind = (
        "payment.refund_requested"
        if policy is UncollectedPolicy.REFUND
        else "payment.void_requested"
    )
    for currency, amount in sorted(amounts.items()):
        final.event(kind, None, reason=NOT_COLLECTED, amount=amount, currency=currency)
    finish_change(final)


def _again(change: OrderChange) -> OrderChange:
    """The order read again in the same transaction, with the same change stamp."""
    rows = orders_repo.load(change.conn, change.rows.order.id, for_update=True)
    assert rows is not None
    return OrderChange(**change_fields(change.conn, rows, change.now, change.stamp))


def collect_jobs() -> dict[str, Callable[[Connection, Timers, str, datetime], None]]:
    return {
        EXPRESS_LATE: express_late,
        TRANSFER_OVERDUE: transfer_overdue,
        UNCOLLECTED: uncollected,
    }
