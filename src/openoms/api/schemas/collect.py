"""Click & collect: a collect order as the store app shows it (its deadlines and how long it has
waited), the handover, the transfer receipt, a store's settings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictInt, StringConstraints

from openoms.api.schemas.common import Body, Code
from openoms.api.schemas.fulfilments import ParcelBody
from openoms.domain.collect import CODE_LENGTH, CollectSettings, UncollectedPolicy
from openoms.services.collect import Handover
from openoms.services.collect_orders import CollectOrderView, TransferView
from openoms.services.fulfilment import Parcel

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class TransferRequest(Body):
    parcels: list[ParcelBody] = Field(
        min_length=1,
        max_length=50,
        description="The parcels sent to the pickup store; the first one's carrier service"
        " gives the transfer's latest arrival day.",
    )

    def to_parcels(self) -> list[Parcel]:
        return [parcel.to_parcel() for parcel in self.parcels]


class ReceiveRequest(Body):
    tracking_number: Code | None = Field(
        default=None, description="The parcel scanned: it must be one of this transfer's."
    )


class HandoverRequest(Body):
    code: Annotated[str, StringConstraints(min_length=1, max_length=2 * CODE_LENGTH)] | None = (
        Field(default=None, description="The customer's pickup code (case, spaces, dashes free).")
    )
    customer_name: Name | None = Field(
        default=None,
        description="Instead of the code: the customer's name, as on the order, checked by"
        " the associate against an identity document.",
    )
    associate: Name | None = Field(
        default=None, description="Who hands over (the store app's signed-in associate)."
    )

    def to_handover(self) -> Handover:
        return Handover(self.code, self.customer_name, self.associate)


class CollectSettingsBody(Body):
    holding_days: Annotated[StrictInt, Field(ge=1, le=60)] = 5
    express_minutes: Annotated[StrictInt, Field(ge=5, le=1440)] = 60
    uncollected: UncollectedPolicy = Field(
        default=UncollectedPolicy.CANCEL,
        description="cancel: release the payment authorisation; refund: ask for a refund.",
    )

    def to_settings(self) -> CollectSettings:
        return CollectSettings(self.holding_days, self.express_minutes, self.uncollected)

    @classmethod
    def of(cls, settings: CollectSettings) -> CollectSettingsBody:
        return cls(
            holding_days=settings.holding_days,
            express_minutes=settings.express_minutes,
            uncollected=settings.uncollected,
        )


class TransferOut(BaseModel):
    fulfilment_id: str
    from_location: str
    status: str
    shipped_at: datetime
    latest_arrival: date
    overdue: bool = Field(description="Not received a day of grace after its latest arrival.")
    received_at: datetime | None
    tracking_numbers: list[str]

    @classmethod
    def of(cls, t: TransferView) -> TransferOut:
        return cls(
            fulfilment_id=t.fulfilment_id,
            from_location=t.from_location,
            status=t.status.value,
            shipped_at=t.shipped_at,
            latest_arrival=t.latest_arrival,
            overdue=t.overdue,
            received_at=t.received_at,
            tracking_numbers=list(t.tracking_numbers),
        )


class CollectOrderOut(BaseModel):
    order_id: str
    store: str
    delivery_method: str
    state: str = Field(description="preparing, ready, collected, uncollected or cancelled.")
    order_status: str
    ready_by: datetime | None = Field(description="Express only: the promised deadline.")
    seconds_left: int | None = Field(
        description="Express, not ready yet: seconds to the deadline (negative: late)."
    )
    late: bool
    ready_at: datetime | None
    waiting_minutes: int | None = Field(description="Ready: how long it has waited at the store.")
    holding_until: datetime | None
    tries_left: int
    collected_at: datetime | None
    collected_by: str | None = Field(description="The id of the key that handed it over.")
    associate: str | None
    handover: str | None = Field(description="code or name.")
    created_at: datetime
    transfers: list[TransferOut]

    @classmethod
    def of(cls, p: CollectOrderView, now: datetime) -> CollectOrderOut:
        seconds_left = None
        if p.ready_by is not None and p.ready_at is None:
            seconds_left = int((p.ready_by - now).total_seconds())
        waiting = None
        if p.ready_at is not None and p.state == "ready":
            waiting = int((now - p.ready_at).total_seconds() // 60)
        return cls(
            order_id=p.order_id,
            store=p.store,
            delivery_method=p.method,
            state=p.state,
            order_status=p.order_status.value,
            ready_by=p.ready_by,
            seconds_left=seconds_left,
            late=p.late,
            ready_at=p.ready_at,
            waiting_minutes=waiting,
            holding_until=p.holding_until,
            tries_left=p.tries_left,
            collected_at=p.collected_at,
            collected_by=p.collected_by,
            associate=p.associate,
            handover=p.handover,
            created_at=p.created_at,
            transfers=[TransferOut.of(t) for t in p.transfers],
        )
