"""Sourcing dry runs: a basket and a destination in, a decision record or a plan's score out."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictInt

from openoms.api.schemas.common import Body, Code, Name
from openoms.domain.network import GeoPoint
from openoms.domain.profiles import DeliveryMethod
from openoms.domain.shipping import Destination
from openoms.domain.sourcing import Decision, Plan, PlanBreakdown, Shipment, Shortfall
from openoms.services.sourcing import (
    RequestedLine,
    ScoreResult,
    ScoreViolation,
    SourcingResult,
)
from openoms.services.sourcing_view import ExcludedLocation

MAX_LINES = 100
MAX_LINE_UNITS = 10_000

Units = Annotated[StrictInt, Field(ge=1, le=MAX_LINE_UNITS)]


class LineBody(Body):
    line_id: Code
    sku: Code
    quantity: Units


class DestinationBody(Body):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "FR"

    def to_domain(self) -> Destination:
        return Destination(GeoPoint(self.latitude, self.longitude), self.country)


class PlanRequest(Body):
    channel: Code
    delivery_method: DeliveryMethod
    lines: list[LineBody] = Field(min_length=1, max_length=MAX_LINES)
    destination: DestinationBody
    promised_date: date | None = Field(
        default=None,
        description="The delivery date promised to the customer: rules with a promise tolerance"
        " leave out locations that would deliver later.",
    )

    def requested_lines(self) -> list[RequestedLine]:
        return [RequestedLine(line.line_id, line.sku, line.quantity) for line in self.lines]


class AllocationBody(Body):
    line_id: Code
    location: Code
    units: Units


class ScoreRequest(PlanRequest):
    allocations: list[AllocationBody] = Field(min_length=1, max_length=10 * MAX_LINES)
    rule: Name | None = Field(
        default=None, description="The profile rule to score under; default: the first active."
    )


class AllocationOut(BaseModel):
    line_id: str
    location: str
    units: int


class ShipmentBody(BaseModel):
    location: str
    allocations: list[AllocationOut]
    cost: int = Field(description="Minor units of the location's currency.")
    days: int
    carbon_g: int
    parcels: int
    protected_units: int

    @classmethod
    def of(cls, shipment: Shipment) -> ShipmentBody:
        return cls.model_validate(shipment_document(shipment))


class BreakdownBody(BaseModel):
    cost: int
    days: int = Field(description="Of the slowest shipment.")
    carbon_g: int
    parcels: int
    protected_units: int
    objective: float

    @classmethod
    def of(cls, figures: PlanBreakdown) -> BreakdownBody:
        return cls.model_validate(breakdown_document(figures))


class PlanBody(BaseModel):
    shipments: list[ShipmentBody]
    breakdown: BreakdownBody

    @classmethod
    def of(cls, plan: Plan) -> PlanBody:
        return cls.model_validate(plan_document(plan))


# The documents of these models as plain dicts, built without validating them again: a hot
# route (the promise) writes them out with orjson; `Model.of` validates the same document.


def shipment_document(shipment: Shipment) -> dict[str, Any]:
    figures = shipment.breakdown
    return {
        "location": shipment.location,
        "allocations": [
            {"line_id": a.line_id, "location": a.location, "units": a.units}
            for a in shipment.allocations
        ],
        "cost": figures.cost,
        "days": figures.days,
        "carbon_g": figures.carbon_g,
        "parcels": figures.parcels,
        "protected_units": shipment.protected_units,
    }


def breakdown_document(figures: PlanBreakdown) -> dict[str, Any]:
    return {
        "cost": figures.cost,
        "days": figures.days,
        "carbon_g": figures.carbon_g,
        "parcels": figures.parcels,
        "protected_units": figures.protected_units,
        "objective": float(figures.objective),
    }


def plan_document(plan: Plan) -> dict[str, Any]:
    return {
        "shipments": [shipment_document(s) for s in plan.shipments],
        "breakdown": breakdown_document(plan.breakdown),
    }


class ExcludedBody(BaseModel):
    location: str
    rule: str
    reason: str = Field(description="The filter that excluded it, or the optimizer's reason.")
    detail: str

    @classmethod
    def of(cls, excluded: ExcludedLocation) -> ExcludedBody:
        return cls(
            location=excluded.location,
            rule=excluded.rule,
            reason=excluded.reason,
            detail=excluded.detail,
        )


class ShortfallBody(BaseModel):
    line_id: str
    units: int

    @classmethod
    def list_of(cls, shortfall: tuple[Shortfall, ...]) -> list[ShortfallBody]:
        return [cls(line_id=s.line_id, units=s.units) for s in shortfall]


class AttemptBody(BaseModel):
    rule: str
    found: bool
    exact: bool
    nodes: int
    elapsed_ms: float
    shortfall: list[ShortfallBody]


class DecisionBody(BaseModel):
    """The decision record. `rule` is null, and so is `plan`, when no rule found a plan."""

    profile: str
    rule: str | None
    plan: PlanBody | None
    runners_up: list[PlanBody]
    exact: bool = Field(description="The plan is proven the best under its rule.")
    nodes: int = Field(description="Search nodes, over every rule tried.")
    elapsed_ms: float = Field(description="Search time, over every rule tried.")
    excluded: list[ExcludedBody] = Field(description="Every location each rule tried left out.")
    shortfall: list[ShortfallBody] = Field(
        description="When no plan: the units the last rule tried could not find."
    )
    attempts: list[AttemptBody] = Field(description="Every rule tried, in order.")

    @classmethod
    def of(cls, result: SourcingResult) -> DecisionBody:
        decision: Decision | None = result.decision
        return cls(
            profile=result.profile,
            rule=result.rule,
            plan=PlanBody.of(decision.plan) if decision and decision.plan else None,
            runners_up=[PlanBody.of(p) for p in decision.runners_up] if decision else [],
            exact=decision.exact if decision else all(a.decision.exact for a in result.attempts),
            nodes=sum(a.decision.nodes for a in result.attempts),
            elapsed_ms=sum(a.decision.elapsed_ms for a in result.attempts),
            excluded=[ExcludedBody.of(e) for e in result.excluded],
            shortfall=ShortfallBody.list_of(result.shortfall),
            attempts=[
                AttemptBody(
                    rule=a.rule,
                    found=a.decision.plan is not None,
                    exact=a.decision.exact,
                    nodes=a.decision.nodes,
                    elapsed_ms=a.decision.elapsed_ms,
                    shortfall=ShortfallBody.list_of(a.decision.shortfall),
                )
                for a in result.attempts
            ],
        )


class ViolationBody(BaseModel):
    rule: str = Field(description="The profile rule the plan was scored under.")
    violation: str = Field(description="What the plan breaks: stock, quantity, split, ...")
    subject: str
    detail: str
    filter: str | None = Field(description="For not_a_candidate: the filter that excludes it.")

    @classmethod
    def of(cls, violation: ScoreViolation) -> ViolationBody:
        return cls(
            rule=violation.rule,
            violation=violation.violation,
            subject=violation.subject,
            detail=violation.detail,
            filter=violation.filter,
        )


class ScoreBody(BaseModel):
    profile: str
    rule: str
    valid: bool
    plan: PlanBody
    violations: list[ViolationBody]

    @classmethod
    def of(cls, result: ScoreResult) -> ScoreBody:
        return cls(
            profile=result.profile,
            rule=result.rule,
            valid=not result.violations,
            plan=PlanBody.of(result.plan),
            violations=[ViolationBody.of(v) for v in result.violations],
        )
