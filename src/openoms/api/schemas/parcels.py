"""Parcels labelled at pack: what the associate says of each, and the labels made."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictInt, StringConstraints

from openoms.api.schemas.common import Body
from openoms.api.schemas.fulfilments import MAX_PARCELS, Grams
from openoms.domain.parcels import BOXES, ParcelSize
from openoms.services.parcels import Labels

Millimetres = Annotated[StrictInt, Field(ge=1, le=3000)]
BoxCode = Annotated[str, StringConstraints(min_length=1, max_length=20)]
Language = Literal["fr", "en"]


class ParcelSizeBody(Body):
    weight_g: Grams | None = Field(
        default=None,
        description="As weighed. May be left out for a single parcel: its contents and its box.",
    )
    box: BoxCode | None = Field(
        default=None, description=f"One of the stores' boxes ({', '.join(BOXES)}), or a size."
    )
    length_mm: Millimetres | None = None
    width_mm: Millimetres | None = None
    height_mm: Millimetres | None = None

    def to_size(self) -> ParcelSize:
        return ParcelSize(self.weight_g, self.box, self.length_mm, self.width_mm, self.height_mm)


class LabelRequest(Body):
    parcels: list[ParcelSizeBody] = Field(min_length=1, max_length=MAX_PARCELS)

    def to_sizes(self) -> list[ParcelSize]:
        return [parcel.to_size() for parcel in self.parcels]


class LabelledParcelOut(BaseModel):
    tracking_number: str
    carrier_service: str
    weight_g: int
    length_mm: int | None
    width_mm: int | None
    height_mm: int | None
    box: str | None
    status: str = Field(description="labelled (waiting for its pickup), then shipped, ...")
    pickup_id: str | None = Field(description="The pickup booked for it, once booked.")
    rank: int = Field(description="Parcel `rank` of the fulfilment's parcels, from 1.")
    label_url: str


class LabelsOut(BaseModel):
    fulfilment_id: str
    order_id: str
    location: str
    carrier: str
    carrier_service: str
    parcels: list[LabelledParcelOut]
    packing_slip_url: str

    @classmethod
    def of(cls, labels: Labels) -> LabelsOut:
        return cls(
            fulfilment_id=labels.fulfilment_id,
            order_id=labels.order_id,
            location=labels.location,
            carrier=labels.carrier,
            carrier_service=labels.carrier_service,
            parcels=[
                LabelledParcelOut(
                    tracking_number=p.tracking_number,
                    carrier_service=p.carrier_service,
                    weight_g=p.weight_g,
                    length_mm=p.length_mm,
                    width_mm=p.width_mm,
                    height_mm=p.height_mm,
                    box=p.box,
                    status=p.status,
                    pickup_id=p.pickup_id,
                    rank=p.rank,
                    label_url=f"/v1/parcels/{p.tracking_number}/label.pdf",
                )
                for p in labels.parcels
            ],
            packing_slip_url=f"/v1/fulfilments/{labels.fulfilment_id}/packing-slip.pdf",
        )
