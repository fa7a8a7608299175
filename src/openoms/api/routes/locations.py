"""/v1/locations: the network."""

from __future__ import annotations

from fastapi import APIRouter, Response

from openoms.api.auth import Admin, Reader
from openoms.api.deps import CodePath, CursorQuery, DatabaseDep, IndexDep, LimitQuery, NowDep
from openoms.api.schemas.common import Page
from openoms.api.schemas.network import LocationBody
from openoms.domain.network import LocationKind
from openoms.errors import FieldError, InvalidInput
from openoms.services import network

router = APIRouter(prefix="/v1/locations", tags=["network"])


@router.get("")
def list_locations(
    _: Reader,
    db: DatabaseDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 100,
    kind: LocationKind | None = None,
) -> Page[LocationBody]:
    found = network.list_locations(db, after=cursor, limit=limit, kind=kind)
    return Page.of([LocationBody.of(loc) for loc in found], limit, lambda body: body.code)


@router.post("", status_code=201)
def create_location(
    body: LocationBody, _: Admin, db: DatabaseDep, index: IndexDep, now: NowDep
) -> LocationBody:
    created = network.create_location(db, body.to_domain(), now)
    return LocationBody.of(created)


@router.get("/{code}")
def get_location(code: CodePath, _: Reader, db: DatabaseDep) -> LocationBody:
    return LocationBody.of(network.get_location(db, code))


@router.put("/{code}")
def put_location(
    code: CodePath, body: LocationBody, _: Admin, db: DatabaseDep, index: IndexDep, now: NowDep
) -> LocationBody:
    if body.code != code:
        raise InvalidInput([FieldError("code", f"must match the path ({code!r})")])
    network.upsert_locations(db, [body.to_domain()], now)
    return LocationBody.of(body.to_domain())


@router.delete("/{code}", status_code=204)
def deactivate_location(
    code: CodePath, _: Admin, db: DatabaseDep, index: IndexDep, now: NowDep
) -> Response:
    network.deactivate_location(db, code, now)
    return Response(status_code=204)
