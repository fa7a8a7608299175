"""Click & collect orders as their store's queue: a collect order's view (its deadlines, its
transfers, who handed it over), listing and reading within the caller's scope; and a store's
click & collect settings. The use cases that change them are services/collect.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row

from openoms.db.repositories import collect as repo
from openoms.db.repositories import fulfilments as fulfilments_repo
from openoms.db.uow import Database
from openoms.domain.collect import CollectSettings, tries_left
from openoms.domain.fulfilments import Actor, FulfilmentStatus
from openoms.domain.network import Capability
from openoms.domain.orders import OrderStatus
from openoms.errors import FieldError, Forbidden, InvalidInput, NotFound
from openoms.services.fulfilment import Caller
from openoms.services.sourcing_view import SourcingView


@dataclass(frozen=True, slots=True)
class TransferView:
    fulfilment_id: str
    from_location: str
    status: FulfilmentStatus
    shipped_at: datetime
    latest_arrival: date
    overdue: bool
    received_at: datetime | None
    tracking_numbers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CollectOrderView:
    order_id: str
    store: str
    method: str
    state: str
    order_status: OrderStatus
    ready_by: datetime | None
    late: bool
    ready_at: datetime | None
    holding_until: datetime | None
    tries_left: int
    collected_at: datetime | None
    collected_by: str | None
    associate: str | None
    handover: str | None
    created_at: datetime
    transfers: tuple[TransferView, ...]


def collect_order_for(conn: Connection, order_id: str, caller: Caller) -> Row[Any]:
    collect_order = repo.find_collect_order(conn, order_id)
    if collect_order is None:
        raise NotFound("collect order", order_id)
    if caller.actor is Actor.STORE and caller.location != collect_order.store:
        raise Forbidden(
            f"order {order_id} is collected at {collect_order.store}, not at {caller.location}",
            field="location",
        )
    return collect_order


def get_collect_order(db: Database, order_id: str, caller: Caller) -> CollectOrderView:
    with db.read() as conn:
        collect_order = collect_order_for(conn, order_id, caller)
        if (
            caller.channel is not None
            and fulfilments_repo.channel_of(conn, order_id) != caller.channel
        ):
            raise NotFound("collect order", order_id)
        [found] = _views(conn, [collect_order])
        return found


def list_collect_orders(
    db: Database,
    caller: Caller,
    *,
    store: str | None,
    state: str | None,
    late: bool | None,
    after: str | None,
    limit: int,
) -> list[CollectOrderView]:
    """A store's collect queue, oldest first: orders on their way, waiting, collected."""
    if caller.location is not None:
        if store not in (None, caller.location):
            message = f"this key acts for location {caller.location!r}, not {store!r}"
            raise Forbidden(message, field="store")
        store = caller.location
    with db.read() as conn:
        rows = repo.page_collect_orders(
            conn, store=store, state=state, late=late, after=after, limit=limit
        )
        return _views(conn, rows)


def _views(conn: Connection, rows: Sequence[Row[Any]]) -> list[CollectOrderView]:
    ids = [row.order_id for row in rows]
    statuses = fulfilments_repo.order_statuses(conn, ids)
    sent = repo.transfers_of(conn, ids)
    fulfilment_rows = {
        f.id: f for f in (fulfilments_repo.find(conn, t.fulfilment_id) for t in sent) if f
    }
    numbers: dict[str, list[str]] = {}
    for p in fulfilments_repo.parcels_of(conn, list(fulfilment_rows)):
        numbers.setdefault(p.fulfilment_id, []).append(p.tracking_number)
    by_order: dict[str, list[TransferView]] = {}
    for t in sent:
        by_order.setdefault(t.order_id, []).append(
            TransferView(
                fulfilment_id=t.fulfilment_id,
                from_location=t.from_location,
                status=FulfilmentStatus(fulfilment_rows[t.fulfilment_id].status),
                shipped_at=t.shipped_at,
                latest_arrival=t.latest_arrival,
                overdue=t.overdue,
                received_at=t.received_at,
                tracking_numbers=tuple(numbers.get(t.fulfilment_id, ())),
            )
        )
    return [
        CollectOrderView(
            order_id=row.order_id,
            store=row.store,
            method=row.method,
            state=row.state,
            order_status=OrderStatus(statuses[row.order_id]),
            ready_by=row.ready_by,
            late=row.late,
            ready_at=row.ready_at,
            holding_until=row.holding_until,
            tries_left=tries_left(row.failed_tries),
            collected_at=row.collected_at,
            collected_by=row.collected_by,
            associate=row.associate,
            handover=row.handover,
            created_at=row.created_at,
            transfers=tuple(by_order.get(row.order_id, ())),
        )
        for row in rows
    ]


# --- settings ------------------------------------------------------------------------------


def collect_settings(db: Database, view: SourcingView, store: str) -> CollectSettings:
    view.refresh()
    if view.location(store) is None:
        raise NotFound("location", store)
    with db.read() as conn:
        return repo.settings_of(conn, store)


def put_collect_settings(
    db: Database, view: SourcingView, store: str, settings: CollectSettings, *, now: datetime
) -> CollectSettings:
    view.refresh()
    location = view.location(store)
    if location is None:
        raise NotFound("location", store)
    if Capability.CLICK_COLLECT not in location.capabilities:
        message = f"{store} does not offer click & collect"
        raise InvalidInput([FieldError("store", message, "not_a_pickup_store")])
    with db.write() as uow:
        repo.put_settings(uow.conn, store, settings, now)
        uow.commit()
    return settings
