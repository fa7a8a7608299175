"""Timers: the jobs the worker carries out, and `run_due`, which carries out those due.

`run_due(db, now)` leases the due jobs (db/repositories/jobs.py: a conditional update, after
`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two workers never lease one job) and runs each in its
own write transaction, which first deletes the job (still leased to us, its row locked) and then
does the work: a handler that wants to run again schedules a new row. A handler that fails rolls
back, and the job is put back with a backoff (`attempts` counted, the error kept).

Jobs:
- `offer_timeout` (a fulfilment): nobody claimed within the wave's minutes. The offers expire,
  the next wave goes to the next N stores (the hold moving to the first that still fits); with
  no store left, the fulfilment is withdrawn and its units re-routed without the stores offered
  (the profile's next rules: claimed at once, offered again, or a backorder).
- `backorder_retry` (an order): its unallocated units sourced again, every
  `BACKORDER_RETRY_EVERY` while some are left (scheduled by re-routing and `after_placement`).
- `reservation_expiry` (an e-reservation): at its `expires_at`, one still open or set aside is
  written down as expired and `reservation.expired` emitted (its units came back by time alone).
- `pickup_booking` (a fulfilment whose parcels were labelled): its carrier's parcels waiting at
  its location booked for the carrier's next collection, half an hour before it
  (services/pickups.py; a failed insert, another booking meanwhile, runs again and joins it).
- `express_late`, `transfer_overdue`, `collect_order_uncollected`: click & collect's deadlines
  (services/collect_timers.py).

`after_placement` opens the first offer wave of a placed order's broadcast fulfilments and sets
its backorder timer, in the order's own write transaction (services/ordering.py `_save`).
Every change writes its events in its transaction (services/order_change.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row
from uuid6 import uuid7

from openoms.db import changes
from openoms.db.repositories import fulfilments as fulfilments_repo
from openoms.db.repositories import jobs as repo
from openoms.db.repositories import offers as offers_repo
from openoms.db.repositories import orders as orders_repo
from openoms.db.uow import Database
from openoms.domain.fulfilments import Actor, FulfilmentStatus, Transition
from openoms.domain.profiles import OfferMode
from openoms.errors import NotFound
from openoms.services.collect import after_placement as collect_placed
from openoms.services.collect_timers import collect_jobs
from openoms.services.fulfilment import Caller, apply_transition, begin_step
from openoms.services.mail import Mailer
from openoms.services.offers import (
    OFFER_TIMEOUT,
    ClaimDoesNotFit,
    candidates,
    expire_offers,
    move_hold,
    offer_policy,
    open_wave,
)
from openoms.services.order_change import OrderChange, change_fields, finish_change, open_change
from openoms.services.ordering import COLLECT_METHODS, DecisionRecorder
from openoms.services.parcels import PICKUP_BOOKING
from openoms.services.pickups import book_due_pickup
from openoms.services.rerouting import (
    BACKORDER_RETRY,
    closed_locations,
    reroute_units,
    schedule_backorder_retry,
)
from openoms.services.reservations import RESERVATION_EXPIRY, expire_reservation
from openoms.services.sourcing_view import SourcingView

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
"""How long a leased job is a worker's: past that, another worker may take it up."""
BATCH = 20
OFFER_GONE = "offer_timeout"
"""The re-route reason when the last wave expired."""
SYSTEM = Caller(Actor.SYSTEM)


@dataclass(frozen=True, slots=True)
class Timers:
    """What the jobs need besides the transaction."""

    view: SourcingView
    record: DecisionRecorder
    mailer: Mailer | None = None
    """Sends what customers are owed (services/notifications.py); None: nothing is sent."""


Handler = Callable[[Connection, Timers, str, datetime], None]


def offer_timeout(conn: Connection, timers: Timers, fulfilment_id: str, now: datetime) -> None:
    found = fulfilments_repo.find(conn, fulfilment_id)
    if found is None or found.status != FulfilmentStatus.OFFERED:
        offers_repo.close(conn, fulfilment_id, None, offers_repo.WITHDRAWN)
        return
    step = begin_step(
        conn, changes.stamp(conn), fulfilment_id, Transition.WITHDRAW, caller=SYSTEM, now=now
    )
    rows = offers_repo.of_fulfilment(conn, fulfilment_id)
    pending = [r.expires_at for r in rows if r.state == offers_repo.OPEN and r.expires_at > now]
    if pending:  # a newer wave than the one this job was set for
        repo.schedule(conn, OFFER_TIMEOUT, fulfilment_id, min(pending), now)
        return
    expire_offers(step, fulfilment_id)
    offered = {r.location_code for r in rows} | closed_locations(conn, timers.view, now)
    wave = max((r.wave for r in rows), default=0) + 1
    if _next_wave(step, timers, step.fulfilment, offered, wave):
        finish_change(step)
        return
    apply_transition(step)
    reroute_units(
        step,
        view=timers.view,
        record=timers.record,
        units_by_line=dict(step.released),
        exclude=offered,
        reason=OFFER_GONE,
        from_fulfilment=fulfilment_id,
        from_location=step.location,
    )
    finish_change(step)


def _next_wave(
    change: OrderChange, timers: Timers, fulfilment: Row[Any], offered: set[str], wave: int
) -> bool:
    """Offer the next stores; the hold moves to the first that still has the units."""
    policy = offer_policy(timers.view, change.rows.order, fulfilment.rule, change.now)
    if policy.mode is not OfferMode.BROADCAST:  # the profile stopped broadcasting: re-route
        return False  # (before moving the hold: a moved hold would leave the step stale)
    for location in candidates(change, timers.view, fulfilment, offered, max(policy.stores, 1)):
        try:
            moved = move_hold(change, fulfilment, location)
        except ClaimDoesNotFit:
            continue
        return bool(open_wave(change, timers.view, moved, wave=wave, exclude=offered))
    return False


def backorder_retry(conn: Connection, timers: Timers, order_id: str, now: datetime) -> None:
    change = open_change(conn, order_id, now)
    wanted = {line_id: state[0] for line_id, state in change.lines.items() if state[0] > 0}
    if not wanted:
        return
    skus = {change.sku_of[line_id] for line_id in wanted}
    if not fulfilments_repo.atp_by_location(conn, skus, now):  # nothing anywhere: just wait again
        schedule_backorder_retry(change)
        return
    reroute_units(
        change,
        view=timers.view,
        record=timers.record,
        units_by_line=wanted,
        exclude=(),
        reason="backorder_retry",
    )
    finish_change(change)


def reservation_expiry(
    conn: Connection, timers: Timers, reservation_id: str, now: datetime
) -> None:
    expire_reservation(conn, reservation_id, now)
    timers.view.index.mark_stale()


def pickup_booking(conn: Connection, timers: Timers, fulfilment_id: str, now: datetime) -> None:
    book_due_pickup(conn, timers.view, fulfilment_id, now)


HANDLERS: Mapping[str, Handler] = {
    OFFER_TIMEOUT: offer_timeout,
    BACKORDER_RETRY: backorder_retry,
    RESERVATION_EXPIRY: reservation_expiry,
    PICKUP_BOOKING: pickup_booking,
    **collect_jobs(),
}


def run_due(
    db: Database,
    timers: Timers,
    now: datetime,
    *,
    handlers: Mapping[str, Handler] = HANDLERS,
    limit: int = BATCH,
) -> int:
    """Carry out the jobs due at `now`; returns how many ran (failed ones included)."""
    token = str(uuid7())
    with db.write() as uow:
        leased = repo.lease(uow.conn, now, now + LEASE, token, limit)
        uow.commit()
    if leased:
        timers.view.refresh()
    for job in leased:
        handler = handlers.get(job.kind)
        try:
            with db.write() as uow:
                if not repo.is_leased(uow.conn, job.id, token):
                    continue
                repo.done(uow.conn, job.id, token)
                if handler is None:
                    raise LookupError(f"no handler for job kind {job.kind!r}")
                handler(uow.conn, timers, job.subject, now)
                uow.commit()
        except Exception as error:
            log.warning("job %s %s failed: %s", job.kind, job.subject, error)
            timers.view.index.mark_stale()
            backoff = timedelta(seconds=min(2 ** (job.attempts + 1), 3600))
            with db.write() as uow:
                repo.retry(uow.conn, job.id, token, now + backoff, repr(error))
                uow.commit()
    return len(leased)


def after_placement(
    conn: Connection, view: SourcingView, order_id: str, stamp: int, now: datetime
) -> None:
    """In the transaction that places an order, after its reserves: its broadcast fulfilments
    offered to their first wave, its backorder timer set, a click & collect
    order's collect order row (`stamp`: the transaction's)."""
    rows = orders_repo.load(conn, order_id, for_update=True)
    if rows is None:
        raise NotFound("order", order_id)
    if rows.order.delivery_method in COLLECT_METHODS:
        collect_placed(conn, order_id, now)
        offered = any(f.status == FulfilmentStatus.OFFERED for f in rows.fulfilments)
        if not offered and not any(line.unallocated for line in rows.lines):
            return  # claimed at once, nothing waiting: no wave, no timer, the order unchanged
    change = OrderChange(**change_fields(conn, rows, now, stamp))
    closed = closed_locations(conn, view, now)
    for row in change.rows.fulfilments:
        if row.status == FulfilmentStatus.OFFERED and not offers_repo.of_fulfilment(conn, row.id):
            open_wave(change, view, row, wave=1, exclude=closed)
    if any(state[0] for state in change.lines.values()):
        schedule_backorder_retry(change)
    finish_change(change)
