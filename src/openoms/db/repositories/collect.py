"""Click & collect rows: the stores' settings, collect orders, transfers; and the statement
that puts a received transfer's units on the pickup store's shelf, held for their order.

Callers hold the order's lock (orders_repo.load(for_update=True)) before changing a collect
order or a transfer, so that changes of one order queue; a wrong pickup code is counted by a
conditional increment, so that two wrong tries at once both count.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, case, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from openoms.db.repositories.fulfilments import Units, movement_id
from openoms.db.tables import (
    allocations,
    collect_orders,
    collect_settings,
    fulfilments,
    orders,
    parcels,
    stock_movements,
    stock_positions,
    transfers,
)
from openoms.domain.collect import CollectSettings, UncollectedPolicy

PREPARING = "preparing"
READY = "ready"
COLLECTED = "collected"
UNCOLLECTED = "uncollected"
CANCELLED = "cancelled"

_k, _t, _p = collect_orders.c, transfers.c, stock_positions.c


def _insert(conn: Connection) -> Any:
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


# --- settings ------------------------------------------------------------------------------


def settings_of(conn: Connection, store: str) -> CollectSettings:
    c = collect_settings.c
    row = conn.execute(select(collect_settings).where(c.location_code == store)).first()
    if row is None:
        return CollectSettings()
    return CollectSettings(
        row.holding_days, row.express_minutes, UncollectedPolicy(row.uncollected)
    )


def put_settings(conn: Connection, store: str, settings: CollectSettings, now: datetime) -> None:
    values = {
        "holding_days": settings.holding_days,
        "express_minutes": settings.express_minutes,
        "uncollected": settings.uncollected.value,
        "updated_at": now,
    }
    statement = _insert(conn)(collect_settings).values(location_code=store, **values)
    conn.execute(statement.on_conflict_do_update(index_elements=["location_code"], set_=values))


# --- collect orders ------------------------------------------------------------------------


def add_collect_order(
    conn: Connection,
    order_id: str,
    store: str,
    method: str,
    *,
    ready_by: datetime | None,
    now: datetime,
) -> None:
    conn.execute(
        collect_orders.insert(),
        [
            {
                "order_id": order_id,
                "store": store,
                "method": method,
                "state": PREPARING,
                "ready_by": ready_by,
                "late": False,
                "failed_tries": 0,
                "created_at": now,
                "updated_at": now,
            }
        ],
    )


def find_collect_order(conn: Connection, order_id: str) -> Row[Any] | None:
    return conn.execute(select(collect_orders).where(_k.order_id == order_id)).first()


def update_collect_order(conn: Connection, order_id: str, now: datetime, **values: Any) -> None:
    conn.execute(
        update(collect_orders).where(_k.order_id == order_id).values(updated_at=now, **values)
    )


def count_failed_try(conn: Connection, order_id: str, now: datetime) -> int:
    """One more wrong try; how many there are now."""
    conn.execute(
        update(collect_orders)
        .where(_k.order_id == order_id)
        .values(failed_tries=_k.failed_tries + 1, updated_at=now)
    )
    return int(conn.execute(select(_k.failed_tries).where(_k.order_id == order_id)).scalar_one())


def to_click_collect(conn: Connection, order_id: str, now: datetime) -> None:
    """An express order its store could not prepare goes on as a normal click & collect."""
    conn.execute(
        update(orders)
        .where(orders.c.id == order_id)
        .values(delivery_method="click_collect", updated_at=now)
    )
    update_collect_order(conn, order_id, now, method="click_collect", ready_by=None, late=False)


def page_collect_orders(
    conn: Connection,
    *,
    store: str | None,
    state: str | None,
    late: bool | None,
    after: str | None,
    limit: int,
) -> list[Row[Any]]:
    """Collect orders by order id (UUIDv7: oldest first), filtered."""
    query = select(collect_orders).order_by(_k.order_id).limit(limit)
    if store is not None:
        query = query.where(_k.store == store)
    if state is not None:
        query = query.where(_k.state == state)
    if late is not None:
        query = query.where(_k.late.is_(late))
    if after is not None:
        query = query.where(_k.order_id > after)
    return list(conn.execute(query))


# --- transfers -----------------------------------------------------------------------------


def add_transfer(
    conn: Connection,
    *,
    fulfilment_id: str,
    order_id: str,
    from_location: str,
    to_location: str,
    latest_arrival: date,
    overdue_at: datetime,
    now: datetime,
) -> None:
    conn.execute(
        transfers.insert(),
        [
            {
                "fulfilment_id": fulfilment_id,
                "order_id": order_id,
                "from_location": from_location,
                "to_location": to_location,
                "shipped_at": now,
                "latest_arrival": latest_arrival,
                "overdue_at": overdue_at,
                "overdue": False,
            }
        ],
    )


def find_transfer(conn: Connection, fulfilment_id: str) -> Row[Any] | None:
    return conn.execute(select(transfers).where(_t.fulfilment_id == fulfilment_id)).first()


def transfers_of(conn: Connection, order_ids: list[str]) -> list[Row[Any]]:
    query = select(transfers).where(_t.order_id.in_(order_ids)).order_by(_t.fulfilment_id)
    return list(conn.execute(query))


def mark_received(conn: Connection, fulfilment_id: str, key_id: str | None, now: datetime) -> None:
    conn.execute(
        update(transfers)
        .where(_t.fulfilment_id == fulfilment_id)
        .values(received_at=now, received_by=key_id)
    )


def flag_overdue(conn: Connection, fulfilment_id: str) -> None:
    conn.execute(update(transfers).where(_t.fulfilment_id == fulfilment_id).values(overdue=True))


def fulfilment_of_parcel(conn: Connection, tracking_number: str) -> str | None:
    query = select(parcels.c.fulfilment_id).where(parcels.c.tracking_number == tracking_number)
    found = conn.execute(query).scalar()
    return str(found) if found is not None else None


# --- stock ---------------------------------------------------------------------------------


def arrive(conn: Connection, fulfilment_id: str, held: Units, now: datetime) -> None:
    """A received transfer's units go on the pickup store's shelf held for their order:
    on_hand and reserved both go up (the position is made if the store never had the sku),
    and a `transfer_in` movement is recorded, so that an older snapshot nets them in."""
    location, sku, units = held
    later = case(
        (_p.last_movement_at.is_(None), now),
        (_p.last_movement_at < now, now),
        else_=_p.last_movement_at,
    )
    statement = _insert(conn)(stock_positions).values(
        location_code=location,
        sku_code=sku,
        on_hand=units,
        reserved=units,
        safety_stock=0,
        snapshot_delta=0,
        last_movement_at=now,
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["location_code", "sku_code"],
            set_={
                "on_hand": _p.on_hand + units,
                "reserved": _p.reserved + units,
                "last_movement_at": later,
            },
        )
    )
    movement = _insert(conn)(stock_movements).on_conflict_do_nothing()
    conn.execute(
        movement,
        [
            {
                "movement_id": movement_id("transfer_in", fulfilment_id, sku),
                "location_code": location,
                "sku_code": sku,
                "delta": units,
                "reason": "transfer_in",
                "occurred_at": now,
                "received_at": now,
            }
        ],
    )


def relocate(conn: Connection, fulfilment_id: str, location: str) -> None:
    """The fulfilment and its allocations are at the pickup store now."""
    conn.execute(
        update(fulfilments).where(fulfilments.c.id == fulfilment_id).values(location_code=location)
    )
    conn.execute(
        update(allocations)
        .where(allocations.c.fulfilment_id == fulfilment_id)
        .values(location_code=location)
    )
