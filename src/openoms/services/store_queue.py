"""A store's queue as the store app shows it: each fulfilment with its order's delivery method
and promise, and its lines as a pick list (names, categories, barcodes).

Scope comes from `services/fulfilment.py` (`list_fulfilments`, `get_fulfilment` with the store
as caller): another location's fulfilment is not found here either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openoms.db.repositories import locations as locations_repo
from openoms.db.repositories import skus as skus_repo
from openoms.db.repositories import store_queue as repo
from openoms.db.uow import Database
from openoms.domain.fulfilments import Actor, FulfilmentStatus
from openoms.domain.picking import PickLine, pick_list
from openoms.errors import NotFound
from openoms.services.fulfilment import Caller, FulfilmentDetail, get_fulfilment, list_fulfilments

WAITING = (FulfilmentStatus.OFFERED,)
WORK = (FulfilmentStatus.CLAIMED, FulfilmentStatus.PICKING, FulfilmentStatus.PACKED)
MAX_SHOWN = 200
"""Per status: a store with more open work than this has a problem a list will not solve."""


@dataclass(frozen=True, slots=True)
class Promised:
    earliest: date | None
    latest: date | None
    ready_at: datetime | None


@dataclass(frozen=True, slots=True)
class WorkItem:
    detail: FulfilmentDetail
    delivery_method: str
    promised: Promised | None
    customer: str
    lines: tuple[PickLine, ...]
    """In pick-list order."""

    @property
    def id(self) -> str:
        return self.detail.fulfilment.id

    @property
    def status(self) -> FulfilmentStatus:
        return self.detail.fulfilment.status

    @property
    def units(self) -> int:
        return sum(line.units for line in self.lines)


@dataclass(frozen=True, slots=True)
class Queue:
    offers: list[WorkItem]
    """Offered to this store, waiting for a claim."""
    work: list[WorkItem]
    """Claimed here: to pick, to pack."""


def store_caller(location: str) -> Caller:
    return Caller(Actor.STORE, location)


def store_queue(db: Database, location: str) -> Queue:
    caller = store_caller(location)

    def of(statuses: Sequence[FulfilmentStatus]) -> list[FulfilmentDetail]:
        found = []
        for status in statuses:
            found += list_fulfilments(
                db, caller, location=location, status=status, after=None, limit=MAX_SHOWN
            )
        return found

    offered = [d for d in of(WAITING) if d.offer is not None and location in d.offer.locations]
    items = _items(db, [*offered, *of(WORK)])
    return Queue(
        offers=[item for item in items if item.status in WAITING],
        work=[item for item in items if item.status in WORK],
    )


def work_item(db: Database, location: str, fulfilment_id: str) -> WorkItem:
    """One fulfilment of the store (or offered to it); NotFound for any other."""
    detail = get_fulfilment(db, fulfilment_id, store_caller(location))
    [item] = _items(db, [detail])
    return item


def location_timezone(db: Database, location: str) -> str:
    with db.read() as conn:
        found = locations_repo.get(conn, location)
    if found is None:
        raise NotFound("location", location)
    return found.timezone


def _items(db: Database, details: Sequence[FulfilmentDetail]) -> list[WorkItem]:
    with db.read() as conn:
        orders = repo.orders_by_id(conn, [d.order_id for d in details])
        codes = sorted({a.sku for d in details for a in d.fulfilment.allocations})
        skus = skus_repo.get_many(conn, codes)
    items = []
    for detail in details:
        order = orders[detail.order_id]
        lines = [
            PickLine(
                line_id=a.line_id,
                sku=a.sku,
                name=skus[a.sku].name if a.sku in skus else a.sku,
                category=skus[a.sku].category if a.sku in skus else "",
                barcode=skus[a.sku].barcode if a.sku in skus else "",
                units=a.units,
            )
            for a in detail.fulfilment.allocations
            if a.units
        ]
        items.append(
            WorkItem(
                detail=detail,
                delivery_method=order.delivery_method,
                promised=_promised(order.promise_option),
                customer=str((order.customer or {}).get("name", "")),
                lines=tuple(pick_list(lines)),
            )
        )
    return items


def _promised(option: Mapping[str, Any] | None) -> Promised | None:
    if not option:
        return None

    def day(key: str) -> date | None:
        value = option.get(key)
        return date.fromisoformat(value) if value else None

    ready = option.get("ready_at")
    return Promised(
        day("earliest"), day("latest"), datetime.fromisoformat(ready) if ready else None
    )
