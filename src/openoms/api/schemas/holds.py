"""Holds: a basket's units kept during payment, and the hold as the OMS answers it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from openoms.api.schemas.common import Body, Code
from openoms.api.schemas.promise import PromiseDestinationBody
from openoms.api.schemas.sourcing import MAX_LINES, LineBody
from openoms.domain.profiles import DeliveryMethod
from openoms.services.holds import DEFAULT_MINUTES, MAX_MINUTES, HoldRequest, HoldView
from openoms.services.sourcing import RequestedLine


class HoldRequestBody(Body):
    channel: Code
    lines: list[LineBody] = Field(min_length=1, max_length=MAX_LINES)
    delivery_method: DeliveryMethod
    destination: PromiseDestinationBody | None = None
    pickup_store: Code | None = None
    minutes: int = Field(default=DEFAULT_MINUTES, ge=1, le=MAX_MINUTES)

    def to_request(self) -> HoldRequest:
        return HoldRequest(
            channel=self.channel,
            lines=tuple(RequestedLine(ln.line_id, ln.sku, ln.quantity) for ln in self.lines),
            method=self.delivery_method,
            destination=self.destination.to_domain() if self.destination else None,
            pickup_store=self.pickup_store,
            minutes=self.minutes,
        )


class HeldLineBody(BaseModel):
    line_id: str
    sku: str
    location: str
    units: int


class HoldBody(BaseModel):
    id: str
    channel: str
    state: str = Field(description="active, expired, converted or released.")
    created_at: datetime
    expires_at: datetime
    order_id: str | None
    lines: list[HeldLineBody]

    @classmethod
    def of(cls, hold: HoldView) -> HoldBody:
        return cls(
            id=hold.id,
            channel=hold.channel,
            state=hold.state,
            created_at=hold.created_at,
            expires_at=hold.expires_at,
            order_id=hold.order_id,
            lines=[
                HeldLineBody(line_id=ln.line_id, sku=ln.sku, location=ln.location, units=ln.units)
                for ln in hold.lines
            ],
        )
