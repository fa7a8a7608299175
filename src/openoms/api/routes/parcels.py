"""Parcels labelled at pack: POST /v1/fulfilments/{id}/parcels, and their documents as PDF.

A store key acts on its own location's fulfilments and parcels only (another's is not found).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from openoms.api.auth import allow
from openoms.api.deps import CodePath, DatabaseDep, NowDep, SourcingViewDep
from openoms.api.routes.fulfilments import caller_of
from openoms.api.schemas.parcels import LabelRequest, LabelsOut, Language
from openoms.services import parcels as service
from openoms.services.keys import Principal, Role

router = APIRouter(tags=["parcels"])

Store = Annotated[Principal, Depends(allow(Role.STORE))]
LanguageQuery = Annotated[Language, Query(description="fr or en.")]
PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The document, as PDF."}
}


def pdf_response(content: bytes, filename: str) -> Response:
    disposition = f'inline; filename="{filename}"'
    return Response(
        content, media_type="application/pdf", headers={"Content-Disposition": disposition}
    )


@router.post("/v1/fulfilments/{fulfilment_id}/parcels")
def label_parcels(
    fulfilment_id: CodePath,
    body: LabelRequest,
    *,
    caller: Store,
    db: DatabaseDep,
    view: SourcingViewDep,
    now: NowDep,
) -> LabelsOut:
    """A packed fulfilment's parcels labelled: each a box or a size, and its weight; the carrier
    service is the plan's (the cheapest of the method's level that takes the heaviest parcel);
    the OMS draws the tracking numbers. The parcels wait for their pickup, booked before the
    carrier's cut-off. The same parcels again answer the same labels; others are a 409."""
    labels = service.label_parcels(
        db, view, fulfilment_id, caller_of(caller), parcels=body.to_sizes(), now=now
    )
    return LabelsOut.of(labels)


@router.get("/v1/parcels/{tracking_number}/label.pdf", responses=PDF, response_class=Response)
def label_pdf(
    tracking_number: CodePath,
    caller: Store,
    db: DatabaseDep,
    view: SourcingViewDep,
    lang: LanguageQuery = "fr",
) -> Response:
    """The shipping label, 100 x 150 mm, the tracking number as a Code 128 barcode."""
    pdf = service.label_pdf(db, view, tracking_number, caller_of(caller), language=lang)
    return pdf_response(pdf, f"label-{tracking_number}.pdf")


@router.get(
    "/v1/fulfilments/{fulfilment_id}/packing-slip.pdf", responses=PDF, response_class=Response
)
def packing_slip_pdf(
    fulfilment_id: CodePath,
    caller: Store,
    db: DatabaseDep,
    view: SourcingViewDep,
    lang: LanguageQuery = "fr",
) -> Response:
    """The lines as packed (A4), once the fulfilment is packed."""
    pdf = service.packing_slip_pdf(db, view, fulfilment_id, caller_of(caller), language=lang)
    return pdf_response(pdf, f"packing-slip-{fulfilment_id}.pdf")
