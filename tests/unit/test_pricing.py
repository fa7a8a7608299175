"""The customer's delivery price: per method, free above a basket amount."""

from __future__ import annotations

import pytest

from openoms.domain.pricing import MethodPrice, NotOnThePriceList, PriceList, demo_price_list
from openoms.domain.profiles import DeliveryMethod


def test_standard_delivery_is_charged_below_the_free_threshold() -> None:
    assert demo_price_list().price(DeliveryMethod.HOME_STANDARD, 4_999) == 490


def test_standard_delivery_is_free_from_the_threshold_on() -> None:
    prices = demo_price_list()
    assert prices.price(DeliveryMethod.HOME_STANDARD, 5_000) == 0
    assert prices.price(DeliveryMethod.HOME_STANDARD, 20_000) == 0


def test_a_method_without_threshold_is_charged_whatever_the_basket() -> None:
    assert demo_price_list().price(DeliveryMethod.HOME_EXPRESS, 1_000_000) == 990


def test_collecting_in_store_is_free() -> None:
    prices = demo_price_list()
    assert prices.price(DeliveryMethod.CLICK_COLLECT, 100) == 0
    assert prices.price(DeliveryMethod.EXPRESS_COLLECT, 100) == 0


def test_a_method_missing_from_the_list_is_refused_not_given_away() -> None:
    prices = PriceList("EUR", {DeliveryMethod.HOME_STANDARD: MethodPrice(490)})
    with pytest.raises(NotOnThePriceList):
        prices.price(DeliveryMethod.HOME_EXPRESS, 1_000)


@pytest.mark.parametrize(
    ("price", "free_from"), [(-1, None), (490, -1)], ids=["price", "free_from"]
)
def test_negative_figures_are_typing_errors(price: int, free_from: int | None) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        MethodPrice(price, free_from)


def test_a_negative_basket_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        demo_price_list().price(DeliveryMethod.HOME_STANDARD, -1)
