"""SKUs."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictInt

from openoms.api.schemas.common import Body, Code, Currency, Label, Money, Name, Tag
from openoms.domain.catalog import Sku

Millimetres = Annotated[StrictInt, Field(ge=0, le=100_000)]


class SkuBody(Body):
    code: Code
    name: Name
    category: Label = ""
    weight_g: Annotated[StrictInt, Field(ge=0, le=10_000_000)]
    length_mm: Millimetres = 0
    width_mm: Millimetres = 0
    height_mm: Millimetres = 0
    price: Money
    currency: Currency = "EUR"
    barcode: Annotated[str, Field(max_length=64, pattern=r"^[0-9A-Za-z\-]*$")] = ""
    tags: list[Tag] = Field(default_factory=list, max_length=50)

    def to_domain(self) -> Sku:
        return Sku(
            code=self.code,
            name=self.name,
            category=self.category,
            weight_g=self.weight_g,
            length_mm=self.length_mm,
            width_mm=self.width_mm,
            height_mm=self.height_mm,
            price=self.price,
            currency=self.currency,
            barcode=self.barcode,
            tags=frozenset(self.tags),
        )

    @classmethod
    def of(cls, sku: Sku) -> SkuBody:
        return cls(
            code=sku.code,
            name=sku.name,
            category=sku.category,
            weight_g=sku.weight_g,
            length_mm=sku.length_mm,
            width_mm=sku.width_mm,
            height_mm=sku.height_mm,
            price=sku.price,
            currency=sku.currency,
            barcode=sku.barcode,
            tags=sorted(sku.tags),
        )
