"""Receiving a return at the store: found by its id (scanned from the label, or typed), each
unit inspected (resell, second-hand with a grade, damaged), confirmed; then the refund due.
The rules are services/returns.py's and domain/returns.py's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from openoms.db.repositories import skus as skus_repo
from openoms.domain.returns import (
    Grade,
    InspectedUnits,
    Inspection,
    InspectionMismatch,
    ReturnPolicy,
    ReturnStatus,
    check_inspection,
)
from openoms.errors import NotFound, OmsError
from openoms.services import returns
from openoms.services.returns import ReturnView
from openoms.services.store_queue import location_timezone
from openoms.web.forms import MAX_UNITS, Checks, FormErrors, Problem
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

MAX_SHOWN = 50
MAX_ID = 64
OUTCOMES = tuple(Inspection)
GRADES = tuple(Grade)


def _scope(page: Page) -> returns.Scope:
    return returns.Scope(location=page.user.location)


@router.get("/returns", response_class=HTMLResponse)
def returns_page(page: SignedIn, find: Annotated[str, Query(alias="id")] = "") -> Response:
    """The returns brought here, and the field to find one by its id (a scan of its label)."""
    wanted = find.strip()
    if wanted:
        if len(wanted) > MAX_ID:
            page.error("error.too_long", field=page.t("returns.id"), max=MAX_ID)
            return _returns(page, 422)
        try:
            returns.get_return(page.db, wanted, scope=_scope(page))
        except NotFound:
            page.error("returns.unknown", id=wanted)
            return _returns(page, 404, wanted)
        return redirect(f"{PREFIX}/returns/{wanted}")
    return _returns(page)


def _returns(page: Page, status: int = 200, wanted: str = "") -> HTMLResponse:
    expected = returns.list_returns(
        page.db,
        order_id=None,
        location=None,
        status=ReturnStatus.REQUESTED,
        scope=_scope(page),
        after=None,
        limit=MAX_SHOWN,
    )
    here = [r for r in expected if r.location == page.user.location]
    return render(page, "returns.html", status, expected=here, wanted=wanted, max_id=MAX_ID)


@router.get("/returns/{return_id}", response_class=HTMLResponse)
def return_page(return_id: str, page: SignedIn) -> Response:
    try:
        found = returns.get_return(page.db, return_id, scope=_scope(page))
    except NotFound:
        return not_found(page)
    return _return(page, found)


def _return(
    page: Page, found: ReturnView, status: int = 200, counted: dict[str, str] | None = None
) -> HTMLResponse:
    return render(
        page,
        "return.html",
        status,
        ret=found,
        names=_sku_names(page, found),
        counted=counted or {},
        outcomes=OUTCOMES,
        grades=GRADES,
        money=_money(page),
        tz=location_timezone(page.db, page.user.location),
        local_time=local_time,
    )


@router.post("/returns/{return_id}/receive", response_class=HTMLResponse)
def receive(return_id: str, page: SignedIn, form: Form) -> Response:
    check_csrf(page, form)
    try:
        found = returns.get_return(page.db, return_id, scope=_scope(page))
    except NotFound:
        return not_found(page)
    counted = {str(k): str(v)[:20] for k, v in form.items() if k != "csrf_token"}
    sku_names = _sku_names(page, found)
    names = {line.line_id: sku_names[line.sku] for line in found.lines}
    policy: ReturnPolicy = page.request.app.state.return_policy
    try:
        items = _inspected(page, found, form, names)
        done = returns.receive_return(
            page.db,
            page.view,
            return_id,
            returns.Receipt(page.user.location, items),
            policy=policy,
            now=page.now,
            scope=_scope(page),
        )
    except FormErrors as error:
        page.problems(error.problems)
        return _return(page, found, 422, counted)
    except returns.ReturnTransitionRefused:
        page.error("returns.already_received")
        return _return(page, returns.get_return(page.db, return_id, scope=_scope(page)), 409)
    except returns.NoSecondHandHub:
        page.error("returns.no_hub")
        return _return(page, found, 409, counted)
    except OmsError as error:
        refused(page, error)
        return _return(page, found, error.status, counted)
    assert done.refund is not None
    due = _money(page)(done.refund.amount, done.refund.currency)
    return redirect(f"{PREFIX}/returns/{return_id}", ("returns.done", {"refund": due}))


def _sku_names(page: Page, found: ReturnView) -> dict[str, str]:
    codes = sorted({line.sku for line in found.lines})
    with page.db.read() as conn:
        skus = skus_repo.get_many(conn, codes)
    return {code: skus[code].name if code in skus else code for code in codes}


def _inspected(
    page: Page, found: ReturnView, form: FormData, names: dict[str, str]
) -> tuple[InspectedUnits, ...]:
    """Each line's units by outcome (an empty field: none), second-hand ones with a grade;
    every unit of the return inspected once (domain/returns.py's check)."""
    checks = Checks(form)
    items: list[InspectedUnits] = []
    for line in found.lines:
        name = names[line.line_id]
        for outcome in OUTCOMES:
            field = f"{outcome.value}.{line.line_id}"
            label = f"{name} – {page.t(f'returns.{outcome.value}')}"
            if not str(form.get(field) or "").strip():
                continue
            units = checks.quantity(field, label, high=min(line.units, MAX_UNITS))
            if not units:
                continue
            grade = None
            if outcome is Inspection.SECOND_HAND:
                chosen = checks.choice(
                    f"grade.{line.line_id}", f"{name} – {page.t('returns.grade')}", GRADES
                )
                grade = Grade(chosen) if chosen else None
                if grade is None:
                    continue
            items.append(InspectedUnits(line.line_id, outcome, units, grade))
    checks.done()
    try:
        check_inspection({line.line_id: line.units for line in found.lines}, items)
    except InspectionMismatch as error:
        values: dict[str, Any] = {
            "name": names.get(error.line_id, error.line_id),
            "units": error.expected,
            "inspected": error.inspected,
        }
        raise FormErrors([Problem("returns.mismatch", values)]) from error
    return tuple(items)


def _money(page: Page) -> Callable[[int, str], str]:
    """Minor units as the reader writes them: 29.99 EUR, 29,99 EUR."""
    separator = "," if page.language == "fr" else "."

    def money(amount: int, currency: str) -> str:
        sign = "-" if amount < 0 else ""
        whole, cents = divmod(abs(amount), 100)
        return f"{sign}{whole}{separator}{cents:02d} {currency}"

    return money
