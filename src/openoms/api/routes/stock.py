"""/v1/stock: the feeds; /v1/locations/{code}/stock and /v1/skus/{code}/stock: positions."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from openoms.api.auth import Admin, Reader, StockWriter, check_location_scope
from openoms.api.deps import (
    CodePath,
    CursorQuery,
    DatabaseDep,
    LimitQuery,
    NowDep,
    SourcingViewDep,
)
from openoms.api.routes.orders import decision_record
from openoms.api.schemas.common import Page
from openoms.api.schemas.stock import (
    MovementBatch,
    MovementReportBody,
    PositionBody,
    SafetyStockBatch,
    SnapshotBatch,
    SnapshotReportBody,
)
from openoms.db.repositories.stock import MovementRow, PositionRow, SafetyStockRow, SnapshotRow
from openoms.domain.stock import atp
from openoms.services import stock
from openoms.services.keys import Principal

router = APIRouter(tags=["stock"])


def _check_rows_scope(caller: Principal, locations: Sequence[str]) -> None:
    for index, location in enumerate(locations):
        check_location_scope(caller, location, field=f"rows[{index}].location")


@router.post("/v1/stock/snapshots")
def post_snapshots(
    body: SnapshotBatch, caller: StockWriter, db: DatabaseDep, view: SourcingViewDep, now: NowDep
) -> SnapshotReportBody:
    """Absolute on_hand counts. Idempotent: a snapshot not newer than the applied one is
    ignored and counted as `stale`. A count below what is reserved at a position re-routes
    the newest holds there (stock drift), recorded in those orders' decisions."""
    _check_rows_scope(caller, [r.location for r in body.rows])
    rows = [SnapshotRow(r.location, r.sku, r.on_hand, r.as_of) for r in body.rows]
    report = stock.ingest_snapshots(db, rows, now, view=view, record=decision_record)
    return SnapshotReportBody(
        received=report.received, applied=report.applied, changed=report.changed, stale=report.stale
    )


@router.post("/v1/stock/movements")
def post_movements(
    body: MovementBatch, caller: StockWriter, db: DatabaseDep, view: SourcingViewDep, now: NowDep
) -> MovementReportBody:
    """Signed deltas. Idempotent: a movement id seen before changes nothing. A shelf taken
    below what is reserved there re-routes the newest holds, as a snapshot would."""
    _check_rows_scope(caller, [r.location for r in body.rows])
    rows = [
        MovementRow(r.movement_id, r.location, r.sku, r.delta, r.reason, r.occurred_at)
        for r in body.rows
    ]
    report = stock.record_movements(db, rows, now, view=view, record=decision_record)
    return MovementReportBody(
        received=report.received,
        applied=report.applied,
        duplicates=report.duplicates,
        before_snapshot=report.before_snapshot,
        clamped=report.clamped,
    )


@router.put("/v1/stock/safety-stock")
def put_safety_stock(
    body: SafetyStockBatch, _: Admin, db: DatabaseDep, now: NowDep
) -> dict[str, int]:
    rows = [SafetyStockRow(r.location, r.sku, r.safety_stock) for r in body.rows]
    return {"updated": stock.set_safety_stock(db, rows, now)}


def _position(row: PositionRow) -> PositionBody:
    return PositionBody(
        location=row.location,
        sku=row.sku,
        on_hand=row.on_hand,
        reserved=row.reserved,
        safety_stock=row.safety_stock,
        atp=atp(row.on_hand, row.reserved, row.safety_stock),
        snapshot_as_of=row.snapshot_as_of,
        snapshot_delta=row.snapshot_delta,
    )


@router.get("/v1/locations/{code}/stock")
def location_stock(
    code: CodePath,
    caller: Reader,
    db: DatabaseDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 100,
) -> Page[PositionBody]:
    """A location's positions. A store key reads its own location only."""
    check_location_scope(caller, code)
    rows = stock.location_positions(db, code, after=cursor, limit=limit)
    return Page.of([_position(r) for r in rows], limit, lambda body: body.sku)


@router.get("/v1/skus/{code}/stock")
def sku_stock(code: CodePath, _: Admin, db: DatabaseDep) -> list[PositionBody]:
    """A sku's positions at every location (operations' view)."""
    return [_position(r) for r in stock.sku_positions(db, code)]
