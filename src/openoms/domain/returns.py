"""Returns: a request to send back units of an order, received at a location, inspected, refunded.

A return is asked for units of a delivered (or collected) order's lines, whatever the channel
that sold it. What may be returned of a line is what reached the customer (its `delivered` and
`collected` buckets) less the units of the returns asked for and not yet received; received
returns have already left those buckets for `returned`. Past the retailer's time limit after
the delivery, nothing may be returned.

At the receiving location each unit is inspected: `resell` puts it back on that location's
shelf, `second_hand` sends it to the second-hand hub as a graded item, `damaged` writes it off.
The refund is what was paid per unit of the units returned, less a return shipping fee for a
return by carrier (never below zero).

Exceptions, carrying data:

    ReturnRefused                 reason (a stable code)
    ├── OrderNotDelivered         status
    ├── ReturnWindowClosed        deadline
    ├── TooManyUnits              line_id, asked, returnable
    └── UnknownLine               line_id
    InspectionMismatch            line_id, expected, inspected
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from openoms.domain.network import Capability, GeoPoint, Location, LocationKind, great_circle_km

DEFAULT_RETURN_DAYS = 30
DEFAULT_CARRIER_FEE = 495
"""Minor units, in the order's currency."""


class ReturnMethod(StrEnum):
    IN_STORE = "in_store"
    CARRIER = "carrier"


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    RECEIVED = "received"


class ReturnReason(StrEnum):
    DOES_NOT_FIT = "does_not_fit"
    NOT_AS_DESCRIBED = "not_as_described"
    DAMAGED = "damaged"
    WRONG_ITEM = "wrong_item"
    CHANGED_MIND = "changed_mind"
    OTHER = "other"


class Inspection(StrEnum):
    RESELL = "resell"
    SECOND_HAND = "second_hand"
    DAMAGED = "damaged"


class Grade(StrEnum):
    """How a unit sent to the second-hand hub is graded."""

    LIKE_NEW = "like_new"
    GOOD = "good"
    FAIR = "fair"


@dataclass(frozen=True, slots=True)
class ReturnPolicy:
    days: int = DEFAULT_RETURN_DAYS
    """Returns are accepted until this many days after the order's last delivery."""
    carrier_fee: int = DEFAULT_CARRIER_FEE
    """Taken off the refund of a return by carrier."""

    def __post_init__(self) -> None:
        if self.days < 0 or self.carrier_fee < 0:
            raise ValueError("return days and fee must not be negative")

    def deadline(self, delivered_at: datetime) -> datetime:
        return delivered_at + timedelta(days=self.days)


class ReturnRefused(Exception):
    reason = "refused"


class OrderNotDelivered(ReturnRefused):
    reason = "order_not_delivered"

    def __init__(self, status: str) -> None:
        super().__init__(f"the order is {status}: only a delivered or collected order is returned")
        self.status = status


class ReturnWindowClosed(ReturnRefused):
    reason = "return_window_closed"

    def __init__(self, deadline: datetime) -> None:
        super().__init__(f"returns were accepted until {deadline.isoformat()}")
        self.deadline = deadline


class TooManyUnits(ReturnRefused):
    reason = "too_many_units"

    def __init__(self, line_id: str, asked: int, returnable: int) -> None:
        super().__init__(
            f"line {line_id}: {asked} units asked, {returnable} may be returned"
            " (delivered, less those returned or being returned)"
        )
        self.line_id = line_id
        self.asked = asked
        self.returnable = returnable


class UnknownLine(ReturnRefused):
    reason = "unknown_line"

    def __init__(self, line_id: str) -> None:
        super().__init__(f"the order has no line {line_id!r}")
        self.line_id = line_id


@dataclass(frozen=True, slots=True)
class ReturnableLine:
    line_id: str
    sku: str
    unit_price: int
    currency: str
    received: int
    """Units that reached the customer and are still theirs: delivered and collected buckets."""
    pending: int
    """Units of returns asked for and not received yet."""

    @property
    def returnable(self) -> int:
        return max(0, self.received - self.pending)


def check_return(
    *,
    status: str,
    finished: bool,
    delivered_at: datetime | None,
    lines: Mapping[str, ReturnableLine],
    asked: Mapping[str, int],
    policy: ReturnPolicy,
    now: datetime,
) -> None:
    """Refuse a return of `asked` (line id -> units) of an order in `status` (`finished`:
    every live part of it delivered or collected, the last at `delivered_at`)."""
    if not finished or delivered_at is None:
        raise OrderNotDelivered(status)
    deadline = policy.deadline(delivered_at)
    if now > deadline:
        raise ReturnWindowClosed(deadline)
    for line_id, units in asked.items():
        line = lines.get(line_id)
        if line is None:
            raise UnknownLine(line_id)
        if units > line.returnable:
            raise TooManyUnits(line_id, units, line.returnable)


@dataclass(frozen=True, slots=True)
class Refund:
    amount: int
    currency: str
    gross: int
    """What was paid for the units returned."""
    fee: int


def refund(
    lines: Sequence[tuple[int, int]], currency: str, method: ReturnMethod, policy: ReturnPolicy
) -> Refund:
    """`lines`: (units, unit_price) of each line returned."""
    gross = sum(units * price for units, price in lines)
    fee = min(gross, policy.carrier_fee) if method is ReturnMethod.CARRIER else 0
    return Refund(gross - fee, currency, gross, fee)


@dataclass(frozen=True, slots=True)
class InspectedUnits:
    line_id: str
    outcome: Inspection
    units: int
    grade: Grade | None = None

    def __post_init__(self) -> None:
        if self.units <= 0:
            raise ValueError(f"inspected units must be positive, got {self.units}")
        if (self.outcome is Inspection.SECOND_HAND) != (self.grade is not None):
            raise ValueError("a grade is given for second_hand units, and only for them")


class InspectionMismatch(Exception):
    def __init__(self, line_id: str, expected: int, inspected: int) -> None:
        super().__init__(f"line {line_id}: {expected} units returned, {inspected} inspected")
        self.line_id = line_id
        self.expected = expected
        self.inspected = inspected


def check_inspection(returned: Mapping[str, int], items: Sequence[InspectedUnits]) -> None:
    """Every unit of the return is inspected once: per line, the units inspected are the units
    returned."""
    inspected: dict[str, int] = {}
    for item in items:
        inspected[item.line_id] = inspected.get(item.line_id, 0) + item.units
    for line_id in sorted(set(returned) | set(inspected)):
        expected, got = returned.get(line_id, 0), inspected.get(line_id, 0)
        if expected != got:
            raise InspectionMismatch(line_id, expected, got)


def carrier_return_destination(
    locations: Sequence[Location], near: GeoPoint | None
) -> Location | None:
    """Where a return sent by carrier goes: the nearest active warehouse that takes returns,
    else the nearest active warehouse (nearest to the order's destination when it has one,
    else the first by code). None when the network has no active warehouse."""
    warehouses = sorted(
        (loc for loc in locations if loc.kind is LocationKind.WAREHOUSE and loc.active),
        key=lambda loc: loc.code,
    )
    taking = [loc for loc in warehouses if Capability.RETURNS in loc.capabilities] or warehouses
    if not taking:
        return None
    if near is None:
        return taking[0]
    return min(taking, key=lambda loc: (great_circle_km(near, loc.point), loc.code))
