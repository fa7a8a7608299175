"""/v1/pickups: carrier collections at a location, their manifests and their handover.

A store key sees and acts on its own location's pickups only (another's is not found); a carrier
key reads pickups (its own carrier's only, when the key is scoped to one). Handing a pickup over
twice is a 409 `pickup_not_booked` and changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from openoms.api.auth import allow
from openoms.api.deps import CodePath, CursorQuery, DatabaseDep, LimitQuery, NowDep, SourcingViewDep
from openoms.api.routes.fulfilments import caller_of
from openoms.api.routes.parcels import PDF, LanguageQuery, pdf_response
from openoms.api.schemas.common import Page
from openoms.api.schemas.pickups import BookPickupRequest, PickupOut, WaitingOut
from openoms.services import pickups as service
from openoms.services.keys import Principal, Role
from openoms.services.pickups import PickupStatus

router = APIRouter(prefix="/v1/pickups", tags=["pickups"])

Store = Annotated[Principal, Depends(allow(Role.STORE))]
Reader = Annotated[Principal, Depends(allow(Role.STORE, Role.CARRIER))]
LocationQuery = Annotated[str | None, Query(max_length=64)]


def carrier_of(principal: Principal) -> str | None:
    return principal.carrier if principal.role is Role.CARRIER else None


@router.get("")
def list_pickups(
    caller: Reader,
    db: DatabaseDep,
    *,
    location: LocationQuery = None,
    status: PickupStatus | None = None,
    after: CursorQuery = None,
    limit: LimitQuery = 100,
) -> Page[PickupOut]:
    """Oldest first; a store key: its own location's; a carrier key: its carrier's (if scoped)."""
    found = service.list_pickups(
        db,
        caller_of(caller),
        location=location,
        status=status,
        after=after,
        limit=limit,
        carrier=carrier_of(caller),
    )
    return Page[PickupOut].of([PickupOut.of(p) for p in found], limit, lambda p: p.id)


@router.post("")
def book_pickup(
    body: BookPickupRequest,
    *,
    caller: Store,
    db: DatabaseDep,
    view: SourcingViewDep,
    now: NowDep,
) -> PickupOut:
    """By hand: the carrier's parcels waiting at the location booked for its next collection,
    or added to its pickup already booked (409 `nothing_to_collect` when none waits)."""
    pickup = service.book_pickup(
        db, view, caller_of(caller), location=body.location, carrier=body.carrier, now=now
    )
    return PickupOut.of(pickup)


@router.get("/waiting")
def waiting_parcels(
    caller: Store,
    db: DatabaseDep,
    view: SourcingViewDep,
    location: Annotated[str, Query(min_length=1, max_length=64)],
) -> list[WaitingOut]:
    """The parcels labelled at the location and not handed over yet, by carrier."""
    found = service.waiting_parcels(db, view, location, caller_of(caller))
    return [WaitingOut.of(w) for w in found]


@router.get("/{pickup_id}")
def get_pickup(pickup_id: CodePath, caller: Reader, db: DatabaseDep) -> PickupOut:
    found = service.get_pickup(db, pickup_id, caller_of(caller), carrier=carrier_of(caller))
    return PickupOut.of(found)


@router.get("/{pickup_id}/manifest.pdf", responses=PDF, response_class=Response)
def manifest_pdf(
    pickup_id: CodePath,
    caller: Reader,
    db: DatabaseDep,
    view: SourcingViewDep,
    lang: LanguageQuery = "fr",
) -> Response:
    """The parcels handed over (or to hand over), their totals, and boxes to sign."""
    pdf = service.manifest_pdf(
        db, view, pickup_id, caller_of(caller), carrier=carrier_of(caller), language=lang
    )
    return pdf_response(pdf, f"manifest-{pickup_id}.pdf")


@router.post("/{pickup_id}/handover")
def hand_over(pickup_id: CodePath, caller: Store, db: DatabaseDep, now: NowDep) -> PickupOut:
    """The driver took the parcels: every fulfilment of the pickup is shipped (its units leave
    the location's stock). A second handover is a 409 and changes nothing."""
    return PickupOut.of(service.hand_over(db, pickup_id, caller_of(caller), now=now))
