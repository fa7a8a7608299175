"""Sourcing as a dry run: where a basket would be served from, and how a given plan scores.

`plan_basket` walks the live profile's active rules in order, most favourable first, and keeps
the first rule under which the optimizer finds a plan; `score_plan` weighs a plan given by the
caller under one rule with the same candidates, cost model and objective, so that anyone can
check a decision from outside. Nothing is reserved: stock is read, never written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from openoms.db.repositories import locations as locations_repo
from openoms.db.repositories import profiles as profiles_repo
from openoms.db.repositories import skus as skus_repo
from openoms.db.repositories import stock as stock_repo
from openoms.db.uow import Database
from openoms.domain.carriers import CarrierService, ServiceLevel, demo_carrier_services
from openoms.domain.catalog import Sku
from openoms.domain.network import great_circle_km
from openoms.domain.profiles import (
    BasketLine,
    CriteriaRegistry,
    CriterionError,
    DeliveryMethod,
    FilterReason,
    LocationFacts,
    Profile,
    ProfileRule,
    active_rules,
    live_version,
    screen_locations,
)
from openoms.domain.shipping import Destination
from openoms.domain.shipping_costs import NotMonotone, ShippingOrigins, shipping_origins
from openoms.domain.sourcing import (
    Allocation,
    Candidate,
    CostModel,
    Decision,
    ExclusionReason,
    InvalidProblem,
    Line,
    Plan,
    Rule,
    Shortfall,
    optimize,
    score,
)
from openoms.domain.stock import atp
from openoms.errors import Conflict, FieldError, InvalidInput, NotFound

LEVELS: Mapping[DeliveryMethod, ServiceLevel] = {DeliveryMethod.HOME_EXPRESS: ServiceLevel.EXPRESS}
"""The carrier level each method ships with; every other method ships standard."""

OPTIMIZER_EXCLUSIONS: Mapping[ExclusionReason, str] = {
    ExclusionReason.NO_STOCK: "no unit of any line of the basket",
    ExclusionReason.NO_WHOLE_LINE: "no line whole, and lines may not split under this rule",
    ExclusionReason.NOT_THE_WHOLE_BASKET: "not the whole basket, and this rule never splits",
}


@dataclass(frozen=True, slots=True)
class RequestedLine:
    line_id: str
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class ExcludedLocation:
    """A location a rule left out: `reason` is a filter (`FilterReason`) or the optimizer's."""

    location: str
    rule: str
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class Attempt:
    rule: str
    decision: Decision


@dataclass(frozen=True, slots=True)
class SourcingResult:
    """`rule` and `decision` are the winning rule's; both None when no rule found a plan."""

    profile: str
    rule: str | None
    decision: Decision | None
    attempts: tuple[Attempt, ...]
    excluded: tuple[ExcludedLocation, ...]

    @property
    def plan(self) -> Plan | None:
        return self.decision.plan if self.decision else None

    @property
    def shortfall(self) -> tuple[Shortfall, ...]:
        """What the last rule tried lacked, when no rule found a plan."""
        if self.decision is not None or not self.attempts:
            return ()
        return self.attempts[-1].decision.shortfall


@dataclass(frozen=True, slots=True)
class ScoreViolation:
    """`violation` is what the plan breaks (`sourcing.Rule`); `filter` says why a location that
    the plan uses is no candidate under `rule`."""

    rule: str
    violation: str
    subject: str
    detail: str
    filter: str | None = None


@dataclass(frozen=True, slots=True)
class ScoreResult:
    profile: str
    rule: str
    plan: Plan
    violations: tuple[ScoreViolation, ...]


@dataclass(frozen=True, slots=True)
class _Context:
    profile: Profile
    destination: Destination
    basket: tuple[Line, ...]
    basket_lines: tuple[BasketLine, ...]
    facts: tuple[LocationFacts, ...]
    origins: ShippingOrigins
    services: tuple[CarrierService, ...]
    criteria: CriteriaRegistry
    now: datetime


@dataclass(frozen=True, slots=True)
class _Trial:
    rule: ProfileRule
    candidates: tuple[Candidate, ...]
    cost: CostModel
    excluded: tuple[ExcludedLocation, ...]


def plan_basket(
    db: Database,
    *,
    channel: str,
    method: DeliveryMethod,
    lines: Sequence[RequestedLine],
    destination: Destination,
    now: datetime,
    criteria: CriteriaRegistry,
    services: Sequence[CarrierService] | None = None,
) -> SourcingResult:
    """The first active rule that yields a plan wins; every exclusion of each rule tried is kept."""
    context = _load(
        db,
        channel=channel,
        method=method,
        lines=lines,
        destination=destination,
        now=now,
        criteria=criteria,
        services=services,
    )
    attempts: list[Attempt] = []
    excluded: list[ExcludedLocation] = []
    for rule in active_rules(context.profile, now):
        trial = _trial(context, rule)
        decision = _optimize(context, trial)
        attempts.append(Attempt(rule.name, decision))
        excluded += trial.excluded
        excluded += [
            ExcludedLocation(e.location, rule.name, e.reason.value, OPTIMIZER_EXCLUSIONS[e.reason])
            for e in decision.excluded
        ]
        if decision.plan is not None:
            return SourcingResult(
                context.profile.code, rule.name, decision, tuple(attempts), tuple(excluded)
            )
    return SourcingResult(context.profile.code, None, None, tuple(attempts), tuple(excluded))


def score_plan(
    db: Database,
    *,
    channel: str,
    method: DeliveryMethod,
    lines: Sequence[RequestedLine],
    destination: Destination,
    allocations: Sequence[Allocation],
    rule: str | None,
    now: datetime,
    criteria: CriteriaRegistry,
    services: Sequence[CarrierService] | None = None,
) -> ScoreResult:
    """Weigh the caller's plan under `rule` (default: the first active one) and name every rule
    of the plan it breaks, including a location the rule's filters leave out."""
    context = _load(
        db,
        channel=channel,
        method=method,
        lines=lines,
        destination=destination,
        now=now,
        criteria=criteria,
        services=services,
    )
    chosen = _rule(context, rule)
    trial = _trial(context, chosen)
    try:
        scored = score(
            allocations,
            context.basket,
            trial.candidates,
            trial.cost,
            policy=chosen.split.to_policy(),
            objective=chosen.objective.to_objective(),
        )
    except InvalidProblem as error:
        raise InvalidInput([FieldError("allocations", str(error))]) from error
    why = {e.location: e for e in trial.excluded}
    violations = tuple(
        _violation(chosen.name, v.rule, v.subject, v.detail, why) for v in scored.violations
    )
    return ScoreResult(context.profile.code, chosen.name, scored.plan, violations)


def _violation(
    rule: str,
    violation: Rule,
    subject: str,
    detail: str,
    why: Mapping[str, ExcludedLocation],
) -> ScoreViolation:
    if violation is Rule.NOT_A_CANDIDATE:
        exclusion = why.get(subject)
        if exclusion is None:
            return ScoreViolation(rule, violation.value, subject, f"{subject} is no known location")
        return ScoreViolation(rule, violation.value, subject, exclusion.detail, exclusion.reason)
    return ScoreViolation(rule, violation.value, subject, detail)


def _rule(context: _Context, name: str | None) -> ProfileRule:
    if name is None:
        active = active_rules(context.profile, context.now)
        if not active:
            raise Conflict(f"no rule of profile {context.profile.code!r} is active now")
        return active[0]
    for rule in context.profile.rules:
        if rule.name == name:
            return rule
    known = ", ".join(r.name for r in context.profile.rules)
    message = f"profile {context.profile.code!r} has no rule {name!r} (it has: {known})"
    raise InvalidInput([FieldError("rule", message, "unknown_rule")])


def _load(
    db: Database,
    *,
    channel: str,
    method: DeliveryMethod,
    lines: Sequence[RequestedLine],
    destination: Destination,
    now: datetime,
    criteria: CriteriaRegistry,
    services: Sequence[CarrierService] | None,
) -> _Context:
    _check_line_ids(lines)
    level = LEVELS.get(method, ServiceLevel.STANDARD)
    of_level = tuple(s for s in services or demo_carrier_services() if s.level == level)
    with db.read() as conn:
        skus = _skus(conn, lines)
        profile = _live_profile(conn, channel, method, criteria, now)
        locations = locations_repo.all_locations(conn)
        stock = _atp(conn, skus)
    facts = tuple(
        LocationFacts(
            location,
            stock.get(location.code, {}),
            capacity_left=location.daily_capacity,
            distance_km=great_circle_km(location.point, destination.point),
        )
        for location in locations
    )
    return _Context(
        profile=profile,
        destination=destination,
        basket=tuple(Line(line.line_id, line.sku, line.quantity) for line in lines),
        basket_lines=tuple(
            BasketLine(line.sku, line.quantity, skus[line.sku].weight_g) for line in lines
        ),
        facts=facts,
        origins=shipping_origins(locations, of_level, skus.values(), now, level),
        services=of_level,
        criteria=criteria,
        now=now,
    )


def _check_line_ids(lines: Sequence[RequestedLine]) -> None:
    seen: set[str] = set()
    errors = []
    for i, line in enumerate(lines):
        if line.line_id in seen:
            errors.append(FieldError(f"lines[{i}].line_id", "is given twice", "duplicate"))
        seen.add(line.line_id)
    if errors:
        raise InvalidInput(errors)


def _skus(conn: Connection, lines: Sequence[RequestedLine]) -> dict[str, Sku]:
    found: dict[str, Sku] = {}
    errors = []
    for i, line in enumerate(lines):
        sku = found.get(line.sku) or skus_repo.get(conn, line.sku)
        if sku is None:
            errors.append(FieldError(f"lines[{i}].sku", f"unknown sku {line.sku!r}", "unknown"))
        else:
            found[sku.code] = sku
    if errors:
        raise InvalidInput(errors)
    return found


def _live_profile(
    conn: Connection,
    channel: str,
    method: DeliveryMethod,
    criteria: CriteriaRegistry,
    now: datetime,
) -> Profile:
    """The first profile (by code) of the channel and method that has a live version."""
    for code in profiles_repo.codes_for(conn, channel, method.value):
        live = live_version(profiles_repo.history(conn, code, criteria), now)
        if live is not None:
            return live.profile
    raise NotFound("sourcing profile", f"{channel}/{method.value}")


def _atp(conn: Connection, skus: Mapping[str, Sku]) -> dict[str, dict[str, int]]:
    """ATP per location and sku, read from the positions (a dry run may be a little stale)."""
    by_location: dict[str, dict[str, int]] = {}
    for code in skus:
        for row in stock_repo.positions_of_sku(conn, code):
            units = atp(row.on_hand, row.reserved, row.safety_stock)
            by_location.setdefault(row.location, {})[code] = units
    return by_location


def _trial(context: _Context, rule: ProfileRule) -> _Trial:
    """The rule's candidates, less those the carriers refuse, and the cost model to weigh them."""
    try:
        screening = screen_locations(
            rule,
            context.destination,
            context.basket_lines,
            context.facts,
            context.now,
            services=context.services,
            criteria=context.criteria,
        )
        base = context.origins.for_destination(
            context.destination, locations=[c.location for c in screening.candidates]
        )
    except (CriterionError, NotMonotone) as error:
        raise Conflict(f"rule {rule.name!r} cannot be applied: {error}") from error
    excluded = [
        ExcludedLocation(e.location, e.rule, e.reason.value, e.detail) for e in screening.excluded
    ]
    candidates: list[Candidate] = []
    for candidate in screening.candidates:
        refusal = base.refusal(candidate.location)
        refused = {sku: base.refusal(candidate.location, sku) for sku in candidate.stock}
        stock = {sku: 0 if refused[sku] else n for sku, n in candidate.stock.items()}
        if refusal is None and not any(stock.values()):
            refusal = next((r for r in refused.values() if r), "no unit of the basket can ship")
        if refusal is not None:
            excluded.append(
                ExcludedLocation(candidate.location, rule.name, FilterReason.CARRIER.value, refusal)
            )
            continue
        candidates.append(Candidate(candidate.location, stock, candidate.protect_below))
    return _Trial(rule, tuple(candidates), screening.cost_model(base), tuple(excluded))


def _optimize(context: _Context, trial: _Trial) -> Decision:
    try:
        return optimize(
            context.basket,
            trial.candidates,
            trial.cost,
            policy=trial.rule.split.to_policy(),
            objective=trial.rule.objective.to_objective(),
        )
    except InvalidProblem as error:
        raise Conflict(f"rule {trial.rule.name!r} cannot be applied: {error}") from error
