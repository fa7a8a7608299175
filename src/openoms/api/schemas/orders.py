"""Orders: what a channel sends to place one, and the order as the OMS keeps it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, Field, StringConstraints

from openoms.api.schemas.common import Body, Code, Currency, Money, Name
from openoms.api.schemas.promise import PromiseDestinationBody
from openoms.api.schemas.sourcing import MAX_LINES, LineBody, Units
from openoms.domain.profiles import DeliveryMethod
from openoms.errors import FieldError, InvalidInput
from openoms.services.events import Event, EventPage
from openoms.services.ordering import (
    CancelLine,
    Customer,
    DecisionView,
    FulfilmentView,
    LineView,
    OrderRequest,
    OrderSummary,
    OrderView,
    request_hash,
)
from openoms.services.sourcing import RequestedLine

Email = Annotated[
    str,
    StringConstraints(
        min_length=3, max_length=254, pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$"
    ),
]
IdempotencyKey = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")
]
"""Printable ASCII without spaces: a UUID is the usual choice."""


class CustomerBody(Body):
    name: Name
    email: Email


class PromiseChoiceBody(Body):
    """The delivery option the customer chose, as the promise gave it; kept with the order."""

    method: DeliveryMethod
    price: Money = Field(description="What the customer pays for delivery, in minor units.")
    currency: Currency
    pickup_store: Code | None = None
    earliest: date | None = None
    latest: date | None = None
    ready_at: datetime | None = None


class OrderRequestBody(Body):
    channel: Code
    lines: list[LineBody] = Field(min_length=1, max_length=MAX_LINES)
    customer: CustomerBody
    delivery_method: DeliveryMethod
    destination: PromiseDestinationBody | None = Field(
        default=None, description="For home delivery: coordinates or a city."
    )
    pickup_store: Code | None = Field(
        default=None, description="For click & collect and express collect."
    )
    promise_option: PromiseChoiceBody | None = None
    hold_id: Code | None = Field(
        default=None, description="A hold of the same channel and lines: the order takes its units."
    )

    def to_request(self, idempotency_key: str) -> OrderRequest:
        option = self.promise_option
        if option is not None and option.method is not self.delivery_method:
            chosen, ordered = option.method.value, self.delivery_method.value
            message = f"the option chosen is {chosen}, the order {ordered}"
            raise InvalidInput([FieldError("promise_option.method", message, "mismatch")])
        return OrderRequest(
            channel=self.channel,
            lines=tuple(
                RequestedLine(line.line_id, line.sku, line.quantity) for line in self.lines
            ),
            customer=Customer(self.customer.name, self.customer.email),
            method=self.delivery_method,
            destination=self.destination.to_domain() if self.destination else None,
            pickup_store=self.pickup_store,
            promise_option=option.model_dump(mode="json") if option else None,
            idempotency_key=idempotency_key,
            # Without a hold, the body hashes as it did before holds (keys placed then still match).
            request_hash=request_hash(
                self.model_dump(mode="json", exclude={"hold_id"} if self.hold_id is None else None)
            ),
            hold_id=self.hold_id,
        )


class CancelLineBody(Body):
    line_id: Code
    units: Units


class CancelRequest(Body):
    lines: list[CancelLineBody] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_LINES,
        description="Units of lines to cancel; absent: the whole order.",
    )

    def to_lines(self) -> list[CancelLine] | None:
        if self.lines is None:
            return None
        return [CancelLine(line.line_id, line.units) for line in self.lines]


class BucketsBody(BaseModel):
    """Where each unit of the line stands; the buckets sum to the quantity."""

    unallocated: int
    allocated: dict[str, int] = Field(description="Units held, by location.")
    shipped: int
    delivered: int
    collected: int
    cancelled: int
    returned: int


class LineOut(BaseModel):
    line_id: str
    sku: str
    quantity: int
    unit_price: int
    currency: str
    unallocated_reason: str | None = Field(
        description="Why units wait for stock: no_stock, no_plan or contention."
    )
    buckets: BucketsBody

    @classmethod
    def of(cls, line: LineView) -> LineOut:
        b = line.buckets
        return cls(
            line_id=line.line_id,
            sku=line.sku,
            quantity=line.quantity,
            unit_price=line.unit_price,
            currency=line.currency,
            unallocated_reason=line.unallocated_reason,
            buckets=BucketsBody(
                unallocated=b.unallocated,
                allocated=dict(b.allocated),
                shipped=b.shipped,
                delivered=b.delivered,
                collected=b.collected,
                cancelled=b.cancelled,
                returned=b.returned,
            ),
        )


class AllocationBody(BaseModel):
    line_id: str
    sku: str
    units: int


class FulfilmentBody(BaseModel):
    id: str
    location: str
    status: str
    rule: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    allocations: list[AllocationBody]

    @classmethod
    def of(cls, fulfilment: FulfilmentView) -> FulfilmentBody:
        return cls(
            id=fulfilment.id,
            location=fulfilment.location,
            status=fulfilment.status.value,
            rule=fulfilment.rule,
            version=fulfilment.version,
            created_at=fulfilment.created_at,
            updated_at=fulfilment.updated_at,
            allocations=[
                AllocationBody(line_id=a.line_id, sku=a.sku, units=a.units)
                for a in fulfilment.allocations
            ],
        )


class DecisionOut(BaseModel):
    seq: int
    outcome: str = Field(description="allocated, shortfall, no_plan, no_stock or race_lost.")
    record: dict[str, Any] = Field(description="As /v1/sourcing/plan answers it.")
    created_at: datetime

    @classmethod
    def of(cls, decision: DecisionView) -> DecisionOut:
        return cls(
            seq=decision.seq,
            outcome=decision.outcome,
            record=dict(decision.record),
            created_at=decision.created_at,
        )


class DestinationOut(BaseModel):
    latitude: float
    longitude: float
    country: str


class OrderSummaryBody(BaseModel):
    id: str
    channel: str
    delivery_method: str
    status: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, summary: OrderSummary) -> OrderSummaryBody:
        return cls(
            id=summary.id,
            channel=summary.channel,
            delivery_method=summary.delivery_method,
            status=summary.status.value,
            created_at=summary.created_at,
            updated_at=summary.updated_at,
        )


class OrderBody(OrderSummaryBody):
    """The order; `status` is derived from its fulfilments and its backorder."""

    customer: dict[str, Any]
    destination: DestinationOut | None
    pickup_store: str | None
    promise_option: dict[str, Any] | None
    lines: list[LineOut]
    fulfilments: list[FulfilmentBody]
    decisions: list[DecisionOut] = Field(description="Every sourcing of the order, in order.")

    @classmethod
    def of_order(cls, order: OrderView) -> OrderBody:
        summary = OrderSummaryBody.of(order.summary)
        point = order.destination
        return cls(
            **summary.model_dump(),
            customer=dict(order.customer),
            destination=DestinationOut(
                latitude=point.point.latitude,
                longitude=point.point.longitude,
                country=point.country,
            )
            if point
            else None,
            pickup_store=order.pickup_store,
            promise_option=dict(order.promise_option) if order.promise_option else None,
            lines=[LineOut.of(line) for line in order.lines],
            fulfilments=[FulfilmentBody.of(f) for f in order.fulfilments],
            decisions=[DecisionOut.of(d) for d in order.decisions],
        )


def order_json(order: OrderView) -> bytes:
    """`OrderBody.of_order(order)` as JSON, built from plain dicts and written by orjson: the
    same document (tests/unit/test_order_json.py), without building the models and having
    FastAPI validate them again on the way out (which a sync route does in a second worker
    thread hop). The writing itself is a small part: ~0.006 ms against ~0.03 ms for a demo
    order through the models."""
    summary = order.summary
    point = order.destination
    document = {
        "id": summary.id,
        "channel": summary.channel,
        "delivery_method": summary.delivery_method,
        "status": summary.status.value,
        "created_at": summary.created_at,
        "updated_at": summary.updated_at,
        "customer": dict(order.customer),
        "destination": {
            "latitude": point.point.latitude,
            "longitude": point.point.longitude,
            "country": point.country,
        }
        if point
        else None,
        "pickup_store": order.pickup_store,
        "promise_option": dict(order.promise_option) if order.promise_option else None,
        "lines": [_line_json(line) for line in order.lines],
        "fulfilments": [_fulfilment_json(f) for f in order.fulfilments],
        "decisions": [
            {
                "seq": d.seq,
                "outcome": d.outcome,
                "record": d.record,
                "created_at": d.created_at,
            }
            for d in order.decisions
        ],
    }
    return orjson.dumps(document, option=orjson.OPT_UTC_Z)


def _line_json(line: LineView) -> dict[str, Any]:
    b = line.buckets
    return {
        "line_id": line.line_id,
        "sku": line.sku,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "currency": line.currency,
        "unallocated_reason": line.unallocated_reason,
        "buckets": {
            "unallocated": b.unallocated,
            "allocated": dict(b.allocated),
            "shipped": b.shipped,
            "delivered": b.delivered,
            "collected": b.collected,
            "cancelled": b.cancelled,
            "returned": b.returned,
        },
    }


def _fulfilment_json(fulfilment: FulfilmentView) -> dict[str, Any]:
    return {
        "id": fulfilment.id,
        "location": fulfilment.location,
        "status": fulfilment.status.value,
        "rule": fulfilment.rule,
        "version": fulfilment.version,
        "created_at": fulfilment.created_at,
        "updated_at": fulfilment.updated_at,
        "allocations": [
            {"line_id": a.line_id, "sku": a.sku, "units": a.units} for a in fulfilment.allocations
        ],
    }


class EventBody(BaseModel):
    seq: int
    cursor: str = Field(description="Pass as `since` to read the events after this one.")
    type: str = Field(description="Past tense: order.placed, fulfilment.claimed, ...")
    order_id: str | None = Field(description="None for the events of a hold not converted.")
    fulfilment_id: str | None
    payload: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, event: Event) -> EventBody:
        return cls(
            seq=event.seq,
            cursor=event.cursor,
            type=event.type,
            order_id=event.order_id,
            fulfilment_id=event.fulfilment_id,
            payload=dict(event.payload),
            created_at=event.created_at,
        )


class EventPageBody(BaseModel):
    items: list[EventBody]
    next: str = Field(description="Pass as `since` for what follows; the same when none is new.")

    @classmethod
    def of(cls, page: EventPage) -> EventPageBody:
        return cls(items=[EventBody.of(e) for e in page.events], next=page.next)
