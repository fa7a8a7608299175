"""/v1/sourcing: where a basket would be served from (a dry run), and a given plan's score."""

from __future__ import annotations

from fastapi import APIRouter

from openoms.api.auth import Seller, check_channel_scope
from openoms.api.deps import NowDep, SourcingViewDep
from openoms.api.schemas.sourcing import DecisionBody, PlanRequest, ScoreBody, ScoreRequest
from openoms.domain.sourcing import Allocation
from openoms.services import sourcing

router = APIRouter(prefix="/v1/sourcing", tags=["sourcing"])


@router.post("/plan")
def plan_basket(
    body: PlanRequest, caller: Seller, view: SourcingViewDep, now: NowDep
) -> DecisionBody:
    """The plan the live profile's rules choose for the basket, with its decision record.

    A dry run: nothing is reserved. No plan under any rule is an answer, not an error: `plan`
    is null and `shortfall` names what was missing.
    """
    check_channel_scope(caller, body.channel, "channel")
    result = sourcing.plan_basket(
        view,
        channel=body.channel,
        method=body.delivery_method,
        lines=body.requested_lines(),
        destination=body.destination.to_domain(),
        now=now,
        promised=body.promised_date,
    )
    return DecisionBody.of(result)


@router.post("/score")
def score_plan(body: ScoreRequest, caller: Seller, view: SourcingViewDep, now: NowDep) -> ScoreBody:
    """Weigh a plan given by the caller with the rule's objective, and name what it breaks."""
    check_channel_scope(caller, body.channel, "channel")
    result = sourcing.score_plan(
        view,
        channel=body.channel,
        method=body.delivery_method,
        lines=body.requested_lines(),
        destination=body.destination.to_domain(),
        allocations=[Allocation(a.line_id, a.location, a.units) for a in body.allocations],
        rule=body.rule,
        now=now,
        promised=body.promised_date,
    )
    return ScoreBody.of(result)
