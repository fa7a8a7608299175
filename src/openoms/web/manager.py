"""The manager's view: the location's day in figures."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from openoms.domain.users import may_see_figures
from openoms.services.store_day import day_figures
from openoms.services.store_queue import (
    location_timezone,
)
from openoms.web.pages import (
    PREFIX,
    SignedIn,
    render,
)

router = APIRouter(prefix=PREFIX, include_in_schema=False)


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
