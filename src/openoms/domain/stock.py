"""Stock positions and the rules of the two feeds.

A position is (sku, location). Its `on_hand` comes from the feeds:

- a snapshot gives the absolute on_hand counted at `as_of`. Snapshots apply in `as_of` order: one
  older than (or as old as) the snapshot already applied is ignored and counted, never applied;
- a movement is a signed delta that happened at `occurred_at`, identified by the sender's id so a
  replay changes nothing. A movement that happened before the applied snapshot's `as_of` is
  already counted in it and leaves on_hand alone; one that happened after is netted on top of
  the snapshot, and is netted again on top of any later snapshot older than itself.

on_hand never goes below zero: a feed that says otherwise is clamped (and the clamp reported),
because negative shelves do not exist and ATP must never be negative.

The database applies these same rules in bulk SQL (db/stock_sql.py); a property test holds the
two implementations to the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

MAX_QUANTITY = 1_000_000_000
"""Far above any real shelf; a bigger figure is a feed error, not stock."""


class SnapshotOutcome(StrEnum):
    APPLIED = "applied"
    STALE = "stale"


class MovementOutcome(StrEnum):
    APPLIED = "applied"
    CLAMPED = "clamped"
    BEFORE_SNAPSHOT = "before_snapshot"
    DUPLICATE = "duplicate"


class InsufficientStock(Exception):
    """A reservation that does not fit ATP; carries what was asked and what was there."""

    def __init__(self, sku: str, location: str, requested: int, atp: int) -> None:
        super().__init__(f"{requested} x {sku} at {location}: only {atp} available to promise")
        self.sku = sku
        self.location = location
        self.requested = requested
        self.atp = atp


@dataclass(frozen=True, slots=True)
class Movement:
    movement_id: str
    delta: int
    reason: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class StockPosition:
    sku: str
    location: str
    on_hand: int = 0
    reserved: int = 0
    safety_stock: int = 0
    snapshot_as_of: datetime | None = None
    movements: tuple[Movement, ...] = field(default=(), repr=False)

    @property
    def atp(self) -> int:
        return atp(self.on_hand, self.reserved, self.safety_stock)

    @property
    def shortfall(self) -> int:
        """Units reserved beyond what is on the shelf: allocations that must be re-routed."""
        return max(0, self.reserved - self.on_hand)

    def apply_snapshot(
        self, quantity: int, as_of: datetime
    ) -> tuple[StockPosition, SnapshotOutcome]:
        if self.snapshot_as_of is not None and as_of <= self.snapshot_as_of:
            return self, SnapshotOutcome.STALE
        later = sum(m.delta for m in self.movements if m.occurred_at > as_of)
        on_hand = clamp(quantity + later)
        return replace(self, on_hand=on_hand, snapshot_as_of=as_of), SnapshotOutcome.APPLIED

    def apply_movement(self, movement: Movement) -> tuple[StockPosition, MovementOutcome]:
        if any(m.movement_id == movement.movement_id for m in self.movements):
            return self, MovementOutcome.DUPLICATE
        movements = (*self.movements, movement)
        if self.snapshot_as_of is not None and movement.occurred_at <= self.snapshot_as_of:
            return replace(self, movements=movements), MovementOutcome.BEFORE_SNAPSHOT
        raw = self.on_hand + movement.delta
        outcome = MovementOutcome.APPLIED if clamp(raw) == raw else MovementOutcome.CLAMPED
        return replace(self, on_hand=clamp(raw), movements=movements), outcome

    def reserve(self, quantity: int) -> StockPosition:
        if quantity <= 0:
            raise ValueError("a reservation is of at least one unit")
        if quantity > self.atp:
            raise InsufficientStock(self.sku, self.location, quantity, self.atp)
        return replace(self, reserved=self.reserved + quantity)

    def release(self, quantity: int) -> StockPosition:
        if not 0 < quantity <= self.reserved:
            raise ValueError(f"cannot release {quantity} of {self.reserved} reserved")
        return replace(self, reserved=self.reserved - quantity)


def atp(on_hand: int, reserved: int, safety_stock: int) -> int:
    """Available to promise at one location."""
    return max(0, on_hand - reserved - safety_stock)


def clamp(quantity: int) -> int:
    return min(MAX_QUANTITY, max(0, quantity))
