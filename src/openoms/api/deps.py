"""Dependencies the routes share: the database, the clock, the availability index."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Path, Query, Request

from openoms.api.schemas.common import CODE_PATTERN, PRINTABLE
from openoms.db.uow import Database
from openoms.domain.profiles import CriteriaRegistry
from openoms.domain.reservations import ReservationLimits
from openoms.domain.returns import ReturnPolicy
from openoms.services.availability import AvailabilityIndex
from openoms.services.sourcing_view import SourcingView

# Dependencies are `async` because they do no IO: FastAPI runs a sync dependency in a worker
# thread, a hop that costs more than the dependency itself on a millisecond budget.


async def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_index(request: Request) -> AvailabilityIndex:
    index: AvailabilityIndex = request.app.state.index
    return index


async def get_sourcing_view(request: Request) -> SourcingView:
    view: SourcingView = request.app.state.sourcing
    return view


async def get_criteria(request: Request) -> CriteriaRegistry:
    registry: CriteriaRegistry = request.app.state.criteria
    return registry


async def get_reservation_limits(request: Request) -> ReservationLimits:
    limits: ReservationLimits = request.app.state.reservation_limits
    return limits


async def get_return_policy(request: Request) -> ReturnPolicy:
    policy: ReturnPolicy = request.app.state.return_policy
    return policy


async def get_now() -> datetime:
    return datetime.now(UTC)


DatabaseDep = Annotated[Database, Depends(get_db)]
IndexDep = Annotated[AvailabilityIndex, Depends(get_index)]
NowDep = Annotated[datetime, Depends(get_now)]
CriteriaDep = Annotated[CriteriaRegistry, Depends(get_criteria)]
SourcingViewDep = Annotated[SourcingView, Depends(get_sourcing_view)]
ReservationLimitsDep = Annotated[ReservationLimits, Depends(get_reservation_limits)]
ReturnPolicyDep = Annotated[ReturnPolicy, Depends(get_return_policy)]
CursorQuery = Annotated[
    str | None, Query(max_length=200, pattern=PRINTABLE, description="From `next_cursor`.")
]
CodePath = Annotated[str, Path(min_length=1, max_length=64, pattern=CODE_PATTERN)]
LimitQuery = Annotated[int, Query(ge=1, le=1000)]
