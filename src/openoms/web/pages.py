"""The store app's frame: the request's page (language, clock, session), rendering, notices,
and the answers every page shares.

Sessions are server-side (services/users.py): the cookie holds a random token, HttpOnly and
SameSite=Lax, and every form POST carries the session's CSRF token (the sign-in form a token of
its own, in a cookie of its own). After an action the browser is redirected (POST, redirect,
GET), and what happened is told by a one-time notice cookie, so a reload repeats nothing.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from openoms.api.deps import NowDep
from openoms.db.uow import Database
from openoms.documents import Language
from openoms.domain.users import may_see_figures
from openoms.errors import InvalidInput, OmsError
from openoms.services import fulfilment as fulfilments
from openoms.services import parcels, users
from openoms.services.sourcing_view import SourcingView
from openoms.services.store_queue import (
    WorkItem,
    location_timezone,
)
from openoms.web.forms import Problem
from openoms.web.i18n import CATALOGUE, LANGUAGE_NAMES, LANGUAGES, negotiate, translate

HERE = Path(__file__).parent
SESSION_COOKIE = "oms_session"
SIGN_IN_COOKIE = "oms_sign_in"
LANGUAGE_COOKIE = "oms_lang"
NOTICE_COOKIE = "oms_notice"
PREFIX = "/store"
POLL_SECONDS = 5

templates = Jinja2Templates(directory=HERE / "templates")


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


INPUT_CODES = {"nothing_picked": "pick.nothing_picked", "too_heavy": "pack.too_heavy"}
"""The services' field error codes that the pages say in the reader's language."""


def refused(page: Page, error: OmsError) -> None:
    """A service's refusal, in words the associate can act on; nothing was changed."""
    already = (
        fulfilments.TransitionRefused,
        fulfilments.ChangedMeanwhile,
        parcels.AlreadyLabelled,
        parcels.NotPacked,
    )
    if isinstance(error, already):
        page.error("error.already_done")
    elif isinstance(error, parcels.NoCarrierService):
        page.error("pack.no_carrier")
    elif isinstance(error, InvalidInput) and any(e.code in INPUT_CODES for e in error.errors):
        for code in dict.fromkeys(e.code for e in error.errors if e.code in INPUT_CODES):
            page.error(INPUT_CODES[code])
    else:
        page.error("error.invalid", detail=error.detail)


def pdf_response(content: bytes, filename: str) -> Response:
    disposition = f'attachment; filename="{filename}"'
    return Response(
        content, media_type="application/pdf", headers={"Content-Disposition": disposition}
    )


def document_language(page: Page) -> Language:
    return "fr" if page.language == "fr" else "en"
