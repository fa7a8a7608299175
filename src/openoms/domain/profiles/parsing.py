"""Profiles from data (JSON over the API, files): checked whole, every mistake named by its path.

`parse_profile` raises one `InvalidProfile` carrying every `FieldError`, each with a path like
`rules[2].filters.max_distance_km`, so the API can answer with all of them in one problem body.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, time
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from openoms.domain.network import WEEKDAYS, Capability, LocationKind
from openoms.domain.profiles.criteria import CostCriterion, CriteriaRegistry, FilterCriterion
from openoms.domain.profiles.model import (
    ActivityCalendar,
    CustomTerm,
    DeliveryMethod,
    DeliveryPrice,
    Filters,
    Hours,
    ObjectiveWeights,
    OfferMode,
    OfferPolicy,
    Profile,
    ProfileRule,
    SplitChoice,
    SplitRule,
)
from openoms.domain.profiles.reader import FieldError, Reader, join

T = TypeVar("T")

CHANNEL = re.compile(r"^(web|app|marketplace:[^\s:]+|store:[^\s:]+)$")
CURRENCY = re.compile(r"^[A-Z]{3}$")


class InvalidProfile(ValueError):
    def __init__(self, errors: tuple[FieldError, ...]) -> None:
        listed = "; ".join(f"{e.path}: {e.message}" for e in errors)
        super().__init__(f"invalid sourcing profile: {listed}")
        self.errors = errors


def parse_profile(data: Mapping[str, object], criteria: CriteriaRegistry | None = None) -> Profile:
    """The profile, or InvalidProfile naming every field that is wrong.

    Custom criteria must be in `criteria`: a profile that names one this installation lacks
    would fail at the first order, not when it is saved.
    """
    reader = Reader()
    registry = criteria if criteria is not None else CriteriaRegistry()
    required = frozenset({"code", "name", "channel", "delivery_method", "rules"})
    fields = reader.mapping(data, "", required | {"price"}, required)
    channel = reader.text(fields, "", "channel", "web")
    if "channel" in fields and not CHANNEL.match(channel):
        reader.fail("channel", "must be web, app, marketplace:<name> or store:<location>")
    method = fields.get("delivery_method", DeliveryMethod.HOME_STANDARD.value)
    profile = Profile(
        code=reader.text(fields, "", "code"),
        name=reader.text(fields, "", "name"),
        channel=channel,
        delivery_method=reader.choice(
            method, "delivery_method", DeliveryMethod, DeliveryMethod.HOME_STANDARD
        ),
        rules=_rules(reader, fields, registry),
        price=_price(reader, fields.get("price")),
    )
    if reader.errors:
        raise InvalidProfile(tuple(reader.errors))
    return profile


def _price(reader: Reader, item: object) -> DeliveryPrice | None:
    """`{"amount": 490, "currency": "EUR", "free_from": 5000}`, all in minor units."""
    if item is None:
        return None
    fields = reader.mapping(item, "price", frozenset({"amount", "currency", "free_from"}))
    currency = reader.text(fields, "price", "currency", "EUR")
    if not CURRENCY.match(currency):
        reader.fail("price.currency", "must be an ISO 4217 code such as EUR")
    if "amount" not in fields:
        reader.fail("price.amount", "is required")
    return DeliveryPrice(
        amount=reader.integer(fields, "price", "amount", 0, minimum=0),
        currency=currency,
        free_from=(
            None
            if fields.get("free_from") is None
            else reader.integer(fields, "price", "free_from", 0, minimum=0)
        ),
    )


def _rules(
    reader: Reader, fields: Mapping[str, object], registry: CriteriaRegistry
) -> tuple[ProfileRule, ...]:
    items = reader.sequence(fields, "", "rules")
    if "rules" in fields and not items:
        reader.fail("rules", "must hold at least one rule")
    rules = tuple(_rule(reader, item, f"rules[{i}]", registry) for i, item in enumerate(items))
    first: dict[str, int] = {}
    for i, rule in enumerate(rules):
        if rule.name in first:
            reader.fail(f"rules[{i}].name", f"duplicate rule name (also rules[{first[rule.name]}])")
        first.setdefault(rule.name, i)
    return rules


def _rule(reader: Reader, item: object, path: str, registry: CriteriaRegistry) -> ProfileRule:
    allowed = frozenset({"name", "filters", "objective", "split", "offer", "calendar"})
    fields = reader.mapping(item, path, allowed, frozenset({"name"}))
    return ProfileRule(
        name=reader.text(fields, path, "name", "?"),
        filters=_filters(reader, fields.get("filters", {}), join(path, "filters"), registry),
        objective=_objective(
            reader, fields.get("objective", {}), join(path, "objective"), registry
        ),
        split=_split(reader, fields.get("split", {}), join(path, "split")),
        offer=_offer(reader, fields.get("offer", {}), join(path, "offer")),
        calendar=_calendar(reader, fields.get("calendar", {}), join(path, "calendar")),
    )


_FILTER_FIELDS = frozenset(
    {
        "kinds",
        "capability",
        "tags_in",
        "tags_out",
        "max_distance_km",
        "min_capacity_left",
        "min_stock_kept",
        "carrier_reachable",
        "carrier_services",
        "promise_tolerance_days",
        "custom",
    }
)


def _filters(reader: Reader, item: object, path: str, registry: CriteriaRegistry) -> Filters:
    fields = reader.mapping(item, path, _FILTER_FIELDS)
    kinds_path = join(path, "kinds")
    kinds = reader.sequence(fields, path, "kinds")
    capability = fields.get("capability")
    reachable = reader.flag(fields, path, "carrier_reachable")
    if "carrier_services" in fields and not reachable:
        reader.fail(join(path, "carrier_services"), "needs carrier_reachable: true")
    return Filters(
        kinds=frozenset(
            reader.choice(k, join(kinds_path, i), LocationKind, LocationKind.STORE)
            for i, k in enumerate(kinds)
        ),
        capability=None
        if capability is None
        else reader.choice(capability, join(path, "capability"), Capability, Capability.SHIP),
        tags_in=frozenset(reader.strings(fields, path, "tags_in")),
        tags_out=frozenset(reader.strings(fields, path, "tags_out")),
        max_distance_km=_optional_number(reader, fields, path, "max_distance_km"),
        min_capacity_left=_optional_integer(reader, fields, path, "min_capacity_left"),
        min_stock_kept=reader.integer(fields, path, "min_stock_kept", 0),
        carrier_reachable=reachable,
        carrier_services=frozenset(reader.strings(fields, path, "carrier_services")),
        promise_tolerance_days=_optional_integer(reader, fields, path, "promise_tolerance_days"),
        custom=_custom_filters(reader, fields, path, registry),
    )


def _optional_number(
    reader: Reader, fields: Mapping[str, object], path: str, key: str
) -> float | None:
    return None if fields.get(key) is None else reader.number(fields, path, key, 0.0)


def _optional_integer(
    reader: Reader, fields: Mapping[str, object], path: str, key: str
) -> int | None:
    return None if fields.get(key) is None else reader.integer(fields, path, key, 0)


def _custom_filters(
    reader: Reader, fields: Mapping[str, object], path: str, registry: CriteriaRegistry
) -> tuple[str, ...]:
    names = reader.strings(fields, path, "custom")
    for i, name in enumerate(names):
        if name not in registry:
            reader.fail(join(join(path, "custom"), i), f"unknown criterion {name!r}")
        elif not isinstance(registry.get(name), FilterCriterion):
            reader.fail(join(join(path, "custom"), i), f"criterion {name!r} is not a filter")
    return names


_OBJECTIVE_FIELDS = frozenset(
    {"cost", "days", "carbon", "parcels", "protection", "protect_below", "custom"}
)


def _objective(
    reader: Reader, item: object, path: str, registry: CriteriaRegistry
) -> ObjectiveWeights:
    fields = reader.mapping(item, path, _OBJECTIVE_FIELDS)
    return ObjectiveWeights(
        cost=reader.number(fields, path, "cost", 1.0),
        days=reader.number(fields, path, "days", 0.0),
        carbon=reader.number(fields, path, "carbon", 0.0),
        parcels=reader.number(fields, path, "parcels", 0.0),
        protection=reader.number(fields, path, "protection", 0.0),
        protect_below=reader.integer(fields, path, "protect_below", 0),
        custom=_custom_terms(reader, fields.get("custom", {}), join(path, "custom"), registry),
    )


def _custom_terms(
    reader: Reader, item: object, path: str, registry: CriteriaRegistry
) -> tuple[CustomTerm, ...]:
    """A mapping of criterion name to weight; a weight turns its figure into minor units."""
    if not isinstance(item, Mapping):
        reader.fail(path, "must be an object of criterion names to weights")
        return ()
    terms = []
    for name in sorted(item):
        if name not in registry:
            reader.fail(join(path, name), f"unknown criterion {name!r}")
        elif not isinstance(registry.get(name), CostCriterion):
            reader.fail(join(path, name), f"criterion {name!r} is not a cost")
        terms.append(CustomTerm(name, reader.number(item, path, name, 0.0)))
    return tuple(terms)


def _split(reader: Reader, item: object, path: str) -> SplitRule:
    fields = reader.mapping(item, path, frozenset({"mode", "max_parcels"}))
    mode = fields.get("mode", SplitChoice.PER_UNIT.value)
    choice = reader.choice(mode, join(path, "mode"), SplitChoice, SplitChoice.PER_UNIT)
    if "max_parcels" in fields and choice is not SplitChoice.MAX_PARCELS:
        reader.fail(join(path, "max_parcels"), "is read only with mode max_parcels")
    if choice is SplitChoice.MAX_PARCELS and "max_parcels" not in fields:
        reader.fail(join(path, "max_parcels"), "is required with mode max_parcels")
    return SplitRule(choice, reader.integer(fields, path, "max_parcels", 1, minimum=1))


def _offer(reader: Reader, item: object, path: str) -> OfferPolicy:
    fields = reader.mapping(item, path, frozenset({"mode", "stores", "minutes"}))
    mode = fields.get("mode", OfferMode.AUTO_CLAIM.value)
    choice = reader.choice(mode, join(path, "mode"), OfferMode, OfferMode.AUTO_CLAIM)
    if choice is OfferMode.AUTO_CLAIM:
        for key in sorted({"stores", "minutes"} & set(fields)):
            reader.fail(join(path, key), "is read only with mode broadcast")
        return OfferPolicy()
    for key in sorted({"stores", "minutes"} - set(fields)):
        reader.fail(join(path, key), "is required with mode broadcast")
    return OfferPolicy(
        choice,
        stores=reader.integer(fields, path, "stores", 1, minimum=1),
        minutes=reader.integer(fields, path, "minutes", 1, minimum=1),
    )


def _calendar(reader: Reader, item: object, path: str) -> ActivityCalendar:
    fields = reader.mapping(item, path, frozenset({"timezone", "weekdays", "hours", "period"}))
    timezone = reader.text(fields, path, "timezone", "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        reader.fail(join(path, "timezone"), f"unknown time zone {timezone!r}")
        timezone = "UTC"
    weekdays = reader.strings(fields, path, "weekdays") if "weekdays" in fields else WEEKDAYS
    for i, day in enumerate(weekdays):
        if day not in WEEKDAYS:
            reader.fail(
                join(join(path, "weekdays"), i), f"unknown weekday; use {', '.join(WEEKDAYS)}"
            )
    if not weekdays:
        reader.fail(join(path, "weekdays"), "must name at least one weekday")
    return ActivityCalendar(
        timezone=timezone,
        weekdays=frozenset(weekdays),
        hours=_hours(reader, fields.get("hours"), join(path, "hours")),
        period=_period(reader, fields.get("period"), join(path, "period")),
    )


def _hours(reader: Reader, item: object, path: str) -> Hours | None:
    if item is None:
        return None
    both = frozenset({"from", "to"})
    fields = reader.mapping(item, path, both, both)
    start = _parsed(reader, fields, path, "from", _wall_time)
    end = _parsed(reader, fields, path, "to", _wall_time)
    return None if start is None or end is None else Hours(start, end)


def _wall_time(text: str) -> time:
    """A wall-clock time: the calendar's time zone says where; an offset would contradict it."""
    wall = time.fromisoformat(text)
    if wall.tzinfo is not None:
        raise ValueError(text)
    return wall


def _period(reader: Reader, item: object, path: str) -> tuple[date, date] | None:
    if item is None:
        return None
    both = frozenset({"from", "to"})
    fields = reader.mapping(item, path, both, both)
    first = _parsed(reader, fields, path, "from", date.fromisoformat)
    last = _parsed(reader, fields, path, "to", date.fromisoformat)
    if first is None or last is None:
        return None
    if last < first:
        reader.fail(join(path, "to"), f"is before from ({first})")
    return first, last


def _parsed(
    reader: Reader, fields: Mapping[str, object], path: str, key: str, parse: Callable[[str], T]
) -> T | None:
    if key not in fields:
        return None
    value = fields[key]
    try:
        if isinstance(value, str):
            return parse(value)
    except ValueError:
        pass
    reader.fail(join(path, key), f"must be an ISO 8601 string, got {value!r}")
    return None
