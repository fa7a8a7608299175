"""The stock feeds and positions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from openoms.api.schemas.common import MAX_BULK_ROWS, PRINTABLE, Body, Code, Delta, Quantity


class SnapshotRowBody(Body):
    location: Code
    sku: Code
    on_hand: Quantity
    as_of: AwareDatetime


class SnapshotBatch(Body):
    rows: list[SnapshotRowBody] = Field(min_length=1, max_length=MAX_BULK_ROWS)


class SnapshotReportBody(BaseModel):
    received: int
    applied: int
    changed: int = Field(description="Applied with another on_hand than before.")
    stale: int = Field(description="Ignored: older than the snapshot already applied.")


class MovementRowBody(Body):
    movement_id: Code
    location: Code
    sku: Code
    delta: Delta
    reason: Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=PRINTABLE)]
    occurred_at: AwareDatetime


class MovementBatch(Body):
    rows: list[MovementRowBody] = Field(min_length=1, max_length=MAX_BULK_ROWS)


class MovementReportBody(BaseModel):
    received: int
    applied: int
    duplicates: int
    before_snapshot: int
    clamped: int


class SafetyStockRowBody(Body):
    location: Code
    sku: Code
    safety_stock: Quantity


class SafetyStockBatch(Body):
    rows: list[SafetyStockRowBody] = Field(min_length=1, max_length=MAX_BULK_ROWS)


class PositionBody(BaseModel):
    location: str
    sku: str
    on_hand: int
    reserved: int
    safety_stock: int
    atp: int
    snapshot_as_of: datetime | None
    snapshot_delta: int = Field(description="How much the last applied snapshot moved on_hand.")
