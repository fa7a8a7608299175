"""Carrier pickups at the store: the parcels waiting by carrier, booking, manifest, handover."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from openoms.errors import NotFound, OmsError
from openoms.services import pickups
from openoms.services.store_queue import (
    location_timezone,
    store_caller,
)
from openoms.web.forms import Checks, FormErrors
from openoms.web.pages import (
    PREFIX,
    Form,
    Page,
    SignedIn,
    check_csrf,
    document_language,
    local_time,
    not_found,
    pdf_response,
    redirect,
    refused,
    render,
)

router = APIRouter(prefix=PREFIX, include_in_schema=False)


# --- carrier pickups ----------------------------------------------------------------------


@router.get("/pickups", response_class=HTMLResponse)
def pickups_page(page: SignedIn) -> Response:
    return _pickups(page)


def _pickups(page: Page, status: int = 200) -> HTMLResponse:
    location = page.user.location
    caller = store_caller(location)
    waiting = pickups.waiting_parcels(page.db, page.view, location, caller)
    booked = pickups.list_pickups(
        page.db,
        caller,
        location=location,
        status=pickups.PickupStatus.BOOKED,
        after=None,
        limit=MAX_PICKUPS,
    )
    in_pickup = {p.tracking_number for pickup in booked for p in pickup.parcels}
    return render(
        page,
        "pickups.html",
        status,
        waiting=waiting,
        booked=booked,
        in_pickup=in_pickup,
        tz=location_timezone(page.db, location),
        local_time=local_time,
    )


MAX_PICKUPS = 50


@router.post("/pickups/book", response_class=HTMLResponse)
def book_pickup(page: SignedIn, form: Form) -> Response:
    """By hand: the carrier's waiting parcels booked now (the worker books them itself
    before the cut-off)."""
    check_csrf(page, form)
    checks = Checks(form)
    carrier = checks.text("carrier", page.t("pickups.carrier"), max_length=64)
    try:
        checks.done()
        pickups.book_pickup(
            page.db,
            page.view,
            store_caller(page.user.location),
            location=page.user.location,
            carrier=carrier,
            now=page.now,
        )
    except FormErrors as error:
        page.problems(error.problems)
        return _pickups(page, 422)
    except pickups.NothingToCollect:
        page.error("pickups.nothing_waits", carrier=carrier)
        return _pickups(page, 409)
    except OmsError as error:
        refused(page, error)
        return _pickups(page, error.status)
    return redirect(f"{PREFIX}/pickups", ("pickups.done_booked", {}))


@router.post("/pickups/{pickup_id}/hand-over", response_class=HTMLResponse)
def hand_over(pickup_id: str, page: SignedIn, form: Form) -> Response:
    """The driver took the parcels: their fulfilments are shipped."""
    check_csrf(page, form)
    try:
        pickups.hand_over(page.db, pickup_id, store_caller(page.user.location), now=page.now)
    except NotFound:
        return not_found(page)
    except pickups.PickupNotBooked:
        page.error("error.already_done")
        return _pickups(page, 409)
    except OmsError as error:
        refused(page, error)
        return _pickups(page, error.status)
    return redirect(f"{PREFIX}/pickups", ("pickups.done_handed", {}))


@router.get("/pickups/{pickup_id}/manifest.pdf")
def manifest_pdf(pickup_id: str, page: SignedIn) -> Response:
    caller = store_caller(page.user.location)
    try:
        content = pickups.manifest_pdf(
            page.db, page.view, pickup_id, caller, language=document_language(page)
        )
    except NotFound:
        return not_found(page)
    return pdf_response(content, f"manifest-{pickup_id}.pdf")
