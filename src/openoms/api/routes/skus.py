"""/v1/skus: the catalogue."""

from __future__ import annotations

from fastapi import APIRouter

from openoms.api.auth import Admin, Reader
from openoms.api.deps import CursorQuery, DatabaseDep, LimitQuery, NowDep
from openoms.api.schemas.catalog import SkuBody
from openoms.api.schemas.common import Page
from openoms.errors import FieldError, InvalidInput
from openoms.services import catalog

router = APIRouter(prefix="/v1/skus", tags=["catalogue"])


@router.get("")
def list_skus(
    _: Reader,
    db: DatabaseDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 100,
    category: str | None = None,
) -> Page[SkuBody]:
    found = catalog.list_skus(db, after=cursor, limit=limit, category=category)
    return Page.of([SkuBody.of(sku) for sku in found], limit, lambda body: body.code)


@router.post("", status_code=201)
def create_sku(body: SkuBody, _: Admin, db: DatabaseDep, now: NowDep) -> SkuBody:
    return SkuBody.of(catalog.create_sku(db, body.to_domain(), now))


@router.get("/{code}")
def get_sku(code: str, _: Reader, db: DatabaseDep) -> SkuBody:
    return SkuBody.of(catalog.get_sku(db, code))


@router.put("/{code}")
def put_sku(code: str, body: SkuBody, _: Admin, db: DatabaseDep, now: NowDep) -> SkuBody:
    if body.code != code:
        raise InvalidInput([FieldError("code", f"must match the path ({code!r})")])
    catalog.upsert_skus(db, [body.to_domain()], now)
    return body
