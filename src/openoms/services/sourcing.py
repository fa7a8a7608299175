"""Sourcing as a dry run: where a basket would be served from, and how a given plan scores.

`plan_basket` walks the live profile's active rules in order, most favourable first, and keeps
the first rule under which the optimizer finds a plan; `score_plan` weighs a plan given by the
caller under one rule with the same candidates, cost model and objective, so that anyone can
check a decision from outside. Nothing is reserved: stock is read, never written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from openoms.domain.carriers import CarrierService, ServiceLevel
from openoms.domain.catalog import Sku
from openoms.domain.network import Location, great_circle_km
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
    is_active,
    screen_locations,
)
from openoms.domain.shipping import Destination
from openoms.domain.shipping_costs import NotMonotone, ShippingOrigins
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
    out_of_reach,
    score,
)
from openoms.domain.sourcing.space import shortfall
from openoms.errors import Conflict, FieldError, InvalidInput
from openoms.services.sourcing_view import ExcludedLocation, SourcingView, weights

LEVELS: Mapping[DeliveryMethod, ServiceLevel] = {DeliveryMethod.HOME_EXPRESS: ServiceLevel.EXPRESS}
"""The carrier level each method ships with; every other method ships standard."""

OPTIMIZER_EXCLUSIONS: Mapping[ExclusionReason, str] = {
    ExclusionReason.NO_STOCK: "no unit of any line of the basket",
    ExclusionReason.NO_WHOLE_LINE: "no line whole, and lines may not split under this rule",
    ExclusionReason.NOT_THE_WHOLE_BASKET: "not the whole basket, and this rule never splits",
}


RUNNERS_UP = 3
"""Plans kept beside the chosen one in a decision record; without a record (`explain` False),
none: the search then admits fewer plans, and the chosen one is the same."""


@dataclass(frozen=True, slots=True)
class RequestedLine:
    line_id: str
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class BasketStock:
    """The basket's skus and their positive ATP per location: read once, for several plans
    (the promise weighs five)."""

    skus: Mapping[str, Sku]
    stock: Mapping[str, Mapping[str, int]]


def read_basket(
    view: SourcingView,
    lines: Sequence[RequestedLine],
    now: datetime | None = None,
    *,
    refresh: bool = True,
) -> BasketStock:
    """An unknown sku is a 422 naming its line; holds not expired at `now` are taken off.

    `refresh` False: the caller caught the view up itself (the promise's route does, in a
    worker thread: a catch-up is a database read, which must not run on the event loop)."""
    if refresh:
        view.refresh()
    skus = view.skus([line.sku for line in lines])
    return BasketStock(skus, view.atp(skus, now))


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


class _Context:
    """What every rule of one sourcing run shares. (Plain classes, these two, not frozen
    dataclasses: compiled, decisions/0016, their construction costs a tenth.)"""

    __slots__ = (
        "basket",
        "basket_lines",
        "criteria",
        "destination",
        "explain",
        "now",
        "origins",
        "profile",
        "promised",
        "services",
        "stock",
        "view",
        "weights_g",
    )

    def __init__(
        self,
        *,
        profile: Profile,
        destination: Destination,
        basket: tuple[Line, ...],
        basket_lines: tuple[BasketLine, ...],
        stock: Mapping[str, Mapping[str, int]],
        promised: date | None,
        explain: bool,
        view: SourcingView,
        origins: ShippingOrigins,
        weights_g: Mapping[str, int],
        services: tuple[CarrierService, ...],
        criteria: CriteriaRegistry,
        now: datetime,
    ) -> None:
        self.profile = profile
        self.destination = destination
        self.basket = basket
        self.basket_lines = basket_lines
        self.stock = stock
        """Positive ATP per location and sku of the basket."""
        self.promised = promised
        self.explain = explain
        self.view = view
        self.origins = origins
        self.weights_g = weights_g
        self.services = services
        self.criteria = criteria
        self.now = now


class _Trial:
    __slots__ = ("candidates", "cost", "excluded", "rule")

    def __init__(
        self,
        rule: ProfileRule,
        candidates: tuple[Candidate, ...],
        cost: CostModel,
        excluded: tuple[ExcludedLocation, ...],
    ) -> None:
        self.rule = rule
        self.candidates = candidates
        self.cost = cost
        self.excluded = excluded


def plan_basket(
    view: SourcingView,
    *,
    channel: str,
    method: DeliveryMethod,
    lines: Sequence[RequestedLine],
    destination: Destination,
    now: datetime,
    explain: bool = True,
    basket: BasketStock | None = None,
    promised: date | None = None,
) -> SourcingResult:
    """The first active rule that yields a plan wins; every exclusion of each rule tried is kept.

    `explain` False leaves out of the record the locations that hold no unit of the basket (no
    plan can use them): the promise weighs five plans and needs none of their exclusions. It
    also passes over, unscreened, a rule whose locations cannot hold the basket between them
    as its split policy asks (`out_of_reach`), unless it is the last rule: its shortfall is
    then what the caller says is missing, and screening may make it larger.
    `basket`: the basket's stock as already read for this request, if it was. `promised`: the
    delivery date promised to the customer (an order being sourced again), which rules with a
    promise tolerance hold each location to.
    """
    context = _load(
        view,
        channel=channel,
        method=method,
        lines=lines,
        destination=destination,
        now=now,
        explain=explain,
        basket=basket,
        promised=promised,
    )
    attempts: list[Attempt] = []
    excluded: list[ExcludedLocation] = []
    rules = active_rules(context.profile, now)
    for rule in rules:
        holding = None if explain else _holding(context, rule)
        if holding is not None and rule is not rules[-1]:
            passed = _passed_over(context, rule, holding)
            if passed is not None:
                attempts.append(Attempt(rule.name, passed))
                continue
        trial = _trial(context, rule, holding=holding)
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
    view: SourcingView,
    *,
    channel: str,
    method: DeliveryMethod,
    lines: Sequence[RequestedLine],
    destination: Destination,
    allocations: Sequence[Allocation],
    rule: str | None,
    now: datetime,
    promised: date | None = None,
) -> ScoreResult:
    """Weigh the caller's plan under `rule` (default: the first active one) and name every rule
    of the plan it breaks, including a location the rule's filters leave out."""
    context = _load(
        view,
        channel=channel,
        method=method,
        lines=lines,
        destination=destination,
        now=now,
        explain=True,
        promised=promised,
    )
    chosen = _rule(context, rule)
    trial = _trial(context, chosen, active=is_active(chosen.calendar, now))
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
    view: SourcingView,
    *,
    channel: str,
    method: DeliveryMethod,
    lines: Sequence[RequestedLine],
    destination: Destination,
    now: datetime,
    explain: bool,
    basket: BasketStock | None = None,
    promised: date | None = None,
) -> _Context:
    _check_line_ids(lines)
    level = LEVELS.get(method, ServiceLevel.STANDARD)
    if basket is None:
        basket = read_basket(view, lines, now)
    skus, stock = basket.skus, basket.stock
    profile = view.live_profile(channel, method, now)
    return _Context(
        profile=profile,
        destination=destination,
        basket=tuple(Line(line.line_id, line.sku, line.quantity) for line in lines),
        basket_lines=tuple(
            BasketLine(line.sku, line.quantity, skus[line.sku].weight_g) for line in lines
        ),
        stock=stock,
        promised=promised,
        explain=explain,
        view=view,
        origins=view.origins(level, now),
        weights_g=weights(skus),
        services=view.of_level(level),
        criteria=view.criteria,
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


def _facts(
    context: _Context, rule: ProfileRule, active: bool, holding: Sequence[Location] | None
) -> tuple[list[LocationFacts], tuple[ExcludedLocation, ...]]:
    """What the rule screens, and the locations it leaves out without screening them.

    The filters on the location alone (kind, capability, tags, active) give the same verdict
    for every basket: the view keeps, per rule, the locations they let through (`admitted`)
    and why they leave out the others (`turned_away`), so only the admitted ones are screened
    against the basket. With a record (`explain`), every admitted location is screened, so
    that the record says why each was left out; without, only those near enough that hold
    some of the basket. A rule outside its calendar (`score_plan` may be asked to weigh one)
    screens every location: each is left out for that."""
    stock, point = context.stock, context.destination.point
    turned_away: tuple[ExcludedLocation, ...] = ()
    if not active:
        locations: Sequence[Location] = context.view.locations
    elif context.explain:
        locations = context.view.admitted(rule)
        turned_away = context.view.turned_away(rule, context.now)
    else:
        locations = holding if holding is not None else _holding(context, rule)
    dates = _delivery_dates(context, locations) if _checks_promise(context, rule) else {}
    facts = [
        LocationFacts(
            location,
            stock.get(location.code, {}),
            capacity_left=location.daily_capacity,
            distance_km=great_circle_km(location.point, point),
            delivery_date=dates.get(location.code),
        )
        for location in locations
    ]
    return facts, turned_away


def _holding(context: _Context, rule: ProfileRule) -> list[Location]:
    """The locations the rule lets through, near enough, that hold some of the basket."""
    near = context.view.admitted(rule, near=context.destination.point)
    return [at for at in near if at.code in context.stock]


def _passed_over(
    context: _Context, rule: ProfileRule, holding: Sequence[Location]
) -> Decision | None:
    """No plan, without screening, when the locations cannot hold the basket between them."""
    held = [context.stock[at.code] for at in holding]
    policy, _ = context.view.search_terms(rule)
    if not out_of_reach(context.basket, held, policy):
        return None
    together: dict[str, int] = {}
    for units in held:
        for sku, n in units.items():
            together[sku] = together.get(sku, 0) + n
    return Decision(None, (), True, 0, 0.0, (), shortfall(context.basket, together))


def _checks_promise(context: _Context, rule: ProfileRule) -> bool:
    return context.promised is not None and rule.filters.promise_tolerance_days is not None


def _delivery_dates(context: _Context, locations: Sequence[Location]) -> dict[str, date]:
    """The day a parcel of what each location could send of the basket would arrive (the
    latest of its window); none for a location no carrier serves: the promise filter then
    excludes it, for want of a date."""
    needed: dict[str, int] = {}
    for line in context.basket:
        needed[line.sku] = needed.get(line.sku, 0) + line.quantity
    codes = [location.code for location in locations]
    model = context.origins.for_destination(context.destination, codes, context.weights_g)
    dates: dict[str, date] = {}
    for code in codes:
        held = context.stock.get(code, {})
        units = {sku: min(n, held.get(sku, 0)) for sku, n in needed.items()}
        today = context.origins.today(code)
        if today is None or model.refusal(code) is not None or not any(units.values()):
            continue
        dates[code] = today + timedelta(days=model(code, units).days)
    return dates


def _trial(
    context: _Context,
    rule: ProfileRule,
    *,
    active: bool = True,
    holding: Sequence[Location] | None = None,
) -> _Trial:
    """The rule's candidates, less those the carriers refuse, and the cost model to weigh them.

    The exclusions come by location code, as one screening of every location would give them
    (the network's merged in), then the carriers' refusals. `active`: whether the rule is
    within its calendar at `context.now`. `holding`: `_holding`'s answer, if already had."""
    facts, turned_away = _facts(context, rule, active, holding)
    try:
        screening = screen_locations(
            rule,
            context.destination,
            context.basket_lines,
            facts,
            context.now,
            promised=context.promised,
            services=context.services,
            criteria=context.criteria,
        )
        base = context.origins.for_destination(
            context.destination,
            locations=[c.location for c in screening.candidates],
            weights_g=context.weights_g,
        )
    except (CriterionError, NotMonotone) as error:
        raise Conflict(f"rule {rule.name!r} cannot be applied: {error}") from error
    screened = [
        ExcludedLocation(e.location, e.rule, e.reason.value, e.detail) for e in screening.excluded
    ]
    # Both by location code, and disjoint: sorting their concatenation merges the two runs.
    excluded = sorted([*turned_away, *screened], key=_by_location)
    candidates: list[Candidate] = []
    for candidate in screening.candidates:
        refusal = base.refusal(candidate.location)
        refused = {sku: base.refusal(candidate.location, sku) for sku in candidate.stock}
        if refusal is None and not any(refused.values()) and any(candidate.stock.values()):
            candidates.append(candidate)  # every unit can ship: the screened candidate as is
            continue
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


def _by_location(exclusion: ExcludedLocation) -> str:
    return exclusion.location


def _optimize(context: _Context, trial: _Trial) -> Decision:
    policy, objective = context.view.search_terms(trial.rule)
    try:
        return optimize(
            context.basket,
            trial.candidates,
            trial.cost,
            policy=policy,
            objective=objective,
            runners_up=RUNNERS_UP if context.explain else 0,
        )
    except InvalidProblem as error:
        raise Conflict(f"rule {trial.rule.name!r} cannot be applied: {error}") from error
