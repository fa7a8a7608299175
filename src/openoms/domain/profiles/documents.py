"""A profile as the document `parse_profile` reads: what the API answers and files store.

Only fields that differ from their defaults are written, so a stored profile shows what its
author chose; reading the document back gives the same profile.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from enum import StrEnum

from openoms.domain.network import WEEKDAYS
from openoms.domain.profiles.model import (
    ActivityCalendar,
    Filters,
    ObjectiveWeights,
    OfferMode,
    OfferPolicy,
    Profile,
    ProfileRule,
    SplitChoice,
    SplitRule,
)


def profile_to_data(profile: Profile) -> dict[str, object]:
    return {
        "code": profile.code,
        "name": profile.name,
        "channel": profile.channel,
        "delivery_method": profile.delivery_method.value,
        "rules": [_rule(rule) for rule in profile.rules],
    } | _price(profile)


def _price(profile: Profile) -> dict[str, object]:
    price = profile.price
    if price is None:
        return {}
    written: dict[str, object] = {"amount": price.amount, "currency": price.currency}
    if price.free_from is not None:
        written["free_from"] = price.free_from
    return {"price": written}


def _rule(rule: ProfileRule) -> dict[str, object]:
    parts = {
        "filters": _filters(rule.filters),
        "objective": _objective(rule.objective),
        "split": _split(rule.split),
        "offer": _offer(rule.offer),
        "calendar": _calendar(rule.calendar),
    }
    return {"name": rule.name} | {key: part for key, part in parts.items() if part}


def _plain(value: object) -> object:
    """JSON's shapes: sets as sorted lists (a stable document), enums as their values.

    Tuples keep their order: custom filters run in the order the author gave.
    """
    if isinstance(value, frozenset):
        return sorted(str(_plain(item)) for item in value)
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, StrEnum):
        return value.value
    return value


def _filters(filters: Filters) -> dict[str, object]:
    default = Filters()
    return {
        f.name: _plain(getattr(filters, f.name))
        for f in fields(Filters)
        if getattr(filters, f.name) != getattr(default, f.name)
    }


def _objective(objective: ObjectiveWeights) -> dict[str, object]:
    default = asdict(ObjectiveWeights())
    data = {
        key: value
        for key, value in asdict(objective).items()
        if key != "custom" and value != default[key]
    }
    if objective.custom:
        data["custom"] = {term.criterion: term.weight for term in objective.custom}
    return data


def _split(split: SplitRule) -> dict[str, object]:
    if split.choice is SplitChoice.MAX_PARCELS:
        return {"mode": split.choice.value, "max_parcels": split.max_parcels}
    return {} if split == SplitRule() else {"mode": split.choice.value}


def _offer(offer: OfferPolicy) -> dict[str, object]:
    if offer.mode is OfferMode.AUTO_CLAIM:
        return {}
    return {"mode": offer.mode.value, "stores": offer.stores, "minutes": offer.minutes}


def _calendar(calendar: ActivityCalendar) -> dict[str, object]:
    data: dict[str, object] = {}
    if calendar.timezone != ActivityCalendar().timezone:
        data["timezone"] = calendar.timezone
    if calendar.weekdays != ActivityCalendar().weekdays:
        data["weekdays"] = [day for day in WEEKDAYS if day in calendar.weekdays]
    if calendar.hours is not None:
        hours = calendar.hours
        data["hours"] = {"from": hours.start.isoformat(), "to": hours.end.isoformat()}
    if calendar.period is not None:
        first, last = calendar.period
        data["period"] = {"from": first.isoformat(), "to": last.isoformat()}
    return data
