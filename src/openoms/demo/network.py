"""The demo network: three warehouses at French logistics hubs, a store in each of the largest
French towns, two dropship suppliers, a second-hand hub and a wholesale partner.

Sites other than stores sit a few km out of their town's centre, where depots are; a store sits
within 1.5 km of its town's centre. Everything is in metropolitan France, on Paris time.
"""

from __future__ import annotations

import itertools
import math
import random
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from openoms.demo.assortment import Category
from openoms.demo.geography import Town, department_of, nudged, postal_code, town_named
from openoms.demo.hours import (
    Weekly,
    closed_on,
    holiday_subdivision,
    office_week,
    public_holidays,
    store_holidays,
    store_week,
    warehouse_week,
)
from openoms.demo.sizes import StoreSize, size_tag, store_size
from openoms.domain.network import Capability, Location, LocationKind, OpeningHours

TIMEZONE = "Europe/Paris"
FRANCHISE_TAG = "franchise"
_ASSORTMENT_TAG = "assortment:"


@dataclass(frozen=True, slots=True)
class _Site:
    code: str
    name: str
    kind: LocationKind
    town: str
    daily_capacity: int
    assortment: tuple[Category, ...] = ()


@dataclass(frozen=True, slots=True)
class _Profile:
    capabilities: frozenset[Capability]
    preparation_minutes: int
    handling_cost: int
    week: Callable[[], Weekly]


_SITES = (
    _Site("WH-LYON", "Lyon distribution centre", LocationKind.WAREHOUSE, "Villefontaine", 12_000),
    _Site("WH-ORLEANS", "Orléans distribution centre", LocationKind.WAREHOUSE, "Saran", 8_000),
    _Site("WH-DOUAI", "Douai distribution centre", LocationKind.WAREHOUSE, "Douai", 6_000),
    _Site(
        "SUP-HOME-NANTES",
        "Maison Atlantique (dropship)",
        LocationKind.SUPPLIER,
        "Saint-Herblain",
        1_500,
        (Category.HOME,),
    ),
    _Site(
        "SUP-TECH-ROISSY",
        "Tech Distribution Nord (dropship)",
        LocationKind.SUPPLIER,
        "Tremblay-en-France",
        2_500,
        (Category.ELECTRONICS,),
    ),
    _Site(
        "SH-VITROLLES",
        "Second-hand hub",
        LocationKind.SECOND_HAND,
        "Vitrolles",
        400,
        (Category.APPAREL, Category.SHOES, Category.ELECTRONICS, Category.SPORTS),
    ),
    _Site(
        "RS-MERIGNAC",
        "Sud-Ouest Diffusion (wholesale)",
        LocationKind.RESELLER,
        "Mérignac",
        300,
        (Category.APPAREL, Category.SHOES),
    ),
)

_SHIP = frozenset({Capability.SHIP})
# Dropship suppliers and the wholesale partner ship the next working day, not the same one.
_PROFILES = {
    LocationKind.WAREHOUSE: _Profile(_SHIP, 120, 180, warehouse_week),
    LocationKind.SUPPLIER: _Profile(_SHIP, 1_440, 350, office_week),
    LocationKind.SECOND_HAND: _Profile(
        frozenset({Capability.SHIP, Capability.RETURNS}), 240, 300, office_week
    ),
    LocationKind.RESELLER: _Profile(_SHIP, 1_440, 400, office_week),
}

# Bigger stores have bigger teams: they prepare faster and each order costs less of their time.
_STORE_PREPARATION = {StoreSize.LARGE: 30, StoreSize.MEDIUM: 45, StoreSize.SMALL: 60}
_STORE_HANDLING = {StoreSize.LARGE: 450, StoreSize.MEDIUM: 550, StoreSize.SMALL: 650}
_FRANCHISE_FEE = 100
"""Paid to a franchisee per order it serves for the network, on top of the handling."""
_FRANCHISE_SHARE = 0.25
"""Of the stores that are not large: flagship stores are the retailer's own."""
_SMALL_STORE_LACKS = 0.3
"""Chance that a small store cannot ship, and (apart) cannot do express collect."""
_CAPACITY_POPULATIONS = (30_000, 2_000_000)
_CAPACITY_RANGE = (10, 80)

_SHOP_STREETS = (
    "rue de la République",
    "rue Victor Hugo",
    "avenue Jean Jaurès",
    "boulevard Gambetta",
    "rue du Général Leclerc",
    "rue Nationale",
    "rue Pasteur",
    "avenue de la Gare",
    "rue Carnot",
    "rue du Commerce",
    "cours Jean Moulin",
    "rue Émile Zola",
    "rue des Halles",
    "boulevard Voltaire",
    "avenue Foch",
    "rue Saint-Michel",
    "rue de la Paix",
    "rue Thiers",
    "place du Marché",
    "avenue de Verdun",
    "rue Aristide Briand",
    "rue Jules Ferry",
    "rue de Paris",
    "boulevard de la Liberté",
    "place de l'Hôtel de Ville",
)
_DEPOT_STREETS = (
    "rue de l'Industrie",
    "avenue de l'Europe",
    "rue des Frères Lumière",
    "allée des Transporteurs",
    "rue Gustave Eiffel",
    "rue du Parc d'Activités",
    "chemin des Entrepôts",
    "rue Denis Papin",
)


def build_network(rng: random.Random, store_towns: Sequence[Town], today: date) -> list[Location]:
    """Sites first, then stores, largest town first; `today` starts the holiday horizon."""
    sites = [_site(site, rng, today) for site in _SITES]
    used = {site.code for site in sites}
    return sites + [_store(town, rng, today, used) for town in store_towns]


def assortment_of(location: Location) -> frozenset[Category]:
    """The categories a supplier, second-hand hub or wholesale partner holds."""
    return frozenset(
        Category(tag.removeprefix(_ASSORTMENT_TAG))
        for tag in location.tags
        if tag.startswith(_ASSORTMENT_TAG)
    )


def _site(site: _Site, rng: random.Random, today: date) -> Location:
    town = town_named(site.town)
    profile = _PROFILES[site.kind]
    holidays = public_holidays(today, holiday_subdivision(department_of(town)))
    return Location(
        code=site.code,
        name=site.name,
        kind=site.kind,
        point=nudged(town, rng, 2, 5),
        timezone=TIMEZONE,
        address=_address(rng, _DEPOT_STREETS),
        city=town.name,
        postal_code=postal_code(town, rng),
        opening_hours=OpeningHours(profile.week(), closed_on(holidays)),
        capabilities=profile.capabilities,
        daily_capacity=site.daily_capacity,
        preparation_minutes=profile.preparation_minutes,
        handling_cost=profile.handling_cost,
        tags=frozenset({_region_tag(town), *(f"{_ASSORTMENT_TAG}{c}" for c in site.assortment)}),
    )


def _store(town: Town, rng: random.Random, today: date, used: set[str]) -> Location:
    size = store_size(town.population)
    department = department_of(town)
    week = store_week(size, rng)
    holidays = public_holidays(today, holiday_subdivision(department))
    franchise = size is not StoreSize.LARGE and rng.random() < _FRANCHISE_SHARE
    tags = {_region_tag(town), size_tag(size)} | ({FRANCHISE_TAG} if franchise else set())
    return Location(
        code=_store_code(town, department, used),
        name=town.name,
        kind=LocationKind.STORE,
        point=nudged(town, rng, 0, 1.5),
        timezone=TIMEZONE,
        address=_address(rng, _SHOP_STREETS),
        city=town.name,
        postal_code=postal_code(town, rng),
        opening_hours=OpeningHours(week, store_holidays(holidays, week, size)),
        capabilities=_store_capabilities(size, rng),
        daily_capacity=_store_capacity(town.population),
        preparation_minutes=_STORE_PREPARATION[size],
        handling_cost=_STORE_HANDLING[size] + (_FRANCHISE_FEE if franchise else 0),
        tags=frozenset(tags),
    )


def _store_capabilities(size: StoreSize, rng: random.Random) -> frozenset[Capability]:
    """A small shop may have no back room to pack parcels in, or no associate spare for express."""
    capabilities = {Capability.CLICK_COLLECT, Capability.RETURNS, Capability.E_RESERVATION}
    if size is not StoreSize.SMALL or rng.random() >= _SMALL_STORE_LACKS:
        capabilities.add(Capability.SHIP)
    if size is not StoreSize.SMALL or rng.random() >= _SMALL_STORE_LACKS:
        capabilities.add(Capability.EXPRESS_COLLECT)
    return frozenset(capabilities)


def _store_capacity(population: int) -> int:
    """Orders a day, on a log scale of the town's population: footfall, hence staff, grows so."""
    low, high = (math.log(p) for p in _CAPACITY_POPULATIONS)
    scale = min(1.0, max(0.0, (math.log(population) - low) / (high - low)))
    least, most = _CAPACITY_RANGE
    return round(least + (most - least) * scale)


def _store_code(town: Town, department: str, used: set[str]) -> str:
    """`ST-<TOWN>`, with the department (then a number) when two towns share a name."""
    base = f"ST-{_ascii_code(town.name)}"
    candidates = itertools.chain(
        (base, f"{base}-{department}"), (f"{base}-{department}-{n}" for n in itertools.count(2))
    )
    code = next(c for c in candidates if c not in used)
    used.add(code)
    return code


def _ascii_code(name: str) -> str:
    unligatured = name.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae")
    ascii_name = unicodedata.normalize("NFKD", unligatured).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-").upper()


def _address(rng: random.Random, streets: Sequence[str]) -> str:
    return f"{rng.randint(1, 120)} {rng.choice(streets)}"


def _region_tag(town: Town) -> str:
    return f"region:{town.region}"
