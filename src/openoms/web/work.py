"""One fulfilment at the store: the offer, the pick list, packing and its documents, reject."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from openoms.api.routes.orders import decision_record
from openoms.domain.fulfilments import FulfilmentStatus
from openoms.domain.parcels import BOXES, ParcelSize
from openoms.domain.picking import pick_problems, short_lines
from openoms.errors import NotFound, OmsError
from openoms.services import drift, parcels
from openoms.services import fulfilment as fulfilments
from openoms.services.store_queue import (
    WorkItem,
    store_caller,
    work_item,
)
from openoms.web.forms import Checks, FormErrors, Problem
from openoms.web.pages import (
    PREFIX,
    Form,
    Page,
    SignedIn,
    check_csrf,
    document_language,
    item_context,
    not_found,
    pdf_response,
    redirect,
    refused,
    render,
)

router = APIRouter(prefix=PREFIX, include_in_schema=False)


# --- one fulfilment: offer, pick, pack ---------------------------------------------------

TEMPLATE_OF = {
    FulfilmentStatus.OFFERED: "offer.html",
    FulfilmentStatus.CLAIMED: "pick.html",
    FulfilmentStatus.PICKING: "pack.html",
    FulfilmentStatus.PACKED: "pack.html",
}


@router.get("/fulfilments/{fulfilment_id}", response_class=HTMLResponse)
def fulfilment_page(fulfilment_id: str, page: SignedIn) -> Response:
    try:
        item = work_item(page.db, page.user.location, fulfilment_id)
    except NotFound:
        return not_found(page)
    return _item_page(page, item)


def _item_page(page: Page, item: WorkItem, status: int = 200, **context: Any) -> HTMLResponse:
    template = TEMPLATE_OF.get(item.status, "fulfilment.html")
    defaults: dict[str, Any] = {"picked": {}, "missing": set(), "size": {}, "boxes": BOXES}
    return render(page, template, status, **{**defaults, **item_context(page, item), **context})


@router.post("/fulfilments/{fulfilment_id}/pick", response_class=HTMLResponse)
def pick(fulfilment_id: str, page: SignedIn, form: Form) -> Response:
    check_csrf(page, form)
    try:
        item = work_item(page.db, page.user.location, fulfilment_id)
    except NotFound:
        return not_found(page)
    checks = Checks(form)
    lines = list(item.lines)
    picked = {line.line_id: checks.quantity(f"picked.{line.line_id}", line.name) for line in lines}
    missing = {str(v) for v in form.getlist("missing")}
    scanned = form.get("scan")
    if isinstance(scanned, str) and scanned.strip() and "confirm" not in form:
        return _scan(page, item, scanned.strip(), picked, missing)
    try:
        checks.done()
        _check_pick(page, item, picked, missing)
        fulfilments.pick_fulfilment(
            page.db,
            page.view,
            fulfilment_id,
            store_caller(page.user.location),
            picked=short_lines(lines, picked) or None,
            now=page.now,
            record=decision_record,
        )
    except FormErrors as error:
        page.problems(error.problems)
        return _item_page(page, item, 422, picked=picked, missing=missing)
    except NotFound:
        return not_found(page)
    except OmsError as error:
        refused(page, error)
        return _item_page(page, item, error.status, picked=picked, missing=missing)
    notices: list[tuple[str, dict[str, object]]] = [("pick.done", {})]
    notices += [
        ("pick.rerouted", {"units": line.units - picked[line.line_id], "name": line.name})
        for line in lines
        if picked[line.line_id] < line.units
    ]
    return redirect(f"{PREFIX}/fulfilments/{fulfilment_id}", *notices)


def _check_pick(page: Page, item: WorkItem, picked: dict[str, int], missing: set[str]) -> None:
    by_id = {line.line_id: line for line in item.lines}
    problems = []
    for problem in pick_problems(item.lines, picked, missing):
        line = by_id[problem.line_id]
        if problem.problem == "more_than_asked":
            problems.append(Problem("pick.too_many", {"name": line.name, "units": line.units}))
        else:
            values = {"name": line.name, "picked": picked[line.line_id], "units": line.units}
            problems.append(Problem("pick.short_not_declared", values))
    if problems:
        raise FormErrors(problems)


def _scan(
    page: Page, item: WorkItem, code: str, picked: dict[str, int], missing: set[str]
) -> HTMLResponse:
    """A scan sent without the page's script (it counts scans in the browser): counted here,
    nothing written."""
    line = next((line for line in item.lines if line.barcode and line.barcode == code), None)
    if line is None:
        page.error("pick.unknown_barcode", code=code[:64])
        return _item_page(page, item, 422, picked=picked, missing=missing)
    picked = {**picked, line.line_id: picked[line.line_id] + 1}
    page.notices.append(("ok", page.t("pick.scanned", name=line.name)))
    return _item_page(page, item, picked=picked, missing=missing)


# --- pack and label ----------------------------------------------------------------------

CUSTOM = "custom"
MAX_WEIGHT_G = 1_000_000
"""As the API takes (a pallet at most): what no carrier takes is the service's to say."""
MAX_SIDE_MM = 3_000
SIDES = ("length_mm", "width_mm", "height_mm")


@router.post("/fulfilments/{fulfilment_id}/pack", response_class=HTMLResponse)
def pack(fulfilment_id: str, page: SignedIn, form: Form) -> Response:
    """Packed (if it was being picked), then its parcel labelled with the carrier service
    the OMS picks (services/parcels.py)."""
    check_csrf(page, form)
    try:
        item = work_item(page.db, page.user.location, fulfilment_id)
    except NotFound:
        return not_found(page)
    size = {key: str(form.get(key, "")).strip()[:20] for key in ("box", "weight_g", *SIDES)}
    caller = store_caller(page.user.location)
    try:
        parcel = _parcel_size(page, form)
        if item.status is FulfilmentStatus.PICKING:
            fulfilments.pack_fulfilment(page.db, fulfilment_id, caller, now=page.now)
        parcels.label_parcels(
            page.db, page.view, fulfilment_id, caller, parcels=[parcel], now=page.now
        )
    except FormErrors as error:
        page.problems(error.problems)
        return _item_page(page, item, 422, size=size)
    except NotFound:
        return not_found(page)
    except OmsError as error:
        refused(page, error)
        item = work_item(page.db, page.user.location, fulfilment_id)
        return _item_page(page, item, error.status, size=size)
    return redirect(f"{PREFIX}/fulfilments/{fulfilment_id}", ("pack.done", {}))


def _parcel_size(page: Page, form: FormData) -> ParcelSize:
    checks = Checks(form)
    box = checks.choice("box", page.t("pack.box"), [*BOXES, CUSTOM])
    weight = None
    if str(form.get("weight_g", "")).strip():
        weight = checks.quantity("weight_g", page.t("pack.weight"), low=1, high=MAX_WEIGHT_G)
    sides: list[int | None] = [None, None, None]
    if box == CUSTOM:
        sides = [
            checks.quantity(
                side, page.t(f"pack.{side.removesuffix('_mm')}"), low=1, high=MAX_SIDE_MM
            )
            for side in SIDES
        ]
    checks.done()
    if box == CUSTOM:
        return ParcelSize(weight, None, *sides)
    return ParcelSize(weight, box)


@router.get("/parcels/{tracking_number}/label.pdf")
def label_pdf(tracking_number: str, page: SignedIn) -> Response:
    caller = store_caller(page.user.location)
    try:
        content = parcels.label_pdf(
            page.db, page.view, tracking_number, caller, language=document_language(page)
        )
    except NotFound:
        return not_found(page)
    return pdf_response(content, f"label-{tracking_number}.pdf")


@router.get("/fulfilments/{fulfilment_id}/packing-slip.pdf")
def packing_slip_pdf(fulfilment_id: str, page: SignedIn) -> Response:
    caller = store_caller(page.user.location)
    try:
        content = parcels.packing_slip_pdf(
            page.db, page.view, fulfilment_id, caller, language=document_language(page)
        )
    except NotFound:
        return not_found(page)
    except OmsError as error:
        refused(page, error)
        return fulfilment_page(fulfilment_id, page)
    return pdf_response(content, f"packing-slip-{fulfilment_id}.pdf")


# --- reject ------------------------------------------------------------------------------


@router.get("/fulfilments/{fulfilment_id}/reject", response_class=HTMLResponse)
def reject_page(fulfilment_id: str, page: SignedIn) -> Response:
    try:
        item = work_item(page.db, page.user.location, fulfilment_id)
    except NotFound:
        return not_found(page)
    return _reject_form(page, item)


def _reject_form(page: Page, item: WorkItem, status: int = 200, **values: Any) -> HTMLResponse:
    context = {"reason": "", "found": {}, **values, **item_context(page, item)}
    return render(page, "reject.html", status, reasons=list(fulfilments.RejectReason), **context)


@router.post("/fulfilments/{fulfilment_id}/reject", response_class=HTMLResponse)
def reject(fulfilment_id: str, page: SignedIn, form: Form) -> Response:
    check_csrf(page, form)
    try:
        item = work_item(page.db, page.user.location, fulfilment_id)
    except NotFound:
        return not_found(page)
    checks = Checks(form)
    reasons = [r.value for r in fulfilments.RejectReason]
    reason = checks.choice("reason", page.t("reject.reason"), reasons)
    skus = sorted({line.sku for line in item.lines})
    names = {line.sku: line.name for line in item.lines}
    found: dict[str, int] = {}
    if reason == fulfilments.RejectReason.OUT_OF_STOCK:
        found = {sku: checks.quantity(f"found.{sku}", names[sku]) for sku in skus}
    try:
        checks.done()
        chosen = fulfilments.RejectReason(reason)
        done = fulfilments.reject_fulfilment(
            page.db,
            page.view,
            fulfilment_id,
            store_caller(page.user.location),
            reason=chosen,
            found=found or None,
            now=page.now,
            record=decision_record,
        )
    except FormErrors as error:
        page.problems(error.problems)
        return _reject_form(page, item, 422, reason=reason, found=found)
    except NotFound:
        return not_found(page)
    except OmsError as error:
        refused(page, error)
        return _reject_form(page, item, error.status, reason=reason, found=found)
    if found:
        location = done.fulfilment.location
        drift.resolve_found(
            page.db, location, found, page.now, view=page.view, record=decision_record
        )
    return redirect(f"{PREFIX}/queue", ("reject.done", {}))
