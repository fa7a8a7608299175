"""The promise's answers are written from plain documents by orjson: they must be what the
response models (the API's documented schema) would have written."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from pydantic import BaseModel

from openoms.api.routes.promise import _json
from openoms.api.schemas.promise import (
    ProductPromiseBody,
    PromiseBody,
    product_promise_document,
    promise_document,
)
from openoms.domain.profiles import DeliveryMethod
from openoms.domain.shipping import DeliveryWindow
from openoms.domain.sourcing import Allocation, Breakdown, Plan, PlanBreakdown, Shipment
from openoms.services.promise import DeliveryOption, ProductPromise, Promise, Unavailable

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=UTC)


def plan(objective: float) -> Plan:
    shipment = Shipment(
        "WH-LYON",
        (Allocation("1", "WH-LYON", 2), Allocation("2", "WH-LYON", 1)),
        Breakdown(612, 2, 180, 1),
        0,
    )
    return Plan((shipment,), PlanBreakdown(612, 2, 180, 1, 0, objective))


def option(method: DeliveryMethod, **extra: Any) -> DeliveryOption:
    figures: dict[str, Any] = {
        "price": 490,
        "currency": "EUR",
        "window": DeliveryWindow(date(2026, 12, 3), date(2026, 12, 4)),
        "ready_at": None,
        "carbon_g": 180,
        "parcels": 1,
        "plan": plan(613.8),
        "profile": "web-home",
        "rule": "warehouses",
    }
    return DeliveryOption(method, **{**figures, **extra})


PROMISE = Promise(
    4_990,
    "EUR",
    (
        option(DeliveryMethod.HOME_STANDARD),
        option(DeliveryMethod.HOME_EXPRESS, price=990, plan=plan(700)),  # an int objective
        option(
            DeliveryMethod.CLICK_COLLECT,
            window=None,
            ready_at=NOW.astimezone(PARIS) + timedelta(hours=2),
            pickup_store="ST-LYON",
        ),
        option(DeliveryMethod.EXPRESS_COLLECT, window=None, ready_at=NOW, pickup_store="ST-LYON"),
    ),
    (Unavailable(DeliveryMethod.CLICK_COLLECT, "ST-BRON is closed now", "ST-BRON"),),
)


def as_the_model_writes_it(model: type[BaseModel], document: dict[str, Any]) -> Any:
    return json.loads(model.model_validate(document).model_dump_json())


def test_a_promise_is_written_as_its_response_model_writes_it() -> None:
    document = promise_document(PROMISE)
    written = json.loads(bytes(_json(document).body))
    assert written == as_the_model_writes_it(PromiseBody, document)
    assert written["options"][0]["plan"]["breakdown"]["objective"] == 613.8
    assert written["options"][1]["plan"]["breakdown"]["objective"] == 700.0
    assert written["options"][3]["ready_at"] == "2026-12-01T09:30:15.123456Z"
    assert written["options"][2]["ready_at"].endswith("+01:00")


def test_the_product_page_s_line_is_written_as_its_response_model_writes_it() -> None:
    for found in (
        ProductPromise(
            "SKU-1",
            PROMISE.options[0],
            "WH-LYON",
            NOW + timedelta(hours=3),
            NOW + timedelta(hours=2, minutes=13, seconds=30),
            timedelta(hours=2, minutes=13, seconds=30),
            (),
        ),
        ProductPromise("SKU-2", None, None, None, None, None, PROMISE.unavailable),
    ):
        document = product_promise_document(found)
        written = json.loads(bytes(_json(document).body))
        assert written == as_the_model_writes_it(ProductPromiseBody, document)
    assert orjson.loads(bytes(_json(product_promise_document(found)).body))["option"] is None
