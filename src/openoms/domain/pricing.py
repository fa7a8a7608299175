"""What the customer pays for delivery: a price list per delivery method.

It is the retailer's commercial choice, not what the carrier charges (that is the retailer's
cost, in `shipping`): shops sell standard delivery below cost and give it away above a basket
amount to lift the average basket, so the two must never be derived from one another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from openoms.domain.profiles import DeliveryMethod


class NotOnThePriceList(LookupError):
    def __init__(self, method: DeliveryMethod) -> None:
        super().__init__(f"the price list has no price for {method.value}")
        self.method = method


@dataclass(frozen=True, slots=True)
class MethodPrice:
    """`price` in minor units; free when the basket amounts to `free_from` or more (None: never)."""

    price: int
    free_from: int | None = None

    def __post_init__(self) -> None:
        if self.price < 0:
            raise ValueError(f"price must not be negative, got {self.price}")
        if self.free_from is not None and self.free_from < 0:
            raise ValueError(f"free_from must not be negative, got {self.free_from}")

    def for_basket(self, basket_amount: int) -> int:
        if self.free_from is not None and basket_amount >= self.free_from:
            return 0
        return self.price


@dataclass(frozen=True, slots=True)
class PriceList:
    """One currency for the whole list: a basket priced in another would need an exchange rate."""

    currency: str
    prices: Mapping[DeliveryMethod, MethodPrice]

    def price(self, method: DeliveryMethod, basket_amount: int) -> int:
        """What the customer pays for `method` on a basket of `basket_amount` minor units."""
        if basket_amount < 0:
            raise ValueError(f"basket_amount must not be negative, got {basket_amount}")
        entry = self.prices.get(method)
        if entry is None:
            raise NotOnThePriceList(method)
        return entry.for_basket(basket_amount)


def demo_price_list() -> PriceList:
    """Figures in the range French fashion and home retailers show at checkout in 2025."""
    return PriceList(
        currency="EUR",
        prices={
            DeliveryMethod.HOME_STANDARD: MethodPrice(490, free_from=5_000),
            DeliveryMethod.HOME_EXPRESS: MethodPrice(990),
            DeliveryMethod.CLICK_COLLECT: MethodPrice(0),
            DeliveryMethod.EXPRESS_COLLECT: MethodPrice(0),
        },
    )
