"""E-reservations at the store: the reservations to set aside (their lines, customer and
expiry), "set aside", then "convert into a sale" at the till, or cancel. The rules are
services/reservations.py's."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from openoms.api.routes.orders import decision_record
from openoms.db.repositories import skus as skus_repo
from openoms.domain.reservations import ReservationStatus
from openoms.errors import Conflict, NotFound, OmsError
from openoms.services import reservations
from openoms.services.reservations import ReservationView
from openoms.services.store_queue import location_timezone
from openoms.web.pages import (
    PREFIX,
    Form,
    Page,
    SignedIn,
    check_csrf,
    local_time,
    not_found,
    redirect,
    refused,
    render,
)

router = APIRouter(prefix=PREFIX, include_in_schema=False)

MAX_SHOWN = 100
SHOWN = (ReservationStatus.OPEN, ReservationStatus.SET_ASIDE)
"""To set aside, then to sell or cancel; the others are done with."""


@router.get("/reservations", response_class=HTMLResponse)
def reservations_page(page: SignedIn) -> Response:
    return _reservations(page)


def _reservations(page: Page, status: int = 200) -> HTMLResponse:
    location = page.user.location
    found = {
        state: reservations.list_reservations(
            page.db,
            now=page.now,
            location=None,
            status=state,
            scope=reservations.Scope(location=location),
            limit=MAX_SHOWN,
        )
        for state in SHOWN
    }
    codes = sorted({line.sku for listed in found.values() for r in listed for line in r.lines})
    with page.db.read() as conn:
        names = {code: sku.name for code, sku in skus_repo.get_many(conn, codes).items()}
    return render(
        page,
        "reservations.html",
        status,
        to_set_aside=found[ReservationStatus.OPEN],
        set_aside=found[ReservationStatus.SET_ASIDE],
        names=names,
        now=page.now,
        tz=location_timezone(page.db, location),
        local_time=local_time,
    )


Act = Callable[..., ReservationView]
ACTIONS: dict[str, tuple[Act, str]] = {
    "set-aside": (reservations.set_aside, "reservations.done_set_aside"),
    "convert": (reservations.convert, "reservations.done_converted"),
    "cancel": (reservations.cancel, "reservations.done_cancelled"),
}


@router.post("/reservations/{reservation_id}/{action}", response_class=HTMLResponse)
def act(reservation_id: str, action: str, page: SignedIn, form: Form) -> Response:
    check_csrf(page, form)
    if action not in ACTIONS:
        return not_found(page)
    service, done = ACTIONS[action]
    extra = {"record": decision_record} if action == "convert" else {}
    try:
        made = service(
            page.db,
            page.view,
            reservation_id,
            now=page.now,
            scope=reservations.Scope(location=page.user.location),
            **extra,
        )
    except NotFound:
        return not_found(page)
    except reservations.ReservationTransitionRefused:
        now = reservations.get_reservation(page.db, reservation_id, now=page.now)
        page.error("reservations.refused", status=page.t(f"reservations.{now.status.value}"))
        return _reservations(page, 409)
    except Conflict:
        page.error("error.already_done")
        return _reservations(page, 409)
    except OmsError as error:
        refused(page, error)
        return _reservations(page, error.status)
    customer = str(made.customer.get("name", ""))
    return redirect(f"{PREFIX}/reservations", (done, {"customer": customer}))
