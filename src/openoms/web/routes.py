"""The store app's pages: thin adapters that parse a form, call the same services as the API,
and render a template. No rule lives here. This module: sign-in and out, the language, the
queue and the claim, and `install`, which mounts the app's routers and static files.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from openoms.domain.users import LOCK_DURATION, MAX_FAILED_ATTEMPTS
from openoms.errors import NotFound, OmsError
from openoms.services import fulfilment as fulfilments
from openoms.services import users
from openoms.services.offers import ClaimDoesNotFit
from openoms.services.store_queue import (
    location_timezone,
    store_caller,
    store_queue,
)
from openoms.web import collect, manager, pickups, reservations, returns, work
from openoms.web.forms import Checks, FormErrors
from openoms.web.i18n import LANGUAGES
from openoms.web.pages import (
    HERE,
    LANGUAGE_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    AnyPage,
    Form,
    Page,
    SignedIn,
    SignInNeeded,
    StaleForm,
    any_page,
    check_csrf,
    local_time,
    not_found,
    redirect,
    refused,
    render,
)

router = APIRouter(prefix=PREFIX, include_in_schema=False)


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
        refused(page, error)
        return _queue(page, error.status)
    return redirect(f"{PREFIX}/fulfilments/{fulfilment_id}", ("claim.done", {}))


def unknown_page(rest: str, page: AnyPage) -> Response:
    return not_found(page)


# --- the app -----------------------------------------------------------------------------


def install(app: FastAPI) -> None:
    """Mount the store app's pages and static files on the API's application."""
    for module_router in (
        router,
        work.router,
        pickups.router,
        collect.router,
        reservations.router,
        returns.router,
        manager.router,
    ):
        app.include_router(module_router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="store-static")
    # Last, after the static files: any other GET under /store/ is the app's own 404 page.
    app.add_api_route(
        f"{PREFIX}/{{rest:path}}",
        unknown_page,
        methods=["GET"],
        response_class=HTMLResponse,
        include_in_schema=False,
    )

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
