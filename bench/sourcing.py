"""The sourcing optimizer against HiGHS, and a naive baseline, on the same random instances.

Instances look like a retail network seen from one destination: a few warehouses with deep
stock, many stores with a few units of a few skus (and their last units protected), parcels
whose fixed cost dominates, a cost and days that grow with distance. Baskets of 1-5 lines,
every line splittable (the hardest policy for the search). In the same run, on each instance:
our exact search, the MILP in HiGHS (building and solving, as a caller would pay it), and
"nearest location per line" (the nearest location holding the line, else the nearest ones in
turn), whose objective is compared with the optimum.

    .venv/bin/python bench/sourcing.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import time
from dataclasses import dataclass, field

from openoms.domain.sourcing import (
    Allocation,
    Candidate,
    Line,
    LinearCostModel,
    Objective,
    ShippingTerms,
    SplitPolicy,
    optimize,
    score,
)
from openoms.domain.sourcing_milp import solve

POLICY = SplitPolicy()
OBJECTIVE = Objective(cost=1.0, days=60.0, carbon=0.02, parcels=50.0, protection=150.0)
CATALOGUE = [f"SKU{i:04d}" for i in range(400)]
WAREHOUSES = 4


@dataclass(frozen=True, slots=True)
class Instance:
    basket: list[Line]
    candidates: list[Candidate]
    cost: LinearCostModel
    distance: dict[str, float]


def build(rng: random.Random, locations: int) -> Instance:
    sizes = {sku: rng.choice((150, 400, 800, 1500, 4000)) for sku in CATALOGUE}
    popular = CATALOGUE[:80]
    skus = rng.sample(popular if rng.random() < 0.7 else CATALOGUE, rng.randint(1, 5))
    basket = [
        Line(f"{i + 1}", sku, rng.choices((1, 2, 3), (80, 15, 5))[0]) for i, sku in enumerate(skus)
    ]
    candidates, terms, distance = [], {}, {}
    for j in range(locations):
        warehouse = j < WAREHOUSES
        code = f"{'WH' if warehouse else 'ST'}{j:03d}"
        km = rng.uniform(20, 900) if warehouse else rng.uniform(1, 600)
        distance[code] = km
        candidates.append(Candidate(code, stock(rng, skus, warehouse), 0 if warehouse else 2))
        terms[code] = ShippingTerms(
            parcel_cost=round((450 if warehouse else 560) + 0.5 * km),
            days=(1 if km < 150 else 2 if km < 500 else 3) + (0 if warehouse else 1),
            default_unit_cost=35 if warehouse else 90,
            carbon_per_parcel_g=round(60 + 0.9 * km),
            carbon_per_unit_g=25,
            parcel_capacity=30_000,
        )
    return Instance(basket, candidates, LinearCostModel(terms, sizes=sizes), distance)


def stock(rng: random.Random, skus: list[str], warehouse: bool) -> dict[str, int]:
    if warehouse:
        return {sku: rng.randint(5, 400) for sku in skus if rng.random() < 0.85}
    return {sku: rng.randint(1, 4) for sku in skus if rng.random() < 0.12}


def nearest_per_line(instance: Instance) -> list[Allocation]:
    """What several shops do: each line from the nearest location that holds it, else in turn."""
    left = {c.location: dict(c.stock) for c in instance.candidates}
    nearest = sorted(left, key=lambda code: (instance.distance[code], code))
    allocations = []
    for line in instance.basket:
        whole = [code for code in nearest if left[code].get(line.sku, 0) >= line.quantity]
        need = line.quantity
        for code in whole[:1] or nearest:
            take = min(need, left[code].get(line.sku, 0))
            if take:
                allocations.append(Allocation(line.line_id, code, take))
                left[code][line.sku] -= take
                need -= take
            if not need:
                break
    return allocations


@dataclass(slots=True)
class Figures:
    exact_ms: list[float] = field(default_factory=list)
    highs_ms: list[float] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)
    nodes: list[int] = field(default_factory=list)
    matches: int = 0
    compared: int = 0
    proven: int = 0


def run(instances: list[Instance]) -> Figures:
    figures = Figures()
    for instance in instances:
        started = time.perf_counter()
        decision = optimize(
            instance.basket, instance.candidates, instance.cost, policy=POLICY, objective=OBJECTIVE
        )
        figures.exact_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        reference = solve(
            instance.basket, instance.candidates, instance.cost, policy=POLICY, objective=OBJECTIVE
        )
        figures.highs_ms.append((time.perf_counter() - started) * 1000)
        figures.proven += decision.exact
        figures.nodes.append(decision.nodes)
        figures.compared += 1
        if decision.plan is None or reference.objective is None:
            figures.matches += decision.plan is None and reference.objective is None
            continue
        optimum = reference.objective
        figures.matches += math.isclose(decision.plan.objective, optimum, rel_tol=1e-6)
        naive = score(
            nearest_per_line(instance),
            instance.basket,
            instance.candidates,
            instance.cost,
            policy=POLICY,
            objective=OBJECTIVE,
        )
        figures.gaps.append((naive.plan.objective - optimum) / optimum * 100)
    return figures


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def report(name: str, samples: list[float]) -> None:
    print(
        f"{name:>28}: median {statistics.median(samples):7.2f} ms"
        f"   p99 {percentile(samples, 0.99):7.2f} ms   max {max(samples):7.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer instances")
    args = parser.parse_args()
    count = 60 if args.quick else 300
    rng = random.Random(20261125)
    total = Figures()
    for locations in (50, 200):
        instances = [build(rng, locations) for _ in range(count)]
        figures = run(instances)
        print(f"\n{count} baskets of 1-5 lines, {locations} candidate locations")
        report("exact search", figures.exact_ms)
        report("HiGHS (build + solve)", figures.highs_ms)
        print(
            f"{'objectives equal to HiGHS':>28}: {figures.matches}/{figures.compared}"
            f"   proven exact: {figures.proven}/{count}"
            f"   nodes median {statistics.median(figures.nodes):.0f}, max {max(figures.nodes)}"
        )
        print(f"{'nearest per line costs':>28}: {statistics.mean(figures.gaps):.1f}% more (mean)")
        total.exact_ms += figures.exact_ms
        total.highs_ms += figures.highs_ms
        total.matches += figures.matches
        total.compared += figures.compared
        total.gaps += figures.gaps
    metrics = {
        "exact_p99_ms": round(percentile(total.exact_ms, 0.99), 3),
        "highs_p99_ms": round(percentile(total.highs_ms, 0.99), 3),
        "ratio_highs_to_exact": round(
            statistics.median(total.highs_ms) / statistics.median(total.exact_ms), 1
        ),
        "objective_match_rate": round(total.matches / total.compared, 4),
        "greedy_gap_pct": round(statistics.mean(total.gaps), 1),
    }
    print(json.dumps({"bench": "sourcing", "metrics": metrics}))


if __name__ == "__main__":
    main()
