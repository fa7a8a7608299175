"""An order's status, derived from its fulfilments, and where each unit of an order line stands.

The order's status is never stored as a decision of its own: it is read off its parts, so it
cannot disagree with them. The parts are its live fulfilments (a rejected or withdrawn one has
given its units back to `unallocated`, a cancelled one to `cancelled`: both are set aside) and,
when some units wait for stock, the backorder. Precedence, first match wins:

1. no live fulfilment and nothing unallocated: `cancelled` (every unit was cancelled);
2. the order is as far as its least advanced part, on the ladder
   pending (backorder) < allocated (offered, claimed) < in_progress (picking, packed,
   in_transfer) < shipped | ready_for_pickup < delivered | collected;
3. below shipped, but some units already left (shipped, delivered or collected):
   `partially_shipped`;
4. on the shipped rung, `ready_for_pickup` wins over `shipped` when a part waits at the store:
   the customer has something to do;
5. on the last rung: `delivered` or `collected` when all parts agree, else `completed`.

Conservation (invariant 3 of DESIGN.md): every unit of an order line is in exactly one bucket
(unallocated, allocated at a location, shipped, delivered, collected, cancelled, returned) and
the buckets sum to the ordered quantity. `move` is the only way units change bucket; it keeps
the sum by construction and refuses what would go negative or flow backwards (a delivered unit
never becomes unallocated again).

Exceptions, carrying data:

    ConservationBroken         ordered, buckets, violations
    MoveRefused                source, target, units
    ├── NotEnoughUnits         available
    └── IllegalMove            (no such flow between the two buckets)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeAlias

from openoms.domain.fulfilments import FulfilmentStatus


class OrderStatus(StrEnum):
    PENDING = "pending"
    ALLOCATED = "allocated"
    IN_PROGRESS = "in_progress"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    READY_FOR_PICKUP = "ready_for_pickup"
    DELIVERED = "delivered"
    COLLECTED = "collected"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


_F = FulfilmentStatus

_SET_ASIDE = frozenset({_F.REJECTED, _F.WITHDRAWN, _F.CANCELLED})
_LEFT = frozenset({_F.SHIPPED, _F.DELIVERED, _F.COLLECTED})

_PENDING, _ALLOCATED, _IN_PROGRESS, _ON_THE_WAY, _DONE = range(5)
_RUNG: Mapping[FulfilmentStatus, int] = MappingProxyType(
    {
        _F.OFFERED: _ALLOCATED,
        _F.CLAIMED: _ALLOCATED,
        _F.PICKING: _IN_PROGRESS,
        _F.PACKED: _IN_PROGRESS,
        _F.IN_TRANSFER: _IN_PROGRESS,
        _F.SHIPPED: _ON_THE_WAY,
        _F.READY_FOR_PICKUP: _ON_THE_WAY,
        _F.DELIVERED: _DONE,
        _F.COLLECTED: _DONE,
    }
)
_BELOW_SHIPPED = (OrderStatus.PENDING, OrderStatus.ALLOCATED, OrderStatus.IN_PROGRESS)
_FINISHED: Mapping[frozenset[FulfilmentStatus], OrderStatus] = MappingProxyType(
    {
        frozenset({_F.DELIVERED}): OrderStatus.DELIVERED,
        frozenset({_F.COLLECTED}): OrderStatus.COLLECTED,
    }
)


def order_status(
    fulfilment_statuses: Iterable[FulfilmentStatus], unallocated_units: int
) -> OrderStatus:
    """The order's status from its fulfilments' and its backorder (units in `unallocated`)."""
    if unallocated_units < 0:
        raise ValueError(f"unallocated_units must not be negative, got {unallocated_units}")
    live = [status for status in fulfilment_statuses if status not in _SET_ASIDE]
    if not live and unallocated_units == 0:
        return OrderStatus.CANCELLED
    rungs = [_RUNG[status] for status in live]
    if unallocated_units:
        rungs.append(_PENDING)
    lowest = min(rungs)
    if lowest < _ON_THE_WAY:
        left = any(status in _LEFT for status in live)
        return OrderStatus.PARTIALLY_SHIPPED if left else _BELOW_SHIPPED[lowest]
    if lowest == _ON_THE_WAY:
        waiting = _F.READY_FOR_PICKUP in live
        return OrderStatus.READY_FOR_PICKUP if waiting else OrderStatus.SHIPPED
    return _FINISHED.get(frozenset(live), OrderStatus.COMPLETED)


class Bucket(StrEnum):
    """A kind of bucket; `allocated` is one bucket per location, addressed as `AllocatedAt`."""

    UNALLOCATED = "unallocated"
    ALLOCATED = "allocated"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COLLECTED = "collected"
    CANCELLED = "cancelled"
    RETURNED = "returned"


@dataclass(frozen=True, slots=True)
class AllocatedAt:
    location: str

    def __str__(self) -> str:
        return f"allocated at {self.location}"


Place: TypeAlias = Bucket | AllocatedAt
"""One bucket: a `Bucket` other than `ALLOCATED`, or `AllocatedAt(location)`."""

_B = Bucket

FLOWS: Mapping[Bucket, frozenset[Bucket]] = MappingProxyType(
    {
        _B.UNALLOCATED: frozenset({_B.ALLOCATED, _B.CANCELLED}),
        # Back to unallocated on reject, withdraw or a short pick; to another location when a
        # claim moves the hold to the claiming store; collected straight from the pickup store.
        _B.ALLOCATED: frozenset(
            {_B.UNALLOCATED, _B.ALLOCATED, _B.SHIPPED, _B.COLLECTED, _B.CANCELLED}
        ),
        _B.SHIPPED: frozenset({_B.DELIVERED, _B.RETURNED}),
        _B.DELIVERED: frozenset({_B.RETURNED}),
        _B.COLLECTED: frozenset({_B.RETURNED}),
        _B.CANCELLED: frozenset(),
        _B.RETURNED: frozenset(),
    }
)
"""Which bucket's units may move to which: units go forward only."""

_BUCKET_OF_STATUS: Mapping[FulfilmentStatus, Bucket] = MappingProxyType(
    {
        _F.OFFERED: _B.ALLOCATED,
        _F.CLAIMED: _B.ALLOCATED,
        _F.PICKING: _B.ALLOCATED,
        _F.PACKED: _B.ALLOCATED,
        _F.IN_TRANSFER: _B.ALLOCATED,
        _F.READY_FOR_PICKUP: _B.ALLOCATED,
        _F.SHIPPED: _B.SHIPPED,
        _F.DELIVERED: _B.DELIVERED,
        _F.COLLECTED: _B.COLLECTED,
        _F.REJECTED: _B.UNALLOCATED,
        _F.WITHDRAWN: _B.UNALLOCATED,
        _F.CANCELLED: _B.CANCELLED,
    }
)


def place_for(status: FulfilmentStatus, location: str) -> Place:
    """Where the units of a fulfilment at `location` stand, seen from the order line.

    A transition of the fulfilment moves its units from `place_for(before)` to
    `place_for(after)` (nothing to move when the two are equal). In transfer, the units still
    belong to the fulfilment's location: the customer does not have them yet.
    """
    bucket = _BUCKET_OF_STATUS[status]
    return AllocatedAt(location) if bucket is _B.ALLOCATED else bucket


def _kind(place: Place) -> Bucket:
    if isinstance(place, AllocatedAt):
        return _B.ALLOCATED
    if place is _B.ALLOCATED:
        raise ValueError("say at which location: AllocatedAt(location), not Bucket.ALLOCATED")
    return place


def _without_zeros(allocated: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType({location: units for location, units in allocated.items() if units})


@dataclass(frozen=True, slots=True)
class Buckets:
    """Where the units of one order line stand. Immutable: `move` returns new buckets."""

    unallocated: int = 0
    allocated: Mapping[str, int] = field(default_factory=dict)
    shipped: int = 0
    delivered: int = 0
    collected: int = 0
    cancelled: int = 0
    returned: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "allocated", _without_zeros(self.allocated))

    @classmethod
    def for_ordered(cls, quantity: int) -> Buckets:
        """A new order line: every unit waits to be allocated."""
        return cls(unallocated=quantity)

    @property
    def total(self) -> int:
        return (
            self.unallocated
            + sum(self.allocated.values())
            + self.shipped
            + self.delivered
            + self.collected
            + self.cancelled
            + self.returned
        )

    def units(self, place: Place) -> int:
        if isinstance(place, AllocatedAt):
            return self.allocated.get(place.location, 0)
        return int(getattr(self, str(_kind(place))))

    def _with(self, place: Place, units: int) -> Buckets:
        if isinstance(place, AllocatedAt):
            return replace(self, allocated={**self.allocated, place.location: units})
        changes: dict[str, Any] = {str(place): units}
        return replace(self, **changes)


class ConservationBroken(Exception):
    def __init__(self, ordered: int, buckets: Buckets, violations: tuple[str, ...]) -> None:
        super().__init__(f"order line of {ordered} units: " + "; ".join(violations))
        self.ordered = ordered
        self.buckets = buckets
        self.violations = violations


class MoveRefused(Exception):
    """A move of units between buckets that would break conservation or go backwards."""

    def __init__(self, source: Place, target: Place, units: int, message: str) -> None:
        super().__init__(f"cannot move {units} units from {source} to {target}: {message}")
        self.source = source
        self.target = target
        self.units = units


class NotEnoughUnits(MoveRefused):
    def __init__(self, source: Place, target: Place, units: int, available: int) -> None:
        super().__init__(source, target, units, f"only {available} there")
        self.available = available


class IllegalMove(MoveRefused):
    def __init__(self, source: Place, target: Place, units: int) -> None:
        allowed = ", ".join(sorted(FLOWS[_kind(source)])) or "nowhere (it is final)"
        super().__init__(source, target, units, f"units {source} may go to {allowed}")


def move(buckets: Buckets, source: Place, target: Place, units: int) -> Buckets:
    """Move units from one bucket to another; the total never changes."""
    if units <= 0:
        raise ValueError(f"units to move must be positive, got {units}")
    if source == target or _kind(target) not in FLOWS[_kind(source)]:
        raise IllegalMove(source, target, units)
    available = buckets.units(source)
    if available < units:
        raise NotEnoughUnits(source, target, units, available)
    moved = buckets._with(source, available - units)
    return moved._with(target, moved.units(target) + units)


def check_conservation(ordered: int, buckets: Buckets) -> tuple[str, ...]:
    """What breaks invariant 3 for this order line; empty when it holds."""
    violations = []
    if ordered <= 0:
        violations.append(f"ordered quantity must be positive, got {ordered}")
    for bucket in Bucket:
        if bucket is not _B.ALLOCATED and buckets.units(bucket) < 0:
            violations.append(f"{bucket} is negative: {buckets.units(bucket)}")
    for location, units in sorted(buckets.allocated.items()):
        if units < 0:
            violations.append(f"allocated at {location} is negative: {units}")
    if buckets.total != ordered:
        violations.append(f"buckets sum to {buckets.total}, not to the {ordered} ordered")
    return tuple(violations)


def ensure_conserved(ordered: int, buckets: Buckets) -> None:
    violations = check_conservation(ordered, buckets)
    if violations:
        raise ConservationBroken(ordered, buckets, violations)
