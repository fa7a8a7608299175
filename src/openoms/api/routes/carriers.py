"""/v1/carriers: what carriers tell us about the parcels they carry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from openoms.api.auth import allow
from openoms.api.deps import DatabaseDep, NowDep
from openoms.api.schemas.fulfilments import TrackingBatch, TrackingReportBody
from openoms.services import tracking as service
from openoms.services.keys import Principal, Role

router = APIRouter(prefix="/v1/carriers", tags=["carriers"])


@router.post(
    "/tracking",
    responses={404: {"description": "Unknown parcels, all named; nothing was applied."}},
)
def post_tracking(
    body: TrackingBatch,
    _: Annotated[Principal, Depends(allow(Role.CARRIER))],
    db: DatabaseDep,
    now: NowDep,
) -> TrackingReportBody:
    """A batch of tracking events. A fulfilment whose parcels are all `delivered` becomes
    delivered. An unknown tracking number refuses the whole batch with 404 naming every
    unknown one; an event received before (same parcel, status and time) changes nothing."""
    report = service.record_tracking(db, body.to_events(), now=now)
    return TrackingReportBody.of(report)
