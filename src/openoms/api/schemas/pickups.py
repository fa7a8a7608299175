"""Carrier pickups: booking one, the pickup with its parcels, the parcels waiting."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from openoms.api.schemas.common import Body, Code, Name
from openoms.services.pickups import PickupParcel, PickupStatus, PickupView, WaitingParcels


class BookPickupRequest(Body):
    location: Code
    carrier: Name = Field(description="The carrier, as its services name it (e.g. Colis National).")


class PickupParcelOut(BaseModel):
    tracking_number: str
    carrier_service: str
    weight_g: int
    order_id: str
    fulfilment_id: str
    status: str = Field(description="labelled until the handover, then shipped and beyond.")

    @classmethod
    def of(cls, parcel: PickupParcel) -> PickupParcelOut:
        return cls(
            tracking_number=parcel.tracking_number,
            carrier_service=parcel.carrier_service,
            weight_g=parcel.weight_g,
            order_id=parcel.order_id,
            fulfilment_id=parcel.fulfilment_id,
            status=parcel.status,
        )


class PickupOut(BaseModel):
    id: str
    location: str
    carrier: str
    status: PickupStatus
    collect_at: datetime = Field(description="The carrier's collection it is booked for.")
    booked_by: str = Field(description="auto (the worker, before the cut-off), or the role.")
    booked_at: datetime
    handed_over_at: datetime | None
    version: int
    parcel_count: int
    weight_g: int
    parcels: list[PickupParcelOut]
    manifest_url: str

    @classmethod
    def of(cls, pickup: PickupView) -> PickupOut:
        return cls(
            id=pickup.id,
            location=pickup.location,
            carrier=pickup.carrier,
            status=pickup.status,
            collect_at=pickup.collect_at,
            booked_by=pickup.booked_by,
            booked_at=pickup.booked_at,
            handed_over_at=pickup.handed_over_at,
            version=pickup.version,
            parcel_count=len(pickup.parcels),
            weight_g=pickup.weight_g,
            parcels=[PickupParcelOut.of(p) for p in pickup.parcels],
            manifest_url=f"/v1/pickups/{pickup.id}/manifest.pdf",
        )


class WaitingOut(BaseModel):
    carrier: str
    parcels: list[PickupParcelOut]
    pickup_ids: list[str] = Field(description="The booked pickups they are in; empty: not yet.")

    @classmethod
    def of(cls, waiting: WaitingParcels) -> WaitingOut:
        return cls(
            carrier=waiting.carrier,
            parcels=[PickupParcelOut.of(p) for p in waiting.parcels],
            pickup_ids=list(waiting.pickup_ids),
        )
