"""Channels, publication rules and availability."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StrictInt

from openoms.api.schemas.common import MAX_AVAILABILITY_SKUS, Body, Code, Name, Tag
from openoms.domain.availability import Availability, PublicationRule
from openoms.domain.network import LocationKind
from openoms.domain.stock import MAX_QUANTITY


class PublicationBody(Body):
    kinds: list[LocationKind] = Field(default_factory=list)
    locations: list[Code] = Field(default_factory=list, max_length=10_000)
    tags: list[Tag] = Field(default_factory=list, max_length=100)
    excluded_tags: list[Tag] = Field(default_factory=list, max_length=100)
    buffers: dict[LocationKind, Annotated[StrictInt, Field(ge=0, le=MAX_QUANTITY)]] = Field(
        default_factory=dict, description="Units kept back per location kind."
    )
    minimums: dict[LocationKind, Annotated[StrictInt, Field(ge=0, le=MAX_QUANTITY)]] = Field(
        default_factory=dict,
        description="Per location kind: under this, a location publishes nothing.",
    )

    def to_domain(self) -> PublicationRule:
        return PublicationRule(
            kinds=frozenset(self.kinds),
            locations=frozenset(self.locations),
            tags=frozenset(self.tags),
            excluded_tags=frozenset(self.excluded_tags),
            buffers=dict(self.buffers),
            minimums=dict(self.minimums),
        )

    @classmethod
    def of(cls, rule: PublicationRule) -> PublicationBody:
        return cls(
            kinds=sorted(rule.kinds),
            locations=sorted(rule.locations),
            tags=sorted(rule.tags),
            excluded_tags=sorted(rule.excluded_tags),
            buffers=dict(rule.buffers),
            minimums=dict(rule.minimums),
        )


class ChannelBody(Body):
    code: Code
    name: Name
    publication: PublicationBody


class LocationAvailabilityBody(BaseModel):
    location: str
    kind: LocationKind
    atp: int
    published: int


class AvailabilityBody(BaseModel):
    sku: str
    channel: str
    quantity: int
    locations: list[LocationAvailabilityBody] | None = None

    @classmethod
    def of(cls, availability: Availability, *, detail: bool) -> AvailabilityBody:
        return cls(
            sku=availability.sku,
            channel=availability.channel,
            quantity=availability.quantity,
            locations=[
                LocationAvailabilityBody(
                    location=line.location, kind=line.kind, atp=line.atp, published=line.published
                )
                for line in availability.locations
            ]
            if detail and availability.locations is not None
            else None,
        )


class AvailabilityQuery(Body):
    skus: list[Code] = Field(min_length=1, max_length=MAX_AVAILABILITY_SKUS)
    locations: bool = Field(False, description="Include the per-location breakdown.")


class AvailabilityList(BaseModel):
    items: list[AvailabilityBody]


class ChangesBody(BaseModel):
    items: list[AvailabilityBody]
    next_cursor: str
    more: bool = Field(description="True when another page is waiting right now.")
