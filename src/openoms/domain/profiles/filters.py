"""Screening locations with a rule's filters: who may serve, with what stock, and why not.

Every location comes out either as a `sourcing.Candidate` or as one `Exclusion` naming the first
filter it fails, cheapest filters first, so the decision record can say why a nearby store was
not chosen. The promise check is exact per location: a plan arrives with its last parcel, so
it meets the promise if and only if every location it uses does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import partial

from openoms.domain.carriers import CarrierService, check_carriage
from openoms.domain.network import Location, LocationKind, great_circle_km
from openoms.domain.profiles.calendar import is_active
from openoms.domain.profiles.criteria import (
    CostBasis,
    CostCriterion,
    CriteriaRegistry,
    CriterionUse,
    FilterCriterion,
    NegativeCriterionCost,
    WrongCriterionUse,
)
from openoms.domain.profiles.model import BasketLine, Filters, LocationFacts, ProfileRule
from openoms.domain.profiles.reasons import Exclusion, FilterReason
from openoms.domain.shipping import Destination, packaging_weight_g
from openoms.domain.sourcing import Breakdown, Candidate, CostModel


class DuplicateLocation(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(f"location {code} is given twice")
        self.code = code


@dataclass(frozen=True, slots=True)
class Surcharge:
    """A candidate's custom objective terms, in minor units per unit and per parcel."""

    per_unit: float = 0.0
    per_parcel: float = 0.0


@dataclass(frozen=True, slots=True)
class SurchargedCost:
    """A cost model plus the surcharges: never lower for more units, as `CostModel` requires."""

    base: CostModel
    surcharges: Mapping[str, Surcharge]

    def __call__(self, location: str, units: Mapping[str, int], /) -> Breakdown:
        breakdown = self.base(location, units)
        extra = self.surcharges.get(location)
        if extra is None:
            return breakdown
        added = extra.per_unit * sum(units.values()) + extra.per_parcel * breakdown.parcels
        return breakdown._replace(cost=breakdown.cost + round(added))


@dataclass(frozen=True, slots=True)
class Screening:
    rule: str
    candidates: tuple[Candidate, ...]
    excluded: tuple[Exclusion, ...]
    surcharges: Mapping[str, Surcharge] = field(default_factory=dict)

    def cost_model(self, base: CostModel) -> CostModel:
        """The cost model the optimizer must use for this rule: with its custom terms."""
        return SurchargedCost(base, self.surcharges) if self.surcharges else base


class _Screen:
    """One location under one rule, with what the filters compute once.

    A plain class, not a frozen dataclass: one is made per location screened, and compiled
    (decisions/0016) its construction costs a tenth of a dataclass's generated `__init__`."""

    __slots__ = ("distance_km", "facts", "needed", "promised", "rule", "services", "usable")

    def __init__(
        self,
        *,
        rule: ProfileRule,
        facts: LocationFacts,
        distance_km: float,
        needed: Mapping[str, tuple[int, int]],
        usable: Mapping[str, int],
        services: Sequence[CarrierService],
        promised: date | None,
    ) -> None:
        self.rule = rule
        self.facts = facts
        self.distance_km = distance_km
        self.needed = needed
        """(units, unit weight) per sku of the basket."""
        self.usable = usable
        self.services = services
        self.promised = promised


def screen_locations(
    rule: ProfileRule,
    destination: Destination,
    basket: Sequence[BasketLine],
    locations: Sequence[LocationFacts],
    now: datetime,
    *,
    services: Sequence[CarrierService] = (),
    promised: date | None = None,
    criteria: CriteriaRegistry | None = None,
) -> Screening:
    """The candidates a rule admits (stock above the kept minimum) and why it excludes the rest.

    For click & collect the destination is the pickup store, so distances are measured from it.
    Outside its calendar a rule admits nobody. `promised` None: no promise to keep yet (the
    promise itself is being computed), so the promise check has nothing to compare with.
    """
    _refuse_duplicates(locations)
    registry = criteria if criteria is not None else CriteriaRegistry()
    active = is_active(rule.calendar, now)
    basket_screen = partial(
        _screen, rule, destination, _units_per_sku(basket), services=services, promised=promised
    )
    candidates: list[Candidate] = []
    excluded: list[Exclusion] = []
    surcharges: dict[str, Surcharge] = {}
    for facts in sorted(locations, key=lambda f: f.location.code):
        exclusion = _network_failure(rule, facts.location, active)
        if exclusion is not None:
            excluded.append(exclusion)
            continue
        screen = basket_screen(facts)
        exclusion = _first_failure(screen, registry)
        if exclusion is not None:
            excluded.append(exclusion)
            continue
        candidates.append(_candidate(screen))
        surcharge = _surcharge(screen, registry)
        if surcharge is not None:
            surcharges[facts.location.code] = surcharge
    return Screening(rule.name, tuple(candidates), tuple(excluded), surcharges)


def _refuse_duplicates(locations: Sequence[LocationFacts]) -> None:
    """Two facts for one location would make the screening depend on which one came first."""
    codes = Counter(f.location.code for f in locations)
    for code, count in sorted(codes.items()):
        if count > 1:
            raise DuplicateLocation(code)


def _units_per_sku(basket: Sequence[BasketLine]) -> dict[str, tuple[int, int]]:
    """(units, unit weight) per sku: two lines of one sku draw on the same shelf."""
    units: dict[str, tuple[int, int]] = {}
    for line in basket:
        already = units.get(line.sku, (0, line.weight_g))[0]
        units[line.sku] = (already + line.quantity, line.weight_g)
    return units


def _screen(
    rule: ProfileRule,
    destination: Destination,
    needed: Mapping[str, tuple[int, int]],
    facts: LocationFacts,
    *,
    services: Sequence[CarrierService],
    promised: date | None,
) -> _Screen:
    distance = facts.distance_km
    if distance is None:
        distance = great_circle_km(facts.location.point, destination.point)
        facts = replace(facts, distance_km=distance)
    kept = rule.filters.min_stock_kept if facts.location.kind is LocationKind.STORE else 0
    usable = {sku: max(0, facts.atp.get(sku, 0) - kept) for sku in needed}
    return _Screen(
        rule=rule,
        facts=facts,
        distance_km=distance,
        needed=needed,
        usable=usable,
        services=services,
        promised=promised,
    )


def admits_location(rule: ProfileRule, location: Location) -> bool:
    """Whether the rule's filters on the location alone (active, kind, capability, tags) let it
    through: what does not depend on the basket, so callers may work it out once per rule."""
    return _network_failure(rule, location, True) is None


def _network_failure(rule: ProfileRule, location: Location, active: bool) -> Exclusion | None:
    """The filters that look at the location alone, not at the basket: tried first, and
    cheaply, since most locations fail one of them (a rule for warehouses, for stores nearby)."""
    if not active:
        detail = f"{rule.name} is outside its calendar"
        return Exclusion(location.code, rule.name, FilterReason.RULE_INACTIVE, detail)
    for reason, check in _NETWORK_CHECKS:
        found = check(rule.filters, location)
        if found is not None:
            return Exclusion(location.code, rule.name, reason, found)
    return None


def _first_failure(screen: _Screen, registry: CriteriaRegistry) -> Exclusion | None:
    code, rule = screen.facts.location.code, screen.rule.name
    for reason, check in _CHECKS:
        detail = check(screen)
        if detail is not None:
            return Exclusion(code, rule, reason, detail)
    for name in screen.rule.filters.custom:
        detail = _custom_failure(name, registry, screen.facts)
        if detail is not None:
            return Exclusion(code, rule, FilterReason.CUSTOM, detail, criterion=name)
    return None


def _custom_failure(name: str, registry: CriteriaRegistry, facts: LocationFacts) -> str | None:
    criterion = registry.get(name)
    if not isinstance(criterion, FilterCriterion):
        raise WrongCriterionUse(name, CriterionUse.FILTER)
    verdict = criterion.check(facts)
    if verdict is True:
        return None
    return verdict or f"refused by criterion {name!r}"


def _candidate(screen: _Screen) -> Candidate:
    location = screen.facts.location
    protect = screen.rule.objective.protect_below if location.kind is LocationKind.STORE else 0
    return Candidate(location.code, dict(screen.usable), protect_below=protect)


def _surcharge(screen: _Screen, registry: CriteriaRegistry) -> Surcharge | None:
    if not screen.rule.objective.custom:
        return None
    per = {CostBasis.UNIT: 0.0, CostBasis.PARCEL: 0.0}
    for term in screen.rule.objective.custom:
        criterion = registry.get(term.criterion)
        if not isinstance(criterion, CostCriterion):
            raise WrongCriterionUse(term.criterion, CriterionUse.COST)
        value = criterion.cost(screen.facts)
        if value < 0:
            raise NegativeCriterionCost(term.criterion, screen.facts.location.code, value)
        per[criterion.basis] += term.weight * value
    return Surcharge(per[CostBasis.UNIT], per[CostBasis.PARCEL])


def _location_inactive(_: Filters, location: Location) -> str | None:
    return None if location.active else "the location is deactivated"


def _kind(filters: Filters, location: Location) -> str | None:
    kinds, kind = filters.kinds, location.kind
    if not kinds or kind in kinds:
        return None
    return f"a {kind} is not among the kinds allowed ({', '.join(sorted(kinds))})"


def _capability(filters: Filters, location: Location) -> str | None:
    wanted = filters.capability
    if wanted is None or wanted in location.capabilities:
        return None
    return f"the location cannot {wanted}"


def _tags_in(filters: Filters, location: Location) -> str | None:
    missing = filters.tags_in - location.tags
    return f"missing tags {', '.join(sorted(missing))}" if missing else None


def _tags_out(filters: Filters, location: Location) -> str | None:
    banned = filters.tags_out & location.tags
    return f"carries excluded tags {', '.join(sorted(banned))}" if banned else None


def _distance(screen: _Screen) -> str | None:
    limit = screen.rule.filters.max_distance_km
    if limit is None or screen.distance_km <= limit:
        return None
    return f"{screen.distance_km:.1f} km away, beyond {limit:g} km"


def _capacity(screen: _Screen) -> str | None:
    wanted, left = screen.rule.filters.min_capacity_left, screen.facts.capacity_left
    if wanted is None or left is None or left >= wanted:
        return None
    return f"{left} left of today's capacity, {wanted} wanted"


def _stock(screen: _Screen) -> str | None:
    if any(screen.facts.atp.get(sku, 0) > 0 for sku in screen.needed):
        return None
    return "no unit of the basket in stock"


def _stock_kept(screen: _Screen) -> str | None:
    if any(screen.usable.values()):
        return None
    kept = screen.rule.filters.min_stock_kept
    return f"every unit of the basket is within the {kept} units the store keeps"


def _parcel_weight_g(screen: _Screen) -> int:
    """What this location could send of the basket: the parcel the carrier would weigh."""
    contents = sum(
        min(units, screen.usable[sku]) * weight for sku, (units, weight) in screen.needed.items()
    )
    return contents + packaging_weight_g(contents)


def _carrier(screen: _Screen) -> str | None:
    filters = screen.rule.filters
    if not filters.carrier_reachable:
        return None
    wanted = filters.carrier_services
    services = [s for s in screen.services if not wanted or s.code in wanted]
    if not services:
        return "no carrier service to check"
    weight = _parcel_weight_g(screen)
    refusals = [check_carriage(s, weight, screen.distance_km) for s in services]
    if any(refusal is None for refusal in refusals):
        return None
    return "; ".join(refusal.message for refusal in refusals if refusal is not None)


def _promise(screen: _Screen) -> str | None:
    tolerance, promised = screen.rule.filters.promise_tolerance_days, screen.promised
    if tolerance is None or promised is None:
        return None
    delivery = screen.facts.delivery_date
    if delivery is None:
        return "no delivery date known to check the promise"
    latest = promised + timedelta(days=tolerance)
    if delivery <= latest:
        return None
    return f"delivers {delivery}, after {promised} + {tolerance} day(s) tolerance"


_NETWORK_CHECKS: tuple[tuple[FilterReason, Callable[[Filters, Location], str | None]], ...] = (
    (FilterReason.LOCATION_INACTIVE, _location_inactive),
    (FilterReason.KIND, _kind),
    (FilterReason.CAPABILITY, _capability),
    (FilterReason.TAGS_IN, _tags_in),
    (FilterReason.TAGS_OUT, _tags_out),
)
"""The filters on the location alone, cheapest first; then `_CHECKS`, on the basket too."""

_CHECKS: tuple[tuple[FilterReason, Callable[[_Screen], str | None]], ...] = (
    (FilterReason.MAX_DISTANCE, _distance),
    (FilterReason.CAPACITY, _capacity),
    (FilterReason.NO_STOCK, _stock),
    (FilterReason.MIN_STOCK_KEPT, _stock_kept),
    (FilterReason.CARRIER, _carrier),
    (FilterReason.PROMISE, _promise),
)
"""Cheapest first: a location is excluded by the first filter it fails (after `_NETWORK_CHECKS`)."""
