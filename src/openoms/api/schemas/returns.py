"""Returns: what is sent to ask one, what the receiving location found, and the return."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from openoms.api.schemas.common import Body, Code, Text
from openoms.api.schemas.sourcing import MAX_LINES, Units
from openoms.domain.returns import (
    Grade,
    InspectedUnits,
    Inspection,
    ReturnMethod,
    ReturnReason,
    ReturnStatus,
)
from openoms.services.ordering import request_hash
from openoms.services.returns import Receipt, RefundView, ReturnRequest, ReturnView


class ReturnLineBody(Body):
    line_id: Code
    units: Units


def _unique_lines(lines: list[ReturnLineBody]) -> list[ReturnLineBody]:
    seen: set[str] = set()
    for line in lines:
        if line.line_id in seen:
            raise ValueError(f"line_id {line.line_id!r} is given twice")
        seen.add(line.line_id)
    return lines


class ReturnRequestBody(Body):
    order_id: Code
    method: ReturnMethod
    location: Code | None = Field(
        default=None, description="in_store: the location (capability `returns`) it is brought to."
    )
    reason: ReturnReason
    note: Text = ""
    lines: list[ReturnLineBody] = Field(min_length=1, max_length=MAX_LINES)

    _unique = field_validator("lines")(_unique_lines)

    def to_request(self, idempotency_key: str) -> ReturnRequest:
        return ReturnRequest(
            order_id=self.order_id,
            method=self.method,
            location=self.location,
            reason=self.reason,
            note=self.note,
            lines=tuple((line.line_id, line.units) for line in self.lines),
            idempotency_key=idempotency_key,
            request_hash=request_hash(self.model_dump(mode="json")),
        )


class InspectedBody(Body):
    line_id: Code
    outcome: Inspection
    units: Units
    grade: Grade | None = Field(default=None, description="For second_hand units, and only them.")

    @model_validator(mode="after")
    def graded_when_second_hand(self) -> InspectedBody:
        if (self.outcome is Inspection.SECOND_HAND) != (self.grade is not None):
            raise ValueError("grade is given for second_hand units, and only for them")
        return self


class ReceiptBody(Body):
    location: Code = Field(description="Where the return arrived (capability `returns`).")
    items: list[InspectedBody] = Field(min_length=1, max_length=4 * MAX_LINES)

    def to_receipt(self) -> Receipt:
        return Receipt(
            location=self.location,
            items=tuple(
                InspectedUnits(item.line_id, item.outcome, item.units, item.grade)
                for item in self.items
            ),
        )


class ReturnedLineBody(BaseModel):
    line_id: str
    sku: str
    units: int
    unit_price: int


class InspectedItemBody(BaseModel):
    line_id: str
    outcome: Inspection
    grade: Grade | None
    units: int
    location: str = Field(description="Where the units went: the receiving location or the hub.")


class RefundBody(BaseModel):
    amount: int = Field(description="Minor units: what was paid for the units, less the fee.")
    currency: str
    fee: int

    @classmethod
    def of(cls, paid: RefundView) -> RefundBody:
        return cls(amount=paid.amount, currency=paid.currency, fee=paid.fee)


class ReturnBody(BaseModel):
    id: str
    order_id: str
    channel: str
    method: ReturnMethod
    location: str | None
    reason: ReturnReason
    note: str
    status: ReturnStatus
    created_at: datetime
    received_at: datetime | None
    received_location: str | None
    lines: list[ReturnedLineBody]
    items: list[InspectedItemBody]
    refund: RefundBody | None = Field(description="Due once the return is received.")

    @classmethod
    def of(cls, ret: ReturnView) -> ReturnBody:
        fields: dict[str, Any] = {
            "id": ret.id,
            "order_id": ret.order_id,
            "channel": ret.channel,
            "method": ret.method,
            "location": ret.location,
            "reason": ret.reason,
            "note": ret.note,
            "status": ret.status,
            "created_at": ret.created_at,
            "received_at": ret.received_at,
            "received_location": ret.received_location,
            "lines": [
                ReturnedLineBody(
                    line_id=ln.line_id, sku=ln.sku, units=ln.units, unit_price=ln.unit_price
                )
                for ln in ret.lines
            ],
            "items": [
                InspectedItemBody(
                    line_id=i.line_id,
                    outcome=i.outcome,
                    grade=i.grade,
                    units=i.units,
                    location=i.location,
                )
                for i in ret.items
            ],
            "refund": RefundBody.of(ret.refund) if ret.refund else None,
        }
        return cls(**fields)
