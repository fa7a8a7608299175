"""/v1/profiles: sourcing profiles as data, versioned (draft, scheduled, live)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path
from pydantic import AwareDatetime, BaseModel

from openoms.api.auth import Admin, Seller
from openoms.api.deps import CodePath, CriteriaDep, DatabaseDep, NowDep
from openoms.api.schemas.common import Body as StrictBody
from openoms.domain.profiles import VersionState, profile_to_data
from openoms.services import profiles
from openoms.services.profiles import VersionView

router = APIRouter(prefix="/v1/profiles", tags=["sourcing"])


class VersionBody(BaseModel):
    code: str
    number: int
    state: VersionState
    publish_at: datetime | None
    document: dict[str, Any]

    @classmethod
    def of(cls, view: VersionView) -> VersionBody:
        return cls(
            code=view.code,
            number=view.number,
            state=view.state,
            publish_at=view.publish_at,
            document=profile_to_data(view.profile),
        )


class HistoryBody(BaseModel):
    code: str
    live: VersionBody | None
    versions: list[VersionBody]


class PublishBody(StrictBody):
    at: AwareDatetime | None = None


@router.post("", status_code=201)
def save_draft(
    document: Annotated[dict[str, Any], Body(description="A sourcing profile document.")],
    _: Admin,
    db: DatabaseDep,
    now: NowDep,
    criteria: CriteriaDep,
) -> VersionBody:
    """Save a new draft version of the profile the document names; publish it to use it."""
    return VersionBody.of(profiles.save_draft(db, document, criteria, now))


@router.post("/{code}/versions/{number}/publish")
def publish_version(
    code: CodePath,
    number: Annotated[int, Path(ge=1, le=1_000_000)],
    *,
    _: Admin,
    db: DatabaseDep,
    now: NowDep,
    criteria: CriteriaDep,
    body: PublishBody | None = None,
) -> VersionBody:
    """Publish a draft now (live at once) or at `at` (scheduled until then)."""
    at = body.at if body else None
    view = profiles.publish_version(db, code, number, at=at, criteria=criteria, now=now)
    return VersionBody.of(view)


@router.get("/{code}")
def profile_history(
    code: CodePath, _: Seller, db: DatabaseDep, now: NowDep, criteria: CriteriaDep
) -> HistoryBody:
    versions, live = profiles.profile_history(db, code, criteria, now)
    return HistoryBody(
        code=code,
        live=VersionBody.of(live) if live else None,
        versions=[VersionBody.of(v) for v in versions],
    )
