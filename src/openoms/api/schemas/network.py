"""Locations."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, StrictInt, field_validator, model_validator

from openoms.api.schemas.common import Body, Code, Currency, Money, Name, Tag, Text
from openoms.domain.network import (
    Capability,
    DayException,
    GeoPoint,
    Location,
    LocationKind,
    OpeningHours,
    TimeRange,
)
from openoms.domain.reservations import DEFAULT_HOLDING_HOURS

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class TimeRangeBody(Body):
    opens: time
    closes: time

    @model_validator(mode="after")
    def closes_after_opens(self) -> TimeRangeBody:
        if self.closes <= self.opens:
            raise ValueError("closes must be after opens")
        return self


class DayExceptionBody(Body):
    day: date
    ranges: list[TimeRangeBody] = Field(default_factory=list, max_length=4)


class OpeningHoursBody(Body):
    weekly: dict[Weekday, Annotated[list[TimeRangeBody], Field(max_length=4)]] = Field(
        default_factory=dict
    )
    exceptions: list[DayExceptionBody] = Field(default_factory=list, max_length=366)

    def to_domain(self) -> OpeningHours:
        return OpeningHours(
            weekly={
                day: tuple(TimeRange(r.opens, r.closes) for r in ranges)
                for day, ranges in self.weekly.items()
            },
            exceptions=tuple(
                DayException(e.day, tuple(TimeRange(r.opens, r.closes) for r in e.ranges))
                for e in self.exceptions
            ),
        )

    @classmethod
    def of(cls, hours: OpeningHours) -> OpeningHoursBody:
        return cls(
            weekly={
                day: [TimeRangeBody(opens=r.opens, closes=r.closes) for r in ranges]
                for day, ranges in hours.weekly.items()
            },
            exceptions=[
                DayExceptionBody(
                    day=e.day,
                    ranges=[TimeRangeBody(opens=r.opens, closes=r.closes) for r in e.ranges],
                )
                for e in hours.exceptions
            ],
        )


class LocationBody(Body):
    code: Code
    name: Name
    kind: LocationKind
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    timezone: str = "Europe/Paris"
    address: Text = ""
    city: Text = ""
    postal_code: Annotated[str, Field(max_length=20, pattern=r"^[A-Za-z0-9 \-]*$")] = ""
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "FR"
    opening_hours: OpeningHoursBody = Field(default_factory=OpeningHoursBody)
    capabilities: list[Capability] = Field(default_factory=list)
    daily_capacity: Annotated[StrictInt, Field(ge=0, le=10_000_000)] = 0
    preparation_minutes: Annotated[StrictInt, Field(ge=0, le=10_080)] = 0
    handling_cost: Money = 0
    currency: Currency = "EUR"
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    active: bool = True
    reservation_hours: Annotated[
        StrictInt,
        Field(ge=1, le=24 * 30, description="How long an e-reservation keeps its units (hours)."),
    ] = DEFAULT_HOLDING_HOURS

    @field_validator("timezone")
    @classmethod
    def known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    def to_domain(self) -> Location:
        return Location(
            code=self.code,
            name=self.name,
            kind=self.kind,
            point=GeoPoint(self.latitude, self.longitude),
            timezone=self.timezone,
            address=self.address,
            city=self.city,
            postal_code=self.postal_code,
            country=self.country,
            opening_hours=self.opening_hours.to_domain(),
            capabilities=frozenset(self.capabilities),
            daily_capacity=self.daily_capacity,
            preparation_minutes=self.preparation_minutes,
            handling_cost=self.handling_cost,
            currency=self.currency,
            tags=frozenset(self.tags),
            active=self.active,
            reservation_hours=self.reservation_hours,
        )

    @classmethod
    def of(cls, location: Location) -> LocationBody:
        return cls(
            code=location.code,
            name=location.name,
            kind=location.kind,
            latitude=location.point.latitude,
            longitude=location.point.longitude,
            timezone=location.timezone,
            address=location.address,
            city=location.city,
            postal_code=location.postal_code,
            country=location.country,
            opening_hours=OpeningHoursBody.of(location.opening_hours),
            capabilities=sorted(location.capabilities),
            daily_capacity=location.daily_capacity,
            preparation_minutes=location.preparation_minutes,
            handling_cost=location.handling_cost,
            currency=location.currency,
            tags=sorted(location.tags),
            active=location.active,
            reservation_hours=location.reservation_hours,
        )
