"""Unified availability: what a channel may sell of a sku.

A channel publishes the ATP of the locations its publication rule admits (by kind, by code, by
tag; some excluded by tag), less a safety buffer per location kind; a location whose remaining
quantity is under the minimum for its kind publishes nothing (one unit left in a store is not
worth a promise that will likely fail at picking, while a warehouse's last unit is reliable).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from openoms.domain.network import LocationKind


def publish(location_atp: int, buffer: int, minimum: int) -> int:
    """What one location publishes: its ATP less the buffer, or nothing under the minimum."""
    quantity = location_atp - buffer
    if quantity <= 0 or quantity < minimum:
        return 0
    return quantity


@dataclass(frozen=True, slots=True)
class PublicationRule:
    kinds: frozenset[LocationKind] = frozenset()
    locations: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    excluded_tags: frozenset[str] = frozenset()
    buffers: Mapping[LocationKind, int] = field(default_factory=dict)
    minimums: Mapping[LocationKind, int] = field(default_factory=dict)

    def admits(self, code: str, kind: LocationKind, tags: frozenset[str]) -> bool:
        if tags & self.excluded_tags:
            return False
        return kind in self.kinds or code in self.locations or bool(tags & self.tags)

    def published(self, kind: LocationKind, location_atp: int) -> int:
        return publish(location_atp, self.buffers.get(kind, 0), self.minimums.get(kind, 0))


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
    locations: tuple[LocationAvailability, ...] | None = None


@dataclass(frozen=True, slots=True)
class Publisher:
    """A location as availability sees it: its code, kind and tags."""

    code: str
    kind: LocationKind
    tags: frozenset[str]
    active: bool = True


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule resolved against the network once: per admitted location, its slot (index in the
    caller's ATP vector), buffer and minimum. Summing then costs one pass over small integers,
    which is what lets a read of 50 skus take well under a millisecond."""

    channel: str
    slots: tuple[int, ...]
    buffers: tuple[int, ...]
    minimums: tuple[int, ...]
    publishers: tuple[Publisher, ...]

    def quantity(self, atp_by_slot: Sequence[int]) -> int:
        total = 0
        for slot, buffer, minimum in zip(self.slots, self.buffers, self.minimums, strict=True):
            quantity = atp_by_slot[slot] - buffer
            if quantity > 0 and quantity >= minimum:
                total += quantity
        return total

    def availability(self, sku: str, atp_by_slot: Sequence[int], *, detail: bool) -> Availability:
        if not detail:
            return Availability(sku, self.channel, self.quantity(atp_by_slot))
        lines = tuple(
            LocationAvailability(
                p.code, p.kind, atp_by_slot[slot], publish(atp_by_slot[slot], buffer, minimum)
            )
            for p, slot, buffer, minimum in zip(
                self.publishers, self.slots, self.buffers, self.minimums, strict=True
            )
        )
        return Availability(sku, self.channel, sum(line.published for line in lines), lines)


def compile_rule(channel: str, rule: PublicationRule, network: Iterable[Publisher]) -> CompiledRule:
    """`network` in slot order: the n-th publisher's ATP is at index n of the ATP vectors."""
    admitted = [
        (slot, p)
        for slot, p in enumerate(network)
        if p.active and rule.admits(p.code, p.kind, p.tags)
    ]
    return CompiledRule(
        channel=channel,
        slots=tuple(slot for slot, _ in admitted),
        buffers=tuple(rule.buffers.get(p.kind, 0) for _, p in admitted),
        minimums=tuple(rule.minimums.get(p.kind, 0) for _, p in admitted),
        publishers=tuple(p for _, p in admitted),
    )
