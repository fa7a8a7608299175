"""Parcels labelled at pack: their box or size, their weight, and the carrier service for them.

The service is chosen by the rule the cost model priced the plan with (domain/shipping_costs.py):
of the services of the delivery method's level, in the location's currency, that reach the
destination and take the parcel, the cheapest. A fulfilment's parcels all go with one service,
chosen for the heaviest of them (as the promise quotes a shipment of several parcels), so that
one carrier collects them all, in one pickup.

The pickup is booked `BOOKING_LEAD` before the carrier's collection (`departure_time`: the
first pickup weekday at or after the parcel was labelled, at the cut-off or at closing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from openoms.domain.carriers import CarrierService, ServiceLevel, check_carriage
from openoms.domain.catalog import Sku
from openoms.domain.network import Location
from openoms.domain.shipping import departure_time, packaging_weight_g

BOOKING_LEAD = timedelta(minutes=30)
"""How long before a carrier's collection its pickup is booked: carriers want it that early."""


@dataclass(frozen=True, slots=True)
class Box:
    """A box the stores keep: its outside size and its own weight (with filler and label)."""

    code: str
    length_mm: int
    width_mm: int
    height_mm: int
    tare_g: int


BOXES: Mapping[str, Box] = {
    box.code: box
    for box in (
        Box("S", 250, 180, 100, 120),
        Box("M", 350, 250, 150, 200),
        Box("L", 500, 350, 250, 350),
        Box("XL", 600, 400, 400, 600),
    )
}
"""The usual shipping boxes of a store (small to extra large)."""


@dataclass(frozen=True, slots=True)
class ParcelSize:
    """What the associate says of one parcel: a box, or a size; its weight, if weighed."""

    weight_g: int | None = None
    box: str | None = None
    length_mm: int | None = None
    width_mm: int | None = None
    height_mm: int | None = None


@dataclass(frozen=True, slots=True)
class PackedParcel:
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    box: str | None


class BadParcel(ValueError):
    """`field` is relative to the parcel (`weight_g`, `box`, ...); `index` is its rank."""

    def __init__(self, index: int, field: str, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.index = index
        self.field = field
        self.code = code


class NoServiceCarries(ValueError):
    """`max_weight_g`: the most a service reaching the destination takes (None: none reaches)."""

    def __init__(self, level: ServiceLevel, message: str, max_weight_g: int | None) -> None:
        super().__init__(message)
        self.level = level
        self.max_weight_g = max_weight_g


def pack_parcels(
    sizes: Sequence[ParcelSize],
    contents: Iterable[tuple[Sku, int]],
    boxes: Mapping[str, Box] = BOXES,
) -> list[PackedParcel]:
    """Each parcel's box or size and weight. An unweighed single parcel weighs its contents
    and its box (or the usual packaging); with several parcels each must be weighed, since
    nobody told us which units went in which."""
    if not sizes:
        raise BadParcel(-1, "", "at least one parcel", "missing")
    contents_g = sum(sku.weight_g * units for sku, units in contents)
    packed = []
    for i, size in enumerate(sizes):
        box, sides = _shape(i, size, boxes)
        weight = size.weight_g
        if weight is None:
            if len(sizes) > 1:
                raise BadParcel(
                    i, "weight_g", "weigh each parcel when there are several", "missing"
                )
            weight = contents_g + (box.tare_g if box else packaging_weight_g(contents_g))
        if weight <= 0:
            raise BadParcel(i, "weight_g", "must be positive", "out_of_range")
        packed.append(PackedParcel(weight, *sides, box.code if box else None))
    return packed


def _shape(
    index: int, size: ParcelSize, boxes: Mapping[str, Box]
) -> tuple[Box | None, tuple[int, int, int]]:
    given = {"length_mm": size.length_mm, "width_mm": size.width_mm, "height_mm": size.height_mm}
    if size.box is not None:
        if any(side is not None for side in given.values()):
            raise BadParcel(index, "box", "a box, or a size: not both", "conflict")
        box = boxes.get(size.box)
        if box is None:
            known = ", ".join(boxes)
            raise BadParcel(index, "box", f"unknown box {size.box!r} ({known})", "unknown")
        return box, (box.length_mm, box.width_mm, box.height_mm)
    sides = []
    for name, side in given.items():
        if side is None:
            raise BadParcel(index, name, "give a box, or the three sides", "missing")
        if side <= 0:
            raise BadParcel(index, name, "must be positive", "out_of_range")
        sides.append(side)
    length, width, height = sides
    return None, (length, width, height)


def choose_service(
    services: Iterable[CarrierService],
    *,
    level: ServiceLevel,
    currency: str,
    weight_g: int,
    distance_km: float,
) -> CarrierService:
    """The cheapest service of `level` that takes a parcel of `weight_g` that far (ties: the
    code that sorts first), as the cost model chose for the plan."""
    of_level = [s for s in services if s.level == level and s.currency == currency]
    carried = [s for s in of_level if check_carriage(s, weight_g, distance_km) is None]
    if carried:
        return min(carried, key=lambda s: (s.rate(weight_g, distance_km), s.code))
    reaching = [s for s in of_level if distance_km <= s.reach_km]
    if not reaching:
        message = f"no {level.value} carrier service reaches {distance_km:.0f} km in {currency}"
        raise NoServiceCarries(level, message, None)
    largest = max(s.max_weight_g for s in reaching)
    message = f"heavier than any {level.value} carrier service takes (up to {largest} g)"
    raise NoServiceCarries(level, message, largest)


def booking_time(location: Location, service: CarrierService, labelled_at: datetime) -> datetime:
    """When to book the pickup of a parcel labelled at `labelled_at`: `BOOKING_LEAD` before the
    carrier's first collection after it (a time already past means: book now)."""
    return departure_time(location, service, labelled_at) - BOOKING_LEAD
