"""Store size, from the population of the store's town.

Size drives a store's hours, capacity, assortment and stock depth, and is kept as a `size:` tag so
that publication rules and sourcing profiles can select on it.
"""

from __future__ import annotations

from enum import StrEnum

from openoms.domain.network import Location


class StoreSize(StrEnum):
    LARGE = "large"
    MEDIUM = "medium"
    SMALL = "small"


_SIZE_TAG = "size:"


def store_size(population: int) -> StoreSize:
    if population >= 200_000:
        return StoreSize.LARGE
    if population >= 80_000:
        return StoreSize.MEDIUM
    return StoreSize.SMALL


def size_tag(size: StoreSize) -> str:
    return f"{_SIZE_TAG}{size}"


def size_of(location: Location) -> StoreSize:
    for tag in location.tags:
        if tag.startswith(_SIZE_TAG):
            return StoreSize(tag.removeprefix(_SIZE_TAG))
    raise ValueError(f"location {location.code} has no {_SIZE_TAG} tag")
