"""The words of sourcing: a basket, the candidates that may serve it, and the plans that do.

A plan is a set of shipments, one per location; each has the breakdown that the cost model gives
for its units (money, days, carbon, parcels) and the units it takes from a store's last shelf
(store protection). The objective weighs those figures into one number so plans can be ranked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple, Protocol


class InvalidProblem(ValueError):
    """A basket, candidate list, policy or objective that no search should start on."""


@dataclass(frozen=True, slots=True)
class Line:
    line_id: str
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Candidate:
    """A location that may serve, with its ATP per sku once the profile's filters are applied.

    `protect_below` is the stock a location would rather keep (a store's last units on the shelf):
    every unit taken that leaves fewer than that many units of its sku counts as protected.
    """

    location: str
    stock: Mapping[str, int]
    protect_below: int = 0


class Breakdown(NamedTuple):
    """What one shipment costs: money in minor units, days to arrive, grams CO2e, parcels.

    A NamedTuple, not a frozen dataclass: the cost model makes hundreds per basket."""

    cost: int
    days: int
    carbon_g: int
    parcels: int


class CostModel(Protocol):
    """What sending `units` (per sku) from `location` costs, as one or more parcels.

    The exact search relies on one property of it, and only that one: adding units to a shipment
    never lowers any figure of its breakdown. Per-unit costs, parcels by capacity and rate cards
    by weight band all have it; a model without it makes `exact` a claim the search cannot keep.
    It must answer for any units within a candidate's stock: a location that cannot ship to the
    destination is a filter's business, and is no candidate.
    """

    def __call__(self, location: str, units: Mapping[str, int], /) -> Breakdown: ...


@dataclass(frozen=True, slots=True)
class Objective:
    """Weights per minor unit, per day, per gram CO2e, per parcel and per protected unit.

    Days count once per plan, for the slowest shipment: the customer has the order when its last
    parcel arrives, so a second parcel that arrives sooner adds no delay.
    """

    cost: float = 1.0
    days: float = 0.0
    carbon: float = 0.0
    parcels: float = 0.0
    protection: float = 0.0

    def value(self, cost: int, days: int, carbon_g: int, parcels: int, protected: int) -> float:
        """fsum rounds once, so equal figures give equal objectives whatever the order of terms."""
        return math.fsum(
            (
                self.cost * cost,
                self.days * days,
                self.carbon * carbon_g,
                self.parcels * parcels,
                self.protection * protected,
            )
        )


class SplitMode(StrEnum):
    NEVER = "never"
    """One location serves the whole basket."""
    PER_LINE = "per_line"
    """Each line comes whole from one location; lines may come from different locations."""
    PER_UNIT = "per_unit"
    """The units of one line may come from several locations."""


@dataclass(frozen=True, slots=True)
class SplitPolicy:
    mode: SplitMode = SplitMode.PER_UNIT
    max_locations: int | None = None
    max_parcels: int | None = None


@dataclass(frozen=True, slots=True)
class Allocation:
    line_id: str
    location: str
    units: int


@dataclass(frozen=True, slots=True)
class Shipment:
    location: str
    allocations: tuple[Allocation, ...]
    breakdown: Breakdown
    protected_units: int


@dataclass(frozen=True, slots=True)
class PlanBreakdown:
    """The plan's figures: sums over shipments, except days, which are the slowest shipment's."""

    cost: int
    days: int
    carbon_g: int
    parcels: int
    protected_units: int
    objective: float


@dataclass(frozen=True, slots=True)
class Plan:
    shipments: tuple[Shipment, ...]
    breakdown: PlanBreakdown

    @property
    def objective(self) -> float:
        return self.breakdown.objective

    @property
    def locations(self) -> tuple[str, ...]:
        return tuple(shipment.location for shipment in self.shipments)

    @property
    def allocations(self) -> tuple[Allocation, ...]:
        return tuple(a for shipment in self.shipments for a in shipment.allocations)

    def rank(self) -> tuple[float, tuple[str, ...], tuple[tuple[str, str, int], ...]]:
        """Equal objectives go to the plan whose location codes sort first, never to input order."""
        units = tuple(sorted((a.location, a.line_id, a.units) for a in self.allocations))
        return self.objective, self.locations, units


class ExclusionReason(StrEnum):
    NO_STOCK = "no_stock"
    """No unit of any line of the basket."""
    NO_WHOLE_LINE = "no_whole_line"
    """Some units, but of no line whole, when lines may not split."""
    NOT_THE_WHOLE_BASKET = "not_the_whole_basket"
    """Not every unit of the basket, when one location must serve it all."""


@dataclass(frozen=True, slots=True)
class Excluded:
    location: str
    reason: ExclusionReason


@dataclass(frozen=True, slots=True)
class Shortfall:
    line_id: str
    units: int


@dataclass(frozen=True, slots=True)
class Decision:
    """The decision record: what was chosen, what came close, what could not take part, and why.

    `plan` is None when no plan serves the whole basket within the split policy. `shortfall` then
    names the lines whose units exceed the stock of all candidates together; when it is empty,
    the split policy (or, if not `exact`, the time budget) is what stood in the way. Runner-ups
    are the best plans over other location sets that the search evaluated: a plan missing from
    them was proven worse than the chosen one, not ranked.
    """

    plan: Plan | None
    runners_up: tuple[Plan, ...]
    exact: bool
    nodes: int
    elapsed_ms: float
    excluded: tuple[Excluded, ...]
    shortfall: tuple[Shortfall, ...] = field(default=())


class Rule(StrEnum):
    UNKNOWN_LINE = "unknown_line"
    NOT_A_CANDIDATE = "not_a_candidate"
    QUANTITY = "quantity"
    STOCK = "stock"
    SPLIT_NEVER = "split_never"
    SPLIT_PER_LINE = "split_per_line"
    MAX_LOCATIONS = "max_locations"
    MAX_PARCELS = "max_parcels"


@dataclass(frozen=True, slots=True)
class Violation:
    rule: Rule
    subject: str
    detail: str


@dataclass(frozen=True, slots=True)
class Scored:
    plan: Plan
    violations: tuple[Violation, ...]

    @property
    def valid(self) -> bool:
        return not self.violations
