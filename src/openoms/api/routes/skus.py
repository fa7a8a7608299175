"""/v1/skus: the catalogue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from openoms.api.auth import Admin, Reader
from openoms.api.deps import CodePath, CursorQuery, DatabaseDep, LimitQuery, NowDep
from openoms.api.schemas.catalog import SkuBody
from openoms.api.schemas.common import PRINTABLE, Page
from openoms.errors import FieldError, InvalidInput
from openoms.services import catalog

router = APIRouter(prefix="/v1/skus", tags=["catalogue"])


@router.get("")
def list_skus(
    _: Reader,
    db: DatabaseDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 100,
    category: Annotated[str | None, Query(max_length=80, pattern=PRINTABLE)] = None,
) -> Page[SkuBody]:
    found = catalog.list_skus(db, after=cursor, limit=limit, category=category)
    return Page.of([SkuBody.of(sku) for sku in found], limit, lambda body: body.code)


@router.post("", status_code=201)
def create_sku(body: SkuBody, _: Admin, db: DatabaseDep, now: NowDep) -> SkuBody:
    return SkuBody.of(catalog.create_sku(db, body.to_domain(), now))


@router.get("/{code}")
def get_sku(code: CodePath, _: Reader, db: DatabaseDep) -> SkuBody:
    return SkuBody.of(catalog.get_sku(db, code))


@router.put("/{code}")
def put_sku(code: CodePath, body: SkuBody, _: Admin, db: DatabaseDep, now: NowDep) -> SkuBody:
    if body.code != code:
        raise InvalidInput([FieldError("code", f"must match the path ({code!r})")])
    catalog.upsert_skus(db, [body.to_domain()], now)
    return body
