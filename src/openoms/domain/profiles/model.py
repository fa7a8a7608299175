"""The words of a sourcing profile: rules, their filters, objective, split and offer policies.

A profile is data a retailer writes (JSON over the API, files): these classes hold it once it
has passed `parse_profile`, which is where every bound is checked, so that one reading of the
data names every mistake at once instead of the first constructor that trips on one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from enum import StrEnum

from openoms.domain.network import WEEKDAYS, Capability, Location, LocationKind
from openoms.domain.sourcing import Objective, SplitMode, SplitPolicy


class DeliveryMethod(StrEnum):
    HOME_STANDARD = "home_standard"
    HOME_EXPRESS = "home_express"
    CLICK_COLLECT = "click_collect"
    EXPRESS_COLLECT = "express_collect"


@dataclass(frozen=True, slots=True)
class Filters:
    """Who may serve. Every field left at its default admits every location.

    `tags_in`: the location must carry every one of them. `max_distance_km` is measured from the
    destination, which for click & collect is the pickup store. `min_stock_kept` applies to stores
    only: units a shop keeps for walk-in customers, so only ATP above it may be taken.
    `carrier_reachable` asks one of the services (all given, or those in `carrier_services`) to
    take the parcel. `promise_tolerance_days` (None: no check) admits a location whose delivery
    date is at most that many days after the promised date.
    """

    kinds: frozenset[LocationKind] = frozenset()
    capability: Capability | None = None
    tags_in: frozenset[str] = frozenset()
    tags_out: frozenset[str] = frozenset()
    max_distance_km: float | None = None
    min_capacity_left: int | None = None
    min_stock_kept: int = 0
    carrier_reachable: bool = False
    carrier_services: frozenset[str] = frozenset()
    promise_tolerance_days: int | None = None
    custom: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CustomTerm:
    """A retailer's criterion in the objective, with its weight (see `criteria`)."""

    criterion: str
    weight: float


@dataclass(frozen=True, slots=True)
class ObjectiveWeights:
    """The optimizer's weights, plus the shelf a store protects: its last `protect_below` units."""

    cost: float = 1.0
    days: float = 0.0
    carbon: float = 0.0
    parcels: float = 0.0
    protection: float = 0.0
    protect_below: int = 0
    custom: tuple[CustomTerm, ...] = ()

    def to_objective(self) -> Objective:
        return Objective(self.cost, self.days, self.carbon, self.parcels, self.protection)


class SplitChoice(StrEnum):
    NEVER = "never"
    MAX_PARCELS = "max_parcels"
    PER_LINE = "per_line"
    PER_UNIT = "per_unit"


@dataclass(frozen=True, slots=True)
class SplitRule:
    """`max_parcels` is read only with MAX_PARCELS: units may split, up to that many parcels."""

    choice: SplitChoice = SplitChoice.PER_UNIT
    max_parcels: int = 1

    def to_policy(self) -> SplitPolicy:
        if self.choice is SplitChoice.MAX_PARCELS:
            return SplitPolicy(SplitMode.PER_UNIT, max_parcels=self.max_parcels)
        return SplitPolicy(SplitMode(self.choice.value))


class OfferMode(StrEnum):
    AUTO_CLAIM = "auto_claim"
    """Taken at once, as a warehouse takes its orders."""
    BROADCAST = "broadcast"
    """Offered to the best `stores` stores for `minutes`; the first claim wins."""


@dataclass(frozen=True, slots=True)
class OfferPolicy:
    """Data only: the order lifecycle carries it out."""

    mode: OfferMode = OfferMode.AUTO_CLAIM
    stores: int = 1
    minutes: int = 0


@dataclass(frozen=True, slots=True)
class Hours:
    """From `start` to `end` local time; an `end` at or before `start` runs past midnight."""

    start: time
    end: time


@dataclass(frozen=True, slots=True)
class ActivityCalendar:
    """When a rule applies. A night window belongs to the weekday on which it starts.

    `period` is a dated sales period, both days included, in `timezone`; it bounds a night
    window too, so the sales' last night stops at midnight.
    """

    timezone: str = "UTC"
    weekdays: frozenset[str] = frozenset(WEEKDAYS)
    hours: Hours | None = None
    period: tuple[date, date] | None = None


@dataclass(frozen=True, slots=True)
class ProfileRule:
    name: str
    filters: Filters = Filters()
    objective: ObjectiveWeights = ObjectiveWeights()
    split: SplitRule = SplitRule()
    offer: OfferPolicy = OfferPolicy()
    calendar: ActivityCalendar = ActivityCalendar()


@dataclass(frozen=True, slots=True)
class Profile:
    """Rules most favourable first: the next one is tried when one finds no plan.

    `price`: what the customer pays for the delivery method on this channel; None leaves it to
    the installation's default price list. It lives here because a profile already is "how
    this channel serves this method", versioned and published at a set time: a price change
    is drafted and scheduled like any other.
    """

    code: str
    name: str
    channel: str
    delivery_method: DeliveryMethod
    rules: tuple[ProfileRule, ...]
    price: DeliveryPrice | None = None


@dataclass(frozen=True, slots=True)
class DeliveryPrice:
    """`amount` in minor units of `currency`; free when the basket amounts to `free_from` or
    more (None: never)."""

    amount: int
    currency: str = "EUR"
    free_from: int | None = None

    def for_basket(self, basket_amount: int) -> int:
        if self.free_from is not None and basket_amount >= self.free_from:
            return 0
        return self.amount


@dataclass(frozen=True, slots=True)
class BasketLine:
    """What the filters need of a basket line: its sku, its units and one unit's weight."""

    sku: str
    quantity: int
    weight_g: int


@dataclass(frozen=True, slots=True)
class LocationFacts:
    """What is known of a location when a rule screens it.

    `capacity_left` None: no limit today. `distance_km` None: great-circle distance from the
    location to the destination. `delivery_date`: the latest day a parcel from here would arrive
    (from `shipping.quote_shipping`), which the promise check needs.
    """

    location: Location
    atp: Mapping[str, int]
    capacity_left: int | None = None
    distance_km: float | None = None
    delivery_date: date | None = None
