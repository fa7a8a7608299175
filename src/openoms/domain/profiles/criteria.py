"""A retailer's own criteria, used in its profiles without forking the project.

A criterion is a function of a location's facts, registered under a name: a filter (may this
location serve?) or a cost (what serving from it costs besides carriage, per unit or per parcel).
Installed packages declare theirs in the entry point group `openoms.criteria`; only
`installed_criteria` reads that group, so the rest is pure and tests fill a registry directly.

    CriterionError
    ├── DuplicateCriterion     name
    ├── UnknownCriterion       name
    ├── NotACriterion          name, loaded (an entry point that names something else)
    ├── WrongCriterionUse      name, wanted (a cost used as a filter, or the reverse)
    └── NegativeCriterionCost  name, location, value
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from importlib.metadata import EntryPoint, entry_points

from openoms.domain.profiles.model import LocationFacts

CRITERIA_GROUP = "openoms.criteria"


class CriterionUse(StrEnum):
    FILTER = "filter"
    COST = "cost"


class CostBasis(StrEnum):
    UNIT = "unit"
    PARCEL = "parcel"


@dataclass(frozen=True, slots=True)
class FilterCriterion:
    """`check` answers True to admit, False to refuse, or a sentence saying why it refuses."""

    check: Callable[[LocationFacts], bool | str]


@dataclass(frozen=True, slots=True)
class CostCriterion:
    """`cost` is in minor units per unit or per parcel, never negative (the search's bounds)."""

    cost: Callable[[LocationFacts], float]
    basis: CostBasis = CostBasis.UNIT


Criterion = FilterCriterion | CostCriterion


class CriterionError(Exception):
    """A criterion that cannot be registered, found or used."""


class DuplicateCriterion(CriterionError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a criterion named {name!r} is already registered")
        self.name = name


class UnknownCriterion(CriterionError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no criterion named {name!r} is registered")
        self.name = name


class NotACriterion(CriterionError):
    def __init__(self, name: str, loaded: object) -> None:
        super().__init__(
            f"entry point {name!r} loads a {type(loaded).__name__},"
            " not a FilterCriterion or a CostCriterion"
        )
        self.name = name
        self.loaded = loaded


class WrongCriterionUse(CriterionError):
    def __init__(self, name: str, wanted: CriterionUse) -> None:
        super().__init__(f"criterion {name!r} is not a {wanted} criterion")
        self.name = name
        self.wanted = wanted


class NegativeCriterionCost(CriterionError):
    def __init__(self, name: str, location: str, value: float) -> None:
        super().__init__(f"criterion {name!r} gives {location} a negative cost ({value:g})")
        self.name = name
        self.location = location
        self.value = value


class CriteriaRegistry:
    """Criteria by name. A name is registered once: a silent replacement would change decisions."""

    def __init__(self) -> None:
        self._criteria: dict[str, Criterion] = {}

    def register(self, name: str, criterion: Criterion) -> None:
        if name in self._criteria:
            raise DuplicateCriterion(name)
        self._criteria[name] = criterion

    def get(self, name: str) -> Criterion:
        try:
            return self._criteria[name]
        except KeyError:
            raise UnknownCriterion(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._criteria

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._criteria))


def load_criteria(entries: Iterable[EntryPoint]) -> CriteriaRegistry:
    """A registry from entry points; one that loads anything but a criterion is refused."""
    registry = CriteriaRegistry()
    for entry in sorted(entries, key=lambda e: e.name):
        loaded = entry.load()
        if not isinstance(loaded, FilterCriterion | CostCriterion):
            raise NotACriterion(entry.name, loaded)
        registry.register(entry.name, loaded)
    return registry


def installed_criteria() -> CriteriaRegistry:
    """The criteria that installed packages declare in the `openoms.criteria` group."""
    return load_criteria(entry_points(group=CRITERIA_GROUP))
