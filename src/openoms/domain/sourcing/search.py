"""The exact search: location sets in order of their lower bound, units placed within each set.

Why it is exact. Every location of a plan sends at least its smallest possible shipment, and
the cost model is monotone, so each location costs at least its site's `entry` and takes at
least its `min_days`: the sum of the entries (plus the days weight times the slowest
`min_days`) bounds every plan over a set from below. The search

1. evaluates each location that holds the whole basket on its own (usually a warehouse: the
   early upper bound);
2. walks the sets of two locations, then three, and so on (small sets first: they pay fewer
   parcels, so they lower the best objective early), each size depth first over the sites
   sorted by entry: once the cheapest completion of a set from site j on lifts its bound above
   the best plan, every later j does too, and the walk turns back; a size whose cheapest set
   already does ends the walk; a set that later sites cannot complete to hold the basket is
   dropped;
3. within a set, places the units of each sku (or each line, per line) on its locations,
   bounding each partial placement by the figures of its partial shipments, which only grow,
   plus the entries of the locations still empty (each must send something, or the plan
   belongs to a smaller set).

Nothing is dropped unless its bound exceeds the best objective found, so the best plan is
found; when the time budget runs out first, the best plan so far comes back with `exact=False`.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import NamedTuple

from openoms.domain.sourcing.assign import Assigner, SearchState
from openoms.domain.sourcing.model import (
    Allocation,
    Candidate,
    CostModel,
    Decision,
    Excluded,
    InvalidProblem,
    Line,
    Objective,
    Plan,
    SplitMode,
    SplitPolicy,
)
from openoms.domain.sourcing.plans import build_plan, validate
from openoms.domain.sourcing.space import Figures, Site, Space, Units, covers


class _OutOfTime(Exception):
    """Unwinds the search from wherever it is when the budget is spent."""


_CLOCK_EVERY = 64
"""Nodes between two looks at the clock: often enough for a 1 ms budget, too few to show."""


def optimize(
    basket: Sequence[Line],
    candidates: Sequence[Candidate],
    cost: CostModel,
    *,
    policy: SplitPolicy = SplitPolicy(),  # noqa: B008 - frozen, so sharing the default is safe
    objective: Objective = Objective(),  # noqa: B008 - frozen, so sharing the default is safe
    runners_up: int = 3,
    budget_ms: float = 50.0,
    clock: Callable[[], float] = time.perf_counter,
) -> Decision:
    """The plan with the lowest objective, and the record of how it was chosen.

    `clock` (seconds, monotonic) is a parameter so that domain code never reads time itself
    and tests can spend the budget at will.
    """
    started = clock()
    validate(basket, candidates, policy, objective)
    if runners_up < 0 or budget_ms < 0:
        raise InvalidProblem("runners_up and budget_ms cannot be negative")
    space = Space(basket, cost, objective, policy)
    sites: list[Site] = []
    excluded: list[Excluded] = []
    for candidate in sorted(candidates, key=lambda c: c.location):
        found = space.site(candidate)
        if isinstance(found, Excluded):
            excluded.append(found)
        else:
            sites.append(found)
    sites.sort(key=lambda site: (site.entry, site.code))
    search = _Search(space, sites, runners_up + 1, started + budget_ms / 1000, clock)
    exact = search.run()
    ranked = search.ranked()
    return Decision(
        plan=ranked[0] if ranked else None,
        runners_up=tuple(ranked[1:]),
        exact=exact,
        nodes=search.nodes,
        elapsed_ms=(clock() - started) * 1000,
        excluded=tuple(excluded),
        shortfall=() if ranked else space.shortfall(candidates),
    )


def out_of_reach(
    basket: Sequence[Line], holdings: Sequence[Mapping[str, int]], policy: SplitPolicy
) -> bool:
    """True when no plan within `policy` can serve `basket` from locations holding at most
    `holdings` (sku -> units each): screening only takes units away, so a rule whose locations
    fail this before screening has no plan after it. A necessary condition, not a sufficient
    one: False proves nothing (the parcels' limit, for one, is the search's to weigh).

    Every split needs the basket's units among the locations together; `never` needs them at
    one location; `per_line` needs each line whole at one location."""
    demand: dict[str, int] = {}
    for line in basket:
        demand[line.sku] = demand.get(line.sku, 0) + line.quantity
    if policy.mode is SplitMode.NEVER:
        return not any(
            all(held.get(sku, 0) >= units for sku, units in demand.items()) for held in holdings
        )
    if policy.mode is SplitMode.PER_LINE and any(
        all(held.get(line.sku, 0) < line.quantity for held in holdings) for line in basket
    ):
        return True
    return any(sum(held.get(sku, 0) for held in holdings) < units for sku, units in demand.items())


class _Partial(NamedTuple):
    """A location set on the way, with the lower bounds of any plan that contains it."""

    members: tuple[Site, ...]
    entries: float
    days: int
    parcels: int
    missing: Units


class _Search(SearchState):
    def __init__(
        self,
        space: Space,
        sites: Sequence[Site],
        keep: int,
        deadline: float,
        clock: Callable[[], float],
    ) -> None:
        self.space = space
        self.sites = sites
        self.keep = keep
        self.deadline = deadline
        self.clock = clock
        self.nodes = 0
        self.best = math.inf
        self.plans: dict[tuple[str, ...], Plan] = {}
        self.candidates = {site.code: site.candidate for site in sites}
        self._suffix: list[Units] | None = None
        self.prefix = list(itertools.accumulate((site.entry for site in sites), initial=0.0))
        self.assigner = Assigner(space, self)

    def run(self) -> bool:
        """True when the search ran to its end: the plan it returns is then proven the best."""
        try:
            for site in self.sites:
                if covers(site.stock, self.space.demand):
                    self.tick()
                    self._single(site)
            for size in range(2, _max_size(self.space, len(self.sites)) + 1):
                if self.prefix[size] > self.limit:
                    break
                self._extend(_Partial((), 0.0, 0, 0, self.space.needed), 0, size)
        except _OutOfTime:
            return False
        return True

    def _single(self, site: Site) -> None:
        """Weighed in full whatever the best so far: the usual runners-up are single locations."""
        lines = self.space.lines
        self.consider(
            self.space.figures(site.candidate, self.space.demand),
            lambda: (Allocation(line.line_id, site.code, line.quantity) for line in lines),
        )

    def tick(self) -> None:
        self.nodes += 1
        if self.nodes % _CLOCK_EVERY == 0 and self.clock() > self.deadline:
            raise _OutOfTime

    @property
    def limit(self) -> float:
        """Bounds at or under this may still hold the best plan (floats get a hair of slack)."""
        return self.best + 1e-9 * max(1.0, abs(self.best))

    def _extend(self, partial: _Partial, start: int, size: int) -> None:
        """Solve the sets of exactly `size` locations that extend `partial` with later sites.

        Sites are sorted by entry, so the cheapest way to add the r members still missing from
        site j on is sites j..j+r-1; once that exceeds the best plan, so does every later j.
        """
        days_weight = self.space.objective.days
        missing_members = size - len(partial.members)
        for j in range(start, len(self.sites) - missing_members + 1):
            self.tick()
            cheapest = partial.entries + self.prefix[j + missing_members] - self.prefix[j]
            if cheapest + days_weight * partial.days > self.limit:
                return
            site = self.sites[j]
            days = max(partial.days, site.min_days)
            parcels = partial.parcels + site.min_parcels
            if cheapest + days_weight * days > self.limit or self._over_parcels(parcels):
                continue
            missing = tuple(max(0, m - c) for m, c in zip(partial.missing, site.cover, strict=True))
            grown = _Partial(
                (*partial.members, site), partial.entries + site.entry, days, parcels, missing
            )
            if missing_members == 1:
                if not any(missing):
                    self.assigner.solve(grown.members)
            elif covers(self.suffix[j + 1], missing):
                self._extend(grown, j + 1, size)

    @property
    def suffix(self) -> list[Units]:
        """Built on first use: most baskets are served by one location, and sets are not walked."""
        if self._suffix is None:
            self._suffix = _suffix_covers(self.sites, len(self.space.needed))
        return self._suffix

    def _over_parcels(self, parcels: int) -> bool:
        cap = self.space.policy.max_parcels
        return cap is not None and parcels > cap

    def consider(self, total: Figures, allocations: Callable[[], Iterator[Allocation]]) -> None:
        if self._over_parcels(total.parcels):
            return
        if self.space.value(total, total.days) > self._admission():
            return
        plan = build_plan(
            allocations(), self.space.lines, self.candidates, self.space.cost, self.space.objective
        )
        known = self.plans.get(plan.locations)
        if known is not None and known.rank() <= plan.rank():
            return
        self.plans[plan.locations] = plan
        self.best = min(self.best, plan.objective)
        if len(self.plans) > 2 * self.keep:
            self.plans = {p.locations: p for p in self.ranked()}

    def _admission(self) -> float:
        """A plan worse than the `keep` best so far would be neither chosen nor a runner-up."""
        if len(self.plans) < self.keep:
            return math.inf
        kth = sorted(plan.objective for plan in self.plans.values())[self.keep - 1]
        return kth + 1e-9 * max(1.0, abs(kth))

    def ranked(self) -> list[Plan]:
        return sorted(self.plans.values(), key=Plan.rank)[: self.keep]


def _max_size(space: Space, sites: int) -> int:
    if space.policy.mode is SplitMode.NEVER:
        return 1
    cap = len(space.lines) if space.policy.mode is SplitMode.PER_LINE else sum(space.demand)
    if space.policy.max_locations is not None:
        cap = min(cap, space.policy.max_locations)
    return min(cap, sites)


def _suffix_covers(sites: Sequence[Site], width: int) -> list[Units]:
    """What the sites from position j on could bring together, to drop sets they cannot complete."""
    suffix = [tuple(0 for _ in range(width))]
    for site in reversed(sites):
        suffix.append(tuple(a + b for a, b in zip(suffix[-1], site.cover, strict=True)))
    return suffix[::-1]
