"""Fulfilments: the bodies of their transitions, the fulfilment as a store sees it, and the
carriers' tracking events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, StrictInt

from openoms.api.schemas.common import Body, Code, Quantity
from openoms.api.schemas.orders import AllocationBody, FulfilmentBody
from openoms.services.fulfilment import (
    FulfilmentDetail,
    Parcel,
    ParcelView,
    RejectReason,
    TrackingStatus,
)
from openoms.services.tracking import TrackingEvent, TrackingReport

MAX_PARCELS = 50
MAX_TRACKING_EVENTS = 1000
Grams = Annotated[StrictInt, Field(ge=1, le=1_000_000)]


class PickRequest(Body):
    picked: dict[Code, Quantity] | None = Field(
        default=None,
        description="Units picked per line id, when fewer than asked; a line not named was"
        " picked whole. The missing units are sourced again elsewhere.",
    )


class ParcelBody(Body):
    tracking_number: Code
    carrier_service: Code
    weight_g: Grams

    def to_parcel(self) -> Parcel:
        return Parcel(self.tracking_number, self.carrier_service, self.weight_g)


class ShipRequest(Body):
    parcels: list[ParcelBody] = Field(min_length=1, max_length=MAX_PARCELS)

    def to_parcels(self) -> list[Parcel]:
        return [parcel.to_parcel() for parcel in self.parcels]


class RejectRequest(Body):
    reason: RejectReason = Field(
        description="out_of_stock: on_hand becomes what was `found`; damaged: the units are"
        " written off; no_capacity: no stock change, the store takes no new offer today."
    )
    found: dict[Code, Quantity] | None = Field(
        default=None, description="out_of_stock only: units found on the shelf, per sku."
    )


class ParcelOut(BaseModel):
    tracking_number: str
    carrier_service: str
    weight_g: int
    status: str = Field(
        description="labelled (waiting for its pickup), shipped, in_transit, exception or"
        " delivered; void: labelled, its fulfilment cancelled before the handover."
    )
    status_at: datetime

    @classmethod
    def of(cls, parcel: ParcelView) -> ParcelOut:
        return cls(
            tracking_number=parcel.tracking_number,
            carrier_service=parcel.carrier_service,
            weight_g=parcel.weight_g,
            status=parcel.status,
            status_at=parcel.status_at,
        )


class OfferOut(BaseModel):
    wave: int = Field(description="1 for the first stores offered, then one more per timeout.")
    locations: list[str] = Field(description="The stores this wave is offered to.")
    expires_at: datetime
    seconds_left: int = Field(description="Until the offer goes to the next stores.")


class FulfilmentOut(FulfilmentBody):
    order_id: str
    order_status: str = Field(description="The order's status, derived from its fulfilments.")
    parcels: list[ParcelOut]
    offer: OfferOut | None = Field(
        default=None,
        description="While offered to stores (broadcast): the open wave; any of its stores may"
        " claim, the first claim wins.",
    )

    @classmethod
    def of_detail(cls, detail: FulfilmentDetail, now: datetime | None = None) -> FulfilmentOut:
        f = detail.fulfilment
        offer = None
        if detail.offer is not None:
            left = (detail.offer.expires_at - now).total_seconds() if now is not None else 0
            offer = OfferOut(
                wave=detail.offer.wave,
                locations=list(detail.offer.locations),
                expires_at=detail.offer.expires_at,
                seconds_left=max(0, int(left)),
            )
        return cls(
            id=f.id,
            location=f.location,
            status=f.status.value,
            rule=f.rule,
            version=f.version,
            created_at=f.created_at,
            updated_at=f.updated_at,
            allocations=[
                AllocationBody(line_id=a.line_id, sku=a.sku, units=a.units) for a in f.allocations
            ],
            order_id=detail.order_id,
            order_status=detail.order_status.value,
            parcels=[ParcelOut.of(p) for p in detail.parcels],
            offer=offer,
        )


class TrackingEventBody(Body):
    tracking_number: Code
    status: TrackingStatus
    at: AwareDatetime

    def to_event(self) -> TrackingEvent:
        return TrackingEvent(self.tracking_number, self.status, self.at)


class TrackingBatch(Body):
    events: list[TrackingEventBody] = Field(min_length=1, max_length=MAX_TRACKING_EVENTS)

    def to_events(self) -> list[TrackingEvent]:
        return [event.to_event() for event in self.events]


class TrackingReportBody(BaseModel):
    received: int
    applied: int
    replayed: int = Field(description="Received before: a replay changes nothing.")
    delivered: list[str] = Field(description="Fulfilments these events moved to delivered.")

    @classmethod
    def of(cls, report: TrackingReport) -> TrackingReportBody:
        return cls(
            received=report.received,
            applied=report.applied,
            replayed=report.replayed,
            delivered=list(report.delivered),
        )
