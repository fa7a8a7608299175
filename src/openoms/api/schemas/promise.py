"""The delivery promise: a basket (or one sku) and a destination in, the delivery options out."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, Field, model_validator

from openoms.api.schemas.common import Body, Code, Name
from openoms.api.schemas.sourcing import MAX_LINES, LineBody, PlanBody, plan_document
from openoms.domain.network import GeoPoint
from openoms.domain.profiles import DeliveryMethod
from openoms.domain.shipping import DeliveryWindow, Destination
from openoms.services.promise import (
    DeliveryOption,
    ProductPromise,
    Promise,
    Unavailable,
    place_city,
)
from openoms.services.sourcing import RequestedLine

MAX_PICKUP_STORES = 20


class PromiseDestinationBody(Body):
    """Coordinates, or a city the demo geography knows (then the country is France)."""

    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    city: Name | None = None
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "FR"

    @model_validator(mode="after")
    def coordinates_or_city(self) -> Self:
        has_point = self.latitude is not None and self.longitude is not None
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        if has_point == (self.city is not None):
            raise ValueError("give either latitude and longitude, or a city")
        return self

    def to_domain(self) -> Destination:
        if self.latitude is not None and self.longitude is not None:
            return Destination(GeoPoint(self.latitude, self.longitude), self.country)
        assert self.city is not None
        return place_city(self.city)


class PromiseRequest(Body):
    channel: Code
    lines: list[LineBody] = Field(min_length=1, max_length=MAX_LINES)
    destination: PromiseDestinationBody
    pickup_store: Code | None = Field(
        default=None, description="Collect there; default: the nearest click & collect stores."
    )
    nearest: int = Field(default=3, ge=1, le=MAX_PICKUP_STORES)

    def requested_lines(self) -> list[RequestedLine]:
        return [RequestedLine(line.line_id, line.sku, line.quantity) for line in self.lines]


class ProductPromiseRequest(Body):
    channel: Code
    sku: Code
    destination: PromiseDestinationBody


class WindowBody(BaseModel):
    earliest: date
    latest: date


class OptionBody(BaseModel):
    method: DeliveryMethod
    pickup_store: str | None
    price: int = Field(description="What the customer pays, in minor units of `currency`.")
    currency: str
    window: WindowBody | None = Field(description="Delivery days, both included.")
    ready_at: datetime | None = Field(description="When the order can be collected.")
    carbon_g: int
    parcels: int
    plan: PlanBody
    profile: str | None
    rule: str | None


class UnavailableBody(BaseModel):
    method: DeliveryMethod
    pickup_store: str | None
    reason: str


class PromiseBody(BaseModel):
    basket_amount: int
    currency: str
    options: list[OptionBody]
    unavailable: list[UnavailableBody] = Field(description="Methods not offered, and why.")


class ProductPromiseBody(BaseModel):
    """ "Delivered between `window.earliest` and `window.latest` if ordered within
    `minutes_left`"; `option` is null when no home delivery is possible."""

    sku: str
    option: OptionBody | None
    location: str | None = Field(description="Where the parcel leaves from.")
    cut_off: datetime | None = Field(description="The carrier's cut-off on the departure day.")
    order_by: datetime | None = Field(description="The last minute an order makes the departure.")
    minutes_left: int | None
    unavailable: list[UnavailableBody]


# The documents of these models, as plain dicts: the promise routes write them out with orjson,
# not validated again (tests/unit/test_promise_documents.py holds them to the models).


def window_document(window: DeliveryWindow | None) -> dict[str, Any] | None:
    return {"earliest": window.earliest, "latest": window.latest} if window else None


def option_document(option: DeliveryOption) -> dict[str, Any]:
    return {
        "method": option.method.value,
        "pickup_store": option.pickup_store,
        "price": option.price,
        "currency": option.currency,
        "window": window_document(option.window),
        "ready_at": option.ready_at,
        "carbon_g": option.carbon_g,
        "parcels": option.parcels,
        "plan": plan_document(option.plan),
        "profile": option.profile,
        "rule": option.rule,
    }


def unavailable_documents(unavailable: tuple[Unavailable, ...]) -> list[dict[str, Any]]:
    return [
        {"method": u.method.value, "pickup_store": u.pickup_store, "reason": u.reason}
        for u in unavailable
    ]


def promise_document(result: Promise) -> dict[str, Any]:
    return {
        "basket_amount": result.basket_amount,
        "currency": result.currency,
        "options": [option_document(o) for o in result.options],
        "unavailable": unavailable_documents(result.unavailable),
    }


def product_promise_document(result: ProductPromise) -> dict[str, Any]:
    left = result.time_left
    return {
        "sku": result.sku,
        "option": option_document(result.option) if result.option else None,
        "location": result.location,
        "cut_off": result.cut_off,
        "order_by": result.order_by,
        "minutes_left": int(left.total_seconds() // 60) if left is not None else None,
        "unavailable": unavailable_documents(result.unavailable),
    }
