"""The catalogue: sellable items keyed by the retailer's code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sku:
    code: str
    name: str
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    price: int
    currency: str = "EUR"
    category: str = ""
    tags: frozenset[str] = frozenset()
    barcode: str = ""

    @property
    def volume_cm3(self) -> float:
        return self.length_mm * self.width_mm * self.height_mm / 1000
