"""/v1/keys: API keys (admin only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from openoms.api.auth import Admin
from openoms.api.deps import DatabaseDep, NowDep
from openoms.api.schemas.common import Body, Code, Name
from openoms.services import keys
from openoms.services.keys import Role

router = APIRouter(prefix="/v1/keys", tags=["access"])


class KeyRequest(Body):
    name: Name
    role: Role
    location: Code | None = None
    channel: Code | None = Field(
        default=None, description="A channel key acts for this channel only (default: any)."
    )
    carrier: Name | None = Field(
        default=None, description="A carrier key reads this carrier's pickups only (default: any)."
    )


class KeyBody(BaseModel):
    id: str
    name: str
    role: Role
    location: str | None
    channel: str | None = None
    carrier: str | None = None
    created_at: datetime | None = None
    revoked_at: datetime | None = None
    secret: str | None = None


@router.post("", status_code=201)
def create_key(body: KeyRequest, _: Admin, db: DatabaseDep, now: NowDep) -> KeyBody:
    """The secret is in this answer only: it is not stored."""
    made = keys.create_key(
        db,
        name=body.name,
        role=body.role,
        location=body.location,
        channel=body.channel,
        carrier=body.carrier,
        now=now,
    )
    p = made.principal
    return KeyBody(
        id=p.key_id,
        name=p.name,
        role=p.role,
        location=p.location,
        channel=p.channel,
        carrier=p.carrier,
        created_at=now,
        secret=made.secret,
    )


@router.get("")
def list_keys(_: Admin, db: DatabaseDep) -> list[KeyBody]:
    return [
        KeyBody(
            id=p.key_id,
            name=p.name,
            role=p.role,
            location=p.location,
            channel=p.channel,
            carrier=p.carrier,
            created_at=created,
            revoked_at=revoked,
        )
        for p, created, revoked in keys.list_keys(db)
    ]


@router.delete("/{key_id}", status_code=204)
def revoke_key(
    key_id: Annotated[str, Path(max_length=64, pattern=r"^[0-9a-f\-]+$")],
    _: Admin,
    db: DatabaseDep,
    now: NowDep,
) -> Response:
    keys.revoke_key(db, key_id, now)
    return Response(status_code=204)
