"""The stock feeds: snapshots, movements and safety stock, in bulk and idempotent.

Every batch is one transaction, checked whole before anything is written: an unknown sku or
location anywhere in it refuses all of it, naming the rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from openoms.db import changes
from openoms.db.repositories import jobs as jobs_repo
from openoms.db.repositories import stock as repo
from openoms.db.repositories import stock_changes
from openoms.db.repositories.codes import existing_codes
from openoms.db.repositories.stock import MovementRow, PositionRow, SafetyStockRow, SnapshotRow
from openoms.db.tables import locations, skus
from openoms.db.uow import Database
from openoms.domain.stock import MAX_QUANTITY, Movement, MovementOutcome, StockPosition
from openoms.errors import FieldError, InvalidInput, NotFound
from openoms.services import drift
from openoms.services.ordering import DecisionRecorder
from openoms.services.rerouting import BACKORDER_RETRY
from openoms.services.sourcing_view import SourcingView

MAX_LISTED_ERRORS = 20


@dataclass(frozen=True, slots=True)
class SnapshotReport:
    received: int
    applied: int
    changed: int
    """Applied and with another on_hand than before."""
    stale: int
    """Older than (or as old as) the snapshot already applied, or superseded in the batch."""
    drifted: int = 0
    """Changed to fewer units on hand than reserved: their newest holds were re-routed."""


@dataclass(frozen=True, slots=True)
class MovementReport:
    received: int
    applied: int
    duplicates: int
    """Movement ids seen before (or twice in the batch): a replay changes nothing."""
    before_snapshot: int
    """Recorded, but already counted in a newer snapshot."""
    clamped: int
    """Would have taken on_hand below zero; on_hand stopped at zero."""


def ingest_snapshots(
    db: Database,
    rows: Sequence[SnapshotRow],
    now: datetime,
    *,
    row_offset: int = 0,
    view: SourcingView | None = None,
    record: DecisionRecorder | None = None,
) -> SnapshotReport:
    """Apply absolute counts. Within a batch, the newest row of a position wins. A position
    counted below what is reserved there has its newest holds re-routed once this commits
    (services/drift.py; `view` and `record` are for that re-routing)."""
    _check_bounds(rows, row_offset, lambda r: r.on_hand, "on_hand", low=0)
    ordered = sorted(_newest_per_position(rows))
    with db.write() as uow:
        _check_codes(uow.conn, rows, row_offset)
        seq = changes.stamp(uow.conn)
        counts = repo.apply_snapshots(uow.conn, ordered, seq, now)
        uow.commit()
    return _after_snapshot(
        db, counts, received=len(rows), seq=seq, now=now, view=view, record=record
    )


def ingest_snapshot_csv(
    db: Database,
    data: bytes,
    now: datetime,
    *,
    view: SourcingView | None = None,
    record: DecisionRecorder | None = None,
) -> SnapshotReport | None:
    """Snapshot CSV lines (no header) through PostgreSQL's fast path; None when the batch is not
    clean or the database is not PostgreSQL: the caller then parses it and calls
    `ingest_snapshots`, which names what is wrong."""
    if db.dialect != "postgresql":
        return None
    received = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    with db.write() as uow:
        seq = changes.stamp(uow.conn)
        counts = repo.apply_snapshot_csv(uow.conn, data, seq, now)
        if counts is None:
            return None
        uow.commit()
    return _after_snapshot(
        db, counts, received=received, seq=seq, now=now, view=view, record=record
    )


def _after_snapshot(
    db: Database,
    counts: repo.Applied,
    *,
    received: int,
    seq: int,
    now: datetime,
    view: SourcingView | None,
    record: DecisionRecorder | None,
) -> SnapshotReport:
    """The report; and, only when the snapshot's own statement counted drift, its re-routing,
    in transactions of its own after the snapshot committed."""
    if counts.drifted:
        drift.resolve_changed(db, seq, now, view=view, record=record)
    if counts.changed:
        stock_arrived(db, now)
    return SnapshotReport(
        received=received,
        applied=counts.applied,
        changed=counts.changed,
        stale=received - counts.applied,
        drifted=counts.drifted,
    )


def record_movements(
    db: Database,
    rows: Sequence[MovementRow],
    now: datetime,
    *,
    row_offset: int = 0,
    view: SourcingView | None = None,
    record: DecisionRecorder | None = None,
) -> MovementReport:
    """Apply signed deltas, each movement id once. A shelf taken below what is held there has
    its newest holds re-routed once this commits, as after a snapshot (services/drift.py)."""
    _check_bounds(rows, row_offset, lambda r: r.delta, "delta", low=-MAX_QUANTITY)
    unique = list({row.movement_id: row for row in reversed(rows)}.values())
    with db.write() as uow:
        _check_codes(uow.conn, rows, row_offset)
        new, outcomes, short = apply_movements(uow.conn, unique, changes.stamp(uow.conn), now)
        uow.commit()
    if short:  # a movement took a shelf below what is held there: as a snapshot would
        drift.resolve_positions(db, short, now, view=view, record=record)
    if any(row.delta > 0 for row in new):
        stock_arrived(db, now)
    return MovementReport(
        received=len(rows),
        applied=outcomes[MovementOutcome.APPLIED] + outcomes[MovementOutcome.CLAMPED],
        duplicates=len(rows) - len(new),
        before_snapshot=outcomes[MovementOutcome.BEFORE_SNAPSHOT],
        clamped=outcomes[MovementOutcome.CLAMPED],
    )


def apply_movements(
    conn: Connection, rows: Sequence[MovementRow], seq: int, now: datetime
) -> tuple[list[MovementRow], Counter[MovementOutcome], list[tuple[str, str]]]:
    """Movements (one row per id, codes known) applied in the caller's transaction stamped
    `seq`: the new ones, what became of each, and the positions they left with fewer units on
    hand than reserved (for `drift.resolve_positions` once the transaction committed)."""
    new = repo.insert_new_movements(conn, rows, now)
    keys = sorted({(r.location, r.sku) for r in new})
    repo.ensure_positions(conn, keys)
    positions = repo.lock_positions(conn, keys)
    changed, outcomes = _apply_movements(positions, new)
    repo.save_after_movements(conn, changed)
    moved = [
        (p.location, p.sku)
        for p, _ in changed
        if p.on_hand != positions[(p.location, p.sku)].on_hand
    ]
    stock_changes.record(conn, moved, seq, now)
    short = [
        (p.location, p.sku)
        for p, _ in changed
        if p.on_hand < positions[(p.location, p.sku)].reserved
    ]
    return new, outcomes, short


def stock_arrived(db: Database, now: datetime) -> None:
    """Stock came in somewhere: backordered orders are tried again by the worker now rather
    than at their next retry. Each retry first checks, in one query, whether any location
    holds its skus at all, so waking them all costs little; the alternative, matching the
    changed skus to backordered lines, would cost every snapshot a join over its change log."""
    with db.write() as uow:
        if jobs_repo.hasten(uow.conn, BACKORDER_RETRY, now):
            uow.commit()


def set_safety_stock(
    db: Database, rows: Sequence[SafetyStockRow], now: datetime, *, row_offset: int = 0
) -> int:
    _check_bounds(rows, row_offset, lambda r: r.safety_stock, "safety_stock", low=0)
    latest = {(r.location, r.sku): r for r in rows}
    with db.write() as uow:
        _check_codes(uow.conn, rows, row_offset)
        repo.set_safety_stock(uow.conn, sorted(latest.values()))
        stock_changes.record(uow.conn, sorted(latest), changes.stamp(uow.conn), now)
        uow.commit()
    return len(latest)


def location_positions(
    db: Database, location: str, *, after: str | None, limit: int
) -> list[PositionRow]:
    with db.read() as conn:
        if not existing_codes(conn, locations, [location]):
            raise NotFound("location", location)
        return repo.positions_of_location(conn, location, after=after, limit=limit)


def sku_positions(db: Database, sku: str) -> list[PositionRow]:
    with db.read() as conn:
        if not existing_codes(conn, skus, [sku]):
            raise NotFound("sku", sku)
        return repo.positions_of_sku(conn, sku)


def _apply_movements(
    positions: dict[tuple[str, str], StockPosition], rows: Sequence[MovementRow]
) -> tuple[list[tuple[StockPosition, datetime]], Counter[MovementOutcome]]:
    """Each position after its new movements (in the order they happened), with the newest
    movement's time; and what became of each movement."""
    outcomes: Counter[MovementOutcome] = Counter()
    changed: list[tuple[StockPosition, datetime]] = []
    for key, movements in _by_position(rows).items():
        position = positions[key]
        for movement in movements:
            position, outcome = position.apply_movement(movement)
            outcomes[outcome] += 1
        changed.append((position, max(m.occurred_at for m in movements)))
    return changed, outcomes


def _by_position(rows: Sequence[MovementRow]) -> dict[tuple[str, str], list[Movement]]:
    """Movements per position, in the order they happened."""
    grouped: dict[tuple[str, str], list[Movement]] = {}
    for row in sorted(rows, key=lambda r: (r.location, r.sku, r.occurred_at, r.movement_id)):
        movement = Movement(row.movement_id, row.delta, row.reason, row.occurred_at)
        grouped.setdefault((row.location, row.sku), []).append(movement)
    return grouped


def _newest_per_position(rows: Sequence[SnapshotRow]) -> Iterable[SnapshotRow]:
    by_position = {(row.location, row.sku): row for row in rows}
    if len(by_position) == len(rows):
        return by_position.values()
    newest: dict[tuple[str, str], SnapshotRow] = {}
    for row in rows:
        kept = newest.get((row.location, row.sku))
        if kept is None or row.as_of > kept.as_of:
            newest[(row.location, row.sku)] = row
    return newest.values()


AnyRow = SnapshotRow | MovementRow | SafetyStockRow


def _check_bounds(
    rows: Sequence[AnyRow], offset: int, value: Callable[[Any], int], field: str, *, low: int
) -> None:
    """Quantities a shelf can hold; the API checks this too, the CLI and imports rely on it."""
    values = list(map(value, rows))
    if not values or (low <= min(values) and max(values) <= MAX_QUANTITY):
        return
    errors = [
        FieldError(
            f"rows[{offset + i}].{field}", f"must be within [{low}, {MAX_QUANTITY}]", "out_of_range"
        )
        for i, quantity in enumerate(values)
        if not low <= quantity <= MAX_QUANTITY
    ]
    if errors:
        raise InvalidInput(errors[:MAX_LISTED_ERRORS])


def _check_codes(conn: Connection, rows: Sequence[AnyRow], offset: int) -> None:
    wanted_locations = {r.location for r in rows}
    wanted_skus = {r.sku for r in rows}
    known_locations = existing_codes(conn, locations, wanted_locations)
    known_skus = existing_codes(conn, skus, wanted_skus)
    if known_locations == wanted_locations and known_skus == wanted_skus:
        return
    errors: list[FieldError] = []
    for index, row in enumerate(rows):
        if row.location not in known_locations:
            errors.append(
                FieldError(
                    f"rows[{offset + index}].location",
                    f"unknown location {row.location!r}",
                    "unknown_location",
                )
            )
        if row.sku not in known_skus:
            errors.append(
                FieldError(f"rows[{offset + index}].sku", f"unknown sku {row.sku!r}", "unknown_sku")
            )
        if len(errors) >= MAX_LISTED_ERRORS:
            break
    if errors:
        raise InvalidInput(errors)
