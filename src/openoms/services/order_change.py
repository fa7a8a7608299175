"""One order's changes inside one write transaction, shared by the services that move its units.

A service opens the change (`open_change`: the order read locked, so that changes of one order
queue on PostgreSQL), moves units with the domain's `move` on `buckets` and writes the rows,
notes the positions it touched and the events it owes, and ends with `finish_change`: the lines
written, the rows compared with the buckets the domain moved (a disagreement is a bug and rolls
the transaction back), conservation checked, the order's status saved, the stock changes and
the events recorded with the transaction's change stamp.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from openoms.db import changes
from openoms.db.repositories import events as events_repo
from openoms.db.repositories import fulfilments as repo
from openoms.db.repositories import orders as orders_repo
from openoms.db.repositories import stock_changes
from openoms.domain.orders import Buckets, ensure_conserved
from openoms.errors import NotFound
from openoms.services.ordering import order_view
from openoms.services.sourcing_view import SourcingView


@dataclass(kw_only=True)
class OrderChange:
    """What a transaction read of one order and what it changed so far."""

    conn: Connection
    stamp: int
    now: datetime
    rows: orders_repo.OrderRows
    buckets: dict[str, Buckets]
    """Each line's buckets as the domain moved them: the rows must agree at the end."""
    lines: dict[str, list[Any]]
    """line id -> [unallocated, unallocated_reason, cancelled], written at the end."""
    touched: set[tuple[str, str]] = field(default_factory=set)
    events: list[dict[str, Any]] = field(default_factory=list)

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


def change_fields(
    conn: Connection, rows: orders_repo.OrderRows, now: datetime, stamp: int | None = None
) -> dict[str, Any]:
    """The fields of an `OrderChange` (or of a subclass) for an order read in this transaction."""
    view = order_view(rows)
    return {
        "conn": conn,
        "stamp": changes.stamp(conn) if stamp is None else stamp,
        "now": now,
        "rows": rows,
        "buckets": {line.line_id: line.buckets for line in view.lines},
        "lines": {
            line.line_id: [line.unallocated, line.unallocated_reason, line.cancelled]
            for line in rows.lines
        },
    }


def open_change(conn: Connection, order_id: str, now: datetime) -> OrderChange:
    """The order read locked, in the caller's write transaction."""
    rows = orders_repo.load(conn, order_id, for_update=True)
    if rows is None:
        raise NotFound("order", order_id)
    return OrderChange(**change_fields(conn, rows, now))


def finish_change(change: OrderChange) -> None:
    """Write the lines, check the rows against the domain's buckets, save the order status."""
    conn, order_id = change.conn, change.rows.order.id
    for line in change.rows.lines:
        unallocated, reason, cancelled = change.lines[line.line_id]
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
        if seen.buckets != change.buckets[seen.line_id]:
            moved = change.buckets[seen.line_id]
            raise AssertionError(f"line {seen.line_id}: rows say {seen.buckets}, moves {moved}")
    status = view.summary.status.value
    orders_repo.set_order_status(conn, order_id, status, change.now)
    for event in change.events:
        event["payload"]["order_status"] = status
    stock_changes.record(conn, sorted(change.touched), change.stamp, change.now)
    events_repo.append(conn, change.events, change.stamp, change.now)


def local_day(view: SourcingView | None, location: str, now: datetime) -> date:
    known = view.location(location) if view is not None else None
    return now.astimezone(known.zone).date() if known is not None else now.date()
