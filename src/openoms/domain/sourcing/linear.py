"""A cost model with a fixed part per parcel and a linear part per unit.

It stands in for the carriers' rate cards until they plug in, and it is the model the MILP
reference can state exactly: every figure is a fixed amount per parcel plus an amount per unit,
and parcels are the shipment's total size divided by the parcel capacity, rounded up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from openoms.domain.sourcing.model import Breakdown


@dataclass(frozen=True, slots=True)
class ShippingTerms:
    """One location's terms. `parcel_capacity` is in the unit of the model's sizes (units or
    grams); None means any basket fits in one parcel. A sku missing from `unit_costs` costs
    `default_unit_cost`, so a location's handling can be one figure for every sku."""

    parcel_cost: int
    days: int
    unit_costs: Mapping[str, int] = field(default_factory=dict)
    default_unit_cost: int = 0
    carbon_per_parcel_g: int = 0
    carbon_per_unit_g: int = 0
    parcel_capacity: int | None = None

    def unit_cost(self, sku: str) -> int:
        return self.unit_costs.get(sku, self.default_unit_cost)

    def parcels(self, size: int) -> int:
        if size <= 0:
            return 0
        if self.parcel_capacity is None:
            return 1
        return -(-size // self.parcel_capacity)


@dataclass(frozen=True, slots=True)
class LinearCostModel:
    """Terms per location; `sizes` per sku (a sku not listed counts 1, so capacity counts units)."""

    terms: Mapping[str, ShippingTerms]
    sizes: Mapping[str, int] = field(default_factory=dict)

    def size(self, sku: str) -> int:
        return self.sizes.get(sku, 1)

    def __call__(self, location: str, units: Mapping[str, int], /) -> Breakdown:
        terms = self.terms[location]
        count = size = unit_cost = 0
        for sku, n in units.items():
            count += n
            size += self.size(sku) * n
            unit_cost += terms.unit_cost(sku) * n
        parcels = terms.parcels(size)
        return Breakdown(
            cost=terms.parcel_cost * parcels + unit_cost,
            days=terms.days if count else 0,
            carbon_g=terms.carbon_per_parcel_g * parcels + terms.carbon_per_unit_g * count,
            parcels=parcels,
        )
