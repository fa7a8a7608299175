"""E-reservations: what a channel sends to reserve units at a store, and the reservation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from openoms.api.schemas.common import Body, Code
from openoms.api.schemas.orders import CustomerBody
from openoms.api.schemas.sourcing import MAX_LINES, LineBody
from openoms.domain.reservations import ReservationStatus
from openoms.services.ordering import request_hash
from openoms.services.reservations import ReservationRequest, ReservationView, ReservedLine


def unique_line_ids(lines: list[Any]) -> list[Any]:
    seen: set[str] = set()
    for line in lines:
        if line.line_id in seen:
            raise ValueError(f"line_id {line.line_id!r} is given twice")
        seen.add(line.line_id)
    return lines


class ReservationRequestBody(Body):
    channel: Code
    location: Code = Field(description="The store (capability `e_reservation`).")
    customer: CustomerBody
    lines: list[LineBody] = Field(min_length=1, max_length=MAX_LINES)

    _unique = field_validator("lines")(unique_line_ids)

    def to_request(self, idempotency_key: str) -> ReservationRequest:
        return ReservationRequest(
            channel=self.channel,
            location=self.location,
            customer_name=self.customer.name,
            customer_email=self.customer.email,
            lines=tuple(ReservedLine(ln.line_id, ln.sku, ln.quantity) for ln in self.lines),
            idempotency_key=idempotency_key,
            request_hash=request_hash(self.model_dump(mode="json")),
        )


class ReservedLineBody(BaseModel):
    line_id: str
    sku: str
    units: int


class ReservationBody(BaseModel):
    id: str
    channel: str
    location: str
    customer: dict[str, Any]
    status: ReservationStatus = Field(
        description="open, set_aside, converted, cancelled or expired (as of now: one past"
        " expires_at reads expired)."
    )
    created_at: datetime
    expires_at: datetime
    updated_at: datetime
    lines: list[ReservedLineBody]

    @classmethod
    def of(cls, reservation: ReservationView) -> ReservationBody:
        return cls(
            id=reservation.id,
            channel=reservation.channel,
            location=reservation.location,
            customer=reservation.customer,
            status=reservation.status,
            created_at=reservation.created_at,
            expires_at=reservation.expires_at,
            updated_at=reservation.updated_at,
            lines=[
                ReservedLineBody(line_id=ln.line_id, sku=ln.sku, units=ln.units)
                for ln in reservation.lines
            ],
        )
