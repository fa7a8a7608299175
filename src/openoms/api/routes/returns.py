"""/v1/returns: units of a delivered order asked back, received and inspected at a location."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from openoms.api.auth import allow
from openoms.api.deps import (
    CodePath,
    CursorQuery,
    DatabaseDep,
    LimitQuery,
    NowDep,
    ReturnPolicyDep,
    SourcingViewDep,
)
from openoms.api.routes.parcels import PDF, LanguageQuery, pdf_response
from openoms.api.schemas.common import Code, Page
from openoms.api.schemas.orders import IdempotencyKey
from openoms.api.schemas.returns import ReceiptBody, ReturnBody, ReturnRequestBody
from openoms.domain.returns import ReturnStatus
from openoms.services import return_labels, returns
from openoms.services.keys import Principal, Role

router = APIRouter(prefix="/v1/returns", tags=["returns"])

Store = Annotated[Principal, Depends(allow(Role.STORE))]
Anyone = Annotated[Principal, Depends(allow(Role.CHANNEL, Role.STORE))]
IdempotencyHeader = Annotated[
    IdempotencyKey,
    Header(alias="Idempotency-Key", description="One per return: a retry sends the same."),
]


def _scope(caller: Principal) -> returns.Scope:
    if caller.role is Role.STORE:
        return returns.Scope(location=caller.location)
    if caller.role is Role.CHANNEL:
        return returns.Scope(channel=caller.channel)
    return returns.Scope()


@router.post(
    "",
    status_code=201,
    responses={200: {"description": "The same key and body again: the return asked first."}},
)
def create_return(
    body: ReturnRequestBody,
    key: IdempotencyHeader,
    *,
    caller: Anyone,
    response: Response,
    db: DatabaseDep,
    policy: ReturnPolicyDep,
    now: NowDep,
) -> ReturnBody:
    """Ask to return units of a delivered or collected order (any channel's). Refused with
    409 and the reason's code: `order_not_delivered`, `return_window_closed` (past the time
    limit after delivery), `too_many_units` (more than delivered less returned or being
    returned)."""
    asked = returns.create_return(
        db, body.to_request(key), policy=policy, now=now, scope=_scope(caller)
    )
    if not asked.created:
        response.status_code = 200
    response.headers["Location"] = f"/v1/returns/{asked.ret.id}"
    return ReturnBody.of(asked.ret)


@router.get("")
def list_returns(
    *,
    caller: Anyone,
    db: DatabaseDep,
    order_id: Annotated[Code | None, Query()] = None,
    location: Annotated[Code | None, Query(description="A store key: its own only.")] = None,
    status: ReturnStatus | None = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 100,
) -> Page[ReturnBody]:
    found = returns.list_returns(
        db,
        order_id=order_id,
        location=location,
        status=status,
        scope=_scope(caller),
        after=cursor,
        limit=limit,
    )
    return Page[ReturnBody].of([ReturnBody.of(r) for r in found], limit, lambda r: r.id)


@router.get("/{return_id}")
def get_return(return_id: CodePath, caller: Anyone, db: DatabaseDep) -> ReturnBody:
    return ReturnBody.of(returns.get_return(db, return_id, scope=_scope(caller)))


@router.get("/{return_id}/label.pdf", responses=PDF, response_class=Response)
def return_label_pdf(
    return_id: CodePath,
    caller: Anyone,
    db: DatabaseDep,
    view: SourcingViewDep,
    lang: LanguageQuery = "fr",
) -> Response:
    """The label of a return sent by carrier (100 x 150 mm, the return's id as Code 128), to the
    nearest warehouse that takes returns. A return brought to a store: 409 `no_return_label`."""
    pdf = return_labels.return_label_pdf(db, view, return_id, scope=_scope(caller), language=lang)
    return pdf_response(pdf, f"return-{return_id}.pdf")


@router.post("/{return_id}/receive")
def receive_return(
    return_id: CodePath,
    body: ReceiptBody,
    *,
    caller: Store,
    db: DatabaseDep,
    view: SourcingViewDep,
    policy: ReturnPolicyDep,
    now: NowDep,
) -> ReturnBody:
    """Every unit inspected: `resell` (back on this location's shelf), `second_hand` (to the
    second-hand hub, with its `grade`), `damaged` (written off). Emits `return.refund_due`."""
    done = returns.receive_return(
        db, view, return_id, body.to_receipt(), policy=policy, now=now, scope=_scope(caller)
    )
    return ReturnBody.of(done)
