"""The store app's pages: thin adapters that parse a form, call the same services as the API,
and render a template. No rule lives here.

Sessions are server-side (services/users.py): the cookie holds a random token, HttpOnly and
SameSite=Lax, and every form POST carries the session's CSRF token (the sign-in form a token of
its own, in a cookie of its own). After an action the browser is redirected (POST, redirect,
GET), and what happened is told by a one-time notice cookie, so a reload repeats nothing.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from openoms.api.deps import NowDep
from openoms.api.routes.orders import decision_record
from openoms.db.uow import Database
from openoms.documents import Language
from openoms.domain.fulfilments import FulfilmentStatus
from openoms.domain.parcels import BOXES, ParcelSize
from openoms.domain.picking import pick_problems, short_lines
from openoms.domain.users import LOCK_DURATION, MAX_FAILED_ATTEMPTS, may_see_figures
from openoms.errors import InvalidInput, NotFound, OmsError
from openoms.services import drift, parcels, pickups, users
from openoms.services import fulfilment as fulfilments
from openoms.services.offers import ClaimDoesNotFit
from openoms.services.sourcing_view import SourcingView
from openoms.services.store_day import day_figures
from openoms.services.store_queue import (
    WorkItem,
    location_timezone,
    store_caller,
    store_queue,
    work_item,
)
from openoms.web.forms import Checks, FormErrors, Problem
from openoms.web.i18n import CATALOGUE, LANGUAGE_NAMES, LANGUAGES, negotiate, translate

HERE = Path(__file__).parent
SESSION_COOKIE = "oms_session"
SIGN_IN_COOKIE = "oms_sign_in"
LANGUAGE_COOKIE = "oms_lang"
NOTICE_COOKIE = "oms_notice"
PREFIX = "/store"
POLL_SECONDS = 5

templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(prefix=PREFIX, include_in_schema=False)


class SignInNeeded(Exception):
    """No live session: the page answers with the way to the sign-in page."""


class StaleForm(Exception):
    """A form POST without the right CSRF token: refused, nothing changed."""


@dataclass
class Page:
    """One request's language, clock and (once signed in) session."""

    request: Request
    language: str
    now: datetime
    session: users.WebSession | None = None
    notices: list[tuple[str, str]] = field(default_factory=list)
    """(kind, text) shown at the top: kind `ok` or `error`."""

    def t(self, key: str, **values: object) -> str:
        return translate(self.language, key, **values)

    @property
    def db(self) -> Database:
        db: Database = self.request.app.state.db
        return db

    @property
    def view(self) -> SourcingView:
        view: SourcingView = self.request.app.state.sourcing
        return view

    @property
    def user(self) -> users.User:
        assert self.session is not None
        return self.session.user

    def error(self, key: str, **values: object) -> None:
        self.notices.append(("error", self.t(key, **values)))

    def problems(self, problems: Sequence[Problem]) -> None:
        for problem in problems:
            self.error(problem.key, **problem.values)


def language_of(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"), request.cookies.get(LANGUAGE_COOKIE))


def any_page(request: Request, now: NowDep) -> Page:
    return Page(request, language_of(request), now)


def signed_in(request: Request, now: NowDep) -> Page:
    page = any_page(request, now)
    page.session = users.session_of(page.db, request.cookies.get(SESSION_COOKIE), page.now)
    if page.session is None:
        raise SignInNeeded
    return page


async def form_of(request: Request) -> FormData:
    return await request.form()


AnyPage = Annotated[Page, Depends(any_page)]
SignedIn = Annotated[Page, Depends(signed_in)]
Form = Annotated[FormData, Depends(form_of)]


def check_csrf(page: Page, form: FormData) -> None:
    assert page.session is not None
    sent = form.get("csrf_token")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, page.session.csrf_token):
        raise StaleForm


# --- rendering ---------------------------------------------------------------------------


def render(page: Page, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    notices = [*_take_notices(page), *page.notices]
    response = templates.TemplateResponse(
        page.request,
        template,
        {
            "t": page.t,
            "lang": page.language,
            "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            "session": page.session,
            "user": page.session.user if page.session else None,
            "is_manager": bool(page.session and may_see_figures(page.session.user.role)),
            "csrf": page.session.csrf_token if page.session else "",
            "notices": notices,
            "here": page.request.url.path,
            "poll_seconds": POLL_SECONDS,
            **context,
        },
        status_code=status,
    )
    if page.request.cookies.get(NOTICE_COOKIE):
        response.delete_cookie(NOTICE_COOKIE, path=PREFIX)
    return response


def redirect(to: str, *notices: tuple[str, dict[str, object]]) -> RedirectResponse:
    """303 to `to`, with notices (message key, values) shown once by the next page."""
    response = RedirectResponse(to, status_code=303)
    if notices:
        value = quote(json.dumps([[key, values] for key, values in notices]))
        response.set_cookie(
            NOTICE_COOKIE, value, path=PREFIX, httponly=True, samesite="lax", max_age=60
        )
    return response


def _take_notices(page: Page) -> list[tuple[str, str]]:
    raw = page.request.cookies.get(NOTICE_COOKIE)
    if not raw:
        return []
    try:
        found = json.loads(unquote(raw))
        return [
            ("ok", page.t(key, **values))
            for key, values in found
            if key in CATALOGUE and isinstance(values, dict)
        ]
    except (ValueError, TypeError, KeyError, IndexError):
        return []


def local_time(moment: datetime | None, timezone: str, *, seconds: bool = False) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%H:%M:%S" if seconds else "%H:%M")


def not_found(page: Page) -> HTMLResponse:
    return render(page, "not_found.html", 404)


def item_context(page: Page, item: WorkItem) -> dict[str, Any]:
    timezone = location_timezone(page.db, page.user.location)
    return {"item": item, "tz": timezone, "local_time": local_time}


# --- sign-in -----------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    return RedirectResponse(f"{PREFIX}/queue", status_code=303)


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(page: AnyPage) -> Response:
    return _sign_in_form(page)


def _sign_in_form(page: Page, status: int = 200, username: str = "") -> HTMLResponse:
    token = page.request.cookies.get(SIGN_IN_COOKIE) or secrets.token_urlsafe(32)
    response = render(
        page,
        "sign_in.html",
        status,
        sign_in_token=token,
        username=username,
        attempts=MAX_FAILED_ATTEMPTS,
        minutes=int(LOCK_DURATION.total_seconds() // 60),
    )
    response.set_cookie(SIGN_IN_COOKIE, token, path=PREFIX, httponly=True, samesite="lax")
    return response


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(page: AnyPage, form: Form) -> Response:
    expected = page.request.cookies.get(SIGN_IN_COOKIE) or ""
    sent = form.get("csrf_token")
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        page.error("error.csrf")
        return _sign_in_form(page, 403)
    checks = Checks(form)
    username = checks.text("username", page.t("sign_in.username"), max_length=64)
    password = checks.text("password", page.t("sign_in.password"))
    try:
        checks.done()
        signed = users.sign_in(page.db, username=username, password=password, now=page.now)
    except FormErrors as error:
        page.problems(error.problems)
        return _sign_in_form(page, 422, username)
    except users.AccountLocked as error:
        until = local_time(error.locked_until, location_timezone(page.db, error.location))
        minutes = int(LOCK_DURATION.total_seconds() // 60)
        page.error("sign_in.locked", minutes=minutes, until=until)
        return _sign_in_form(page, 403, username)
    except users.WrongPassword:
        page.error("sign_in.wrong")
        return _sign_in_form(page, 401, username)
    response = RedirectResponse(f"{PREFIX}/queue", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        signed.token,
        path=PREFIX,
        httponly=True,
        samesite="lax",
        secure=page.request.url.scheme == "https",
        expires=signed.session.expires_at,
    )
    response.delete_cookie(SIGN_IN_COOKIE, path=PREFIX)
    return response


@router.post("/sign-out")
def sign_out(page: SignedIn, form: Form) -> Response:
    check_csrf(page, form)
    token = page.request.cookies.get(SESSION_COOKIE)
    if token:
        users.sign_out(page.db, token)
    response = redirect(f"{PREFIX}/sign-in", ("sign_in.signed_out", {}))
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


@router.get("/language/{language}")
def choose_language(language: str, request: Request, next: str = f"{PREFIX}/queue") -> Response:
    """A link, not a form: it changes nothing but the reader's own cookie."""
    target = next if next.startswith(f"{PREFIX}/") and "//" not in next else f"{PREFIX}/queue"
    response = RedirectResponse(target, status_code=303)
    if language in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE, language, path=PREFIX, samesite="lax", max_age=400 * 86400
        )
    return response


# --- the queue ---------------------------------------------------------------------------


@router.get("/queue", response_class=HTMLResponse)
def queue(page: SignedIn) -> Response:
    return _queue(page)


def _queue(page: Page, status: int = 200) -> HTMLResponse:
    location = page.user.location
    return render(
        page,
        "queue.html",
        status,
        queue=store_queue(page.db, location),
        tz=location_timezone(page.db, location),
        local_time=local_time,
        now=page.now,
    )


@router.get("/queue/offers", response_class=HTMLResponse)
def queue_offers(page: SignedIn) -> Response:
    """The offers alone, for htmx to poll: new ones appear, claimed or expired ones go."""
    location = page.user.location
    return render(
        page,
        "_offers.html",
        queue=store_queue(page.db, location),
        tz=location_timezone(page.db, location),
        local_time=local_time,
        now=page.now,
    )


@router.post("/fulfilments/{fulfilment_id}/claim")
def claim(fulfilment_id: str, page: SignedIn, form: Form) -> Response:
    check_csrf(page, form)
    caller = store_caller(page.user.location)
    try:
        fulfilments.claim_fulfilment(page.db, fulfilment_id, caller, now=page.now)
    except NotFound:
        return not_found(page)
    except ClaimDoesNotFit:
        page.error("error.claim_does_not_fit")
        return _queue(page, 409)
    except OmsError as error:
        _refused(page, error)
        return _queue(page, error.status)
    return redirect(f"{PREFIX}/fulfilments/{fulfilment_id}", ("claim.done", {}))


def _refused(page: Page, error: OmsError) -> None:
    already = (
        fulfilments.TransitionRefused,
        fulfilments.ChangedMeanwhile,
        parcels.AlreadyLabelled,
        parcels.NotPacked,
    )
    if isinstance(error, already):
        page.error("error.already_done")
    elif isinstance(error, InvalidInput) and any(e.code == "nothing_picked" for e in error.errors):
        page.error("pick.nothing_picked")
    else:
        page.error("error.invalid", detail=error.detail)


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
        _refused(page, error)
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
MAX_WEIGHT_G = 70_000
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
        _refused(page, error)
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


def _pdf(content: bytes, filename: str) -> Response:
    disposition = f'attachment; filename="{filename}"'
    return Response(
        content, media_type="application/pdf", headers={"Content-Disposition": disposition}
    )


def _document_language(page: Page) -> Language:
    return "fr" if page.language == "fr" else "en"


@router.get("/parcels/{tracking_number}/label.pdf")
def label_pdf(tracking_number: str, page: SignedIn) -> Response:
    caller = store_caller(page.user.location)
    try:
        content = parcels.label_pdf(
            page.db, page.view, tracking_number, caller, language=_document_language(page)
        )
    except NotFound:
        return not_found(page)
    return _pdf(content, f"label-{tracking_number}.pdf")


@router.get("/fulfilments/{fulfilment_id}/packing-slip.pdf")
def packing_slip_pdf(fulfilment_id: str, page: SignedIn) -> Response:
    caller = store_caller(page.user.location)
    try:
        content = parcels.packing_slip_pdf(
            page.db, page.view, fulfilment_id, caller, language=_document_language(page)
        )
    except NotFound:
        return not_found(page)
    except OmsError as error:
        _refused(page, error)
        return fulfilment_page(fulfilment_id, page)
    return _pdf(content, f"packing-slip-{fulfilment_id}.pdf")


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
        _refused(page, error)
        return _reject_form(page, item, error.status, reason=reason, found=found)
    if found:
        location = done.fulfilment.location
        drift.resolve_found(
            page.db, location, found, page.now, view=page.view, record=decision_record
        )
    return redirect(f"{PREFIX}/queue", ("reject.done", {}))


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
        _refused(page, error)
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
        _refused(page, error)
        return _pickups(page, error.status)
    return redirect(f"{PREFIX}/pickups", ("pickups.done_handed", {}))


@router.get("/pickups/{pickup_id}/manifest.pdf")
def manifest_pdf(pickup_id: str, page: SignedIn) -> Response:
    caller = store_caller(page.user.location)
    try:
        content = pickups.manifest_pdf(
            page.db, page.view, pickup_id, caller, language=_document_language(page)
        )
    except NotFound:
        return not_found(page)
    return _pdf(content, f"manifest-{pickup_id}.pdf")


# --- the manager's view ------------------------------------------------------------------


@router.get("/manager", response_class=HTMLResponse)
def manager(page: SignedIn) -> Response:
    if not may_see_figures(page.user.role):
        page.error("error.manager_only")
        return render(page, "manager.html", 403, figures=None)
    location = page.user.location
    timezone = location_timezone(page.db, location)
    day = page.now.astimezone(ZoneInfo(timezone)).date()
    figures = day_figures(page.db, location, day, timezone, page.now)
    return render(page, "manager.html", figures=figures, day=day, minutes=_minutes)


def _minutes(duration: timedelta | None) -> int | None:
    return None if duration is None else round(duration.total_seconds() / 60)


# --- the app -----------------------------------------------------------------------------


def install(app: FastAPI) -> None:
    """Mount the store app's pages and static files on the API's application."""
    app.include_router(router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="store-static")

    @app.exception_handler(SignInNeeded)
    def to_sign_in(request: Request, error: SignInNeeded) -> Response:
        target = f"{PREFIX}/sign-in"
        if request.headers.get("hx-request"):  # htmx follows this header, not a redirect
            return Response(status_code=204, headers={"HX-Redirect": target})
        return redirect(target, ("sign_in.expired", {}))

    @app.exception_handler(StaleForm)
    def stale_form(request: Request, error: StaleForm) -> Response:
        page = any_page(request, datetime.now(UTC))
        page.session = users.session_of(page.db, request.cookies.get(SESSION_COOKIE), page.now)
        page.error("error.csrf")
        return render(page, "stale.html", 403)
