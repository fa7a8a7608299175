"""Click & collect at the store: the shelf of orders waiting for collection, the transfers to
receive (by scanning a parcel), and the handover at the counter. The rules are
services/collect.py's: this module reads the forms and says the answers."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from openoms.db.repositories import collect as collect_repo
from openoms.domain.fulfilments import FulfilmentStatus
from openoms.errors import Forbidden, NotFound, OmsError
from openoms.services import collect
from openoms.services.collect_orders import CollectOrderView, get_collect_order, list_collect_orders
from openoms.services.store_queue import location_timezone, store_caller
from openoms.web.forms import Checks, FormErrors, Problem
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
MAX_CODE = 64
"""An order number, a pickup code or a tracking number: as the API takes them."""


# --- the shelf ---------------------------------------------------------------------------


@router.get("/collect", response_class=HTMLResponse)
def shelf_page(page: SignedIn) -> Response:
    return _shelf(page)


def _shelf(page: Page, status: int = 200, tracking: str = "") -> HTMLResponse:
    caller = store_caller(page.user.location)

    def of(state: str) -> list[CollectOrderView]:
        return list_collect_orders(
            page.db, caller, store=None, state=state, late=None, after=None, limit=MAX_SHOWN
        )

    preparing = of(collect_repo.PREPARING)
    incoming = [
        (order, transfer)
        for order in preparing
        for transfer in order.transfers
        if transfer.status is FulfilmentStatus.IN_TRANSFER
    ]
    return render(
        page,
        "collect.html",
        status,
        ready=of(collect_repo.READY),
        preparing=preparing,
        incoming=incoming,
        tracking=tracking,
        now=page.now,
        tz=location_timezone(page.db, page.user.location),
        local_time=local_time,
        local_moment=_local_moment,
        max_code=MAX_CODE,
    )


def _local_moment(moment: datetime | None, timezone: str) -> str:
    """A day and a time, for deadlines days away."""
    return "" if moment is None else moment.astimezone(ZoneInfo(timezone)).strftime("%d/%m %H:%M")


@router.post("/collect/receive", response_class=HTMLResponse)
def receive(page: SignedIn, form: Form) -> Response:
    """A transfer's parcel scanned at the store: its units go on the collect shelf."""
    check_csrf(page, form)
    checks = Checks(form)
    tracking = checks.text("tracking_number", page.t("collect.tracking"), max_length=MAX_CODE)
    try:
        checks.done()
        done = collect.receive_parcel(
            page.db, tracking, store_caller(page.user.location), key_id=None, now=page.now
        )
    except FormErrors as error:
        page.problems(error.problems)
        return _shelf(page, 422, tracking[:MAX_CODE])
    except NotFound:
        page.error("collect.unknown_parcel", tracking=tracking)
        return _shelf(page, 404, tracking)
    except Forbidden:
        page.error("collect.other_store_parcel", tracking=tracking)
        return _shelf(page, 403, tracking)
    except OmsError as error:
        refused(page, error)
        return _shelf(page, error.status, tracking)
    order = done.order_id[-8:]
    return redirect(f"{PREFIX}/collect", ("collect.received", {"order": order}))


# --- the handover ------------------------------------------------------------------------


@router.get("/collect/handover", response_class=HTMLResponse)
def handover_page(page: SignedIn, order: str = "") -> Response:
    return _handover(page, order=order[:MAX_CODE])


def _handover(
    page: Page,
    status: int = 200,
    *,
    order: str = "",
    name: str = "",
    collected: CollectOrderView | None = None,
) -> HTMLResponse:
    return render(
        page,
        "handover.html",
        status,
        order=order,
        name=name,
        collected=collected,
        tz=location_timezone(page.db, page.user.location),
        local_time=local_time,
        max_code=MAX_CODE,
    )


@router.get("/collect/handover/{order_id}", response_class=HTMLResponse)
def handed_over(order_id: str, page: SignedIn) -> Response:
    """The confirmation: who handed the order over, and when."""
    try:
        found = get_collect_order(page.db, order_id, store_caller(page.user.location))
    except (NotFound, Forbidden):
        return not_found(page)
    if found.state != collect_repo.COLLECTED:
        return _handover(page, order=order_id)
    return _handover(page, collected=found)


@router.post("/collect/handover", response_class=HTMLResponse)
def hand_over(page: SignedIn, form: Form) -> Response:
    """The pickup code (or the customer's name, checked against an ID) for the order number."""
    check_csrf(page, form)
    checks = Checks(form)
    order_id = checks.text("order_id", page.t("collect.order_number"), max_length=MAX_CODE)
    code = str(form.get("code") or "").strip()
    name = str(form.get("customer_name") or "").strip()
    if not (code or name):
        checks.problems.append(Problem("collect.code_or_name"))
    elif len(code) > MAX_CODE:
        checks.problems.append(
            Problem("error.too_long", {"field": page.t("collect.code"), "max": MAX_CODE})
        )
    elif len(name) > 200:
        checks.problems.append(
            Problem("error.too_long", {"field": page.t("collect.customer_name"), "max": 200})
        )
    caller = store_caller(page.user.location)
    try:
        checks.done()
        handover = collect.Handover(
            code=code or None, customer_name=None if code else name, associate=page.user.username
        )
        collect.collect_order(page.db, order_id, caller, handover, key_id=None, now=page.now)
    except FormErrors as error:
        page.problems(error.problems)
        return _handover(page, 422, order=order_id[:MAX_CODE], name=name[:200])
    except OmsError as error:
        status = _refused_handover(page, error, order_id, by_code=bool(code))
        return _handover(page, status, order=order_id[:MAX_CODE], name=name[:200])
    return redirect(
        f"{PREFIX}/collect/handover/{order_id}",
        ("collect.handed_over", {"order": order_id[-8:], "name": page.user.display_name}),
    )


def _refused_handover(page: Page, error: OmsError, order_id: str, *, by_code: bool) -> int:
    """What the associate is told when the service refused the handover; nothing changed but
    a wrong try's count."""
    if isinstance(error, collect.WrongPickupCode):
        left = get_collect_order(page.db, order_id, store_caller(page.user.location)).tries_left
        page.error("collect.wrong_code" if by_code else "collect.wrong_name", left=left)
    elif isinstance(error, collect.PickupLocked):
        page.error("collect.locked")
    elif isinstance(error, collect.NotReadyForPickup):
        page.error("collect.not_ready", order=order_id)
    elif isinstance(error, NotFound | Forbidden):
        page.error("collect.unknown_order", order=order_id)
        return 404
    else:
        refused(page, error)
    return error.status
