"""Unified availability: what a channel may sell of a sku.

A channel publishes the ATP of the locations its publication rule admits (by kind, by code, by
tag; some excluded by tag), less a safety buffer per location kind; a location whose remaining
quantity is under the rule's minimum publishes nothing (one unit left in a store is not worth a
promise that will likely fail at picking).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from openoms.domain.network import LocationKind


@dataclass(frozen=True, slots=True)
class PublicationRule:
    kinds: frozenset[LocationKind] = frozenset()
    locations: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    excluded_tags: frozenset[str] = frozenset()
    buffers: Mapping[LocationKind, int] = field(default_factory=dict)
    min_atp: int = 0

    def admits(self, code: str, kind: LocationKind, tags: frozenset[str]) -> bool:
        if tags & self.excluded_tags:
            return False
        return kind in self.kinds or code in self.locations or bool(tags & self.tags)

    def published(self, kind: LocationKind, location_atp: int) -> int:
        quantity = location_atp - self.buffers.get(kind, 0)
        if quantity <= 0 or quantity < self.min_atp:
            return 0
        return quantity


@dataclass(frozen=True, slots=True)
class LocationAvailability:
    location: str
    kind: LocationKind
    atp: int
    published: int


@dataclass(frozen=True, slots=True)
class Availability:
    sku: str
    channel: str
    quantity: int
    locations: tuple[LocationAvailability, ...]


@dataclass(frozen=True, slots=True)
class PositionView:
    """What availability needs of a stock position and its location."""

    location: str
    kind: LocationKind
    tags: frozenset[str]
    atp: int


def channel_availability(
    sku: str, channel: str, rule: PublicationRule, positions: Iterable[PositionView]
) -> Availability:
    lines = tuple(
        LocationAvailability(p.location, p.kind, p.atp, rule.published(p.kind, p.atp))
        for p in positions
        if rule.admits(p.location, p.kind, p.tags)
    )
    return Availability(sku, channel, sum(line.published for line in lines), lines)
