"""The order's answer written by hand (`order_json`) is the document `OrderBody` gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson

from openoms.api.schemas.orders import OrderBody, order_json
from openoms.domain.fulfilments import FulfilmentStatus
from openoms.domain.network import GeoPoint
from openoms.domain.orders import Buckets, OrderStatus
from openoms.domain.shipping import Destination
from openoms.services.ordering import (
    AllocationView,
    DecisionView,
    FulfilmentView,
    LineView,
    OrderSummary,
    OrderView,
)

PLACED = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 1, 10, 0, 1, 123456, tzinfo=UTC)
PARIS = timezone(timedelta(hours=1))


def _order(**changes: object) -> OrderView:
    record = {
        "profile": "web-home",
        "rule": "warehouses",
        "plan": {"shipments": [], "breakdown": {"cost": 1, "objective": 0.1 + 0.2}},
        "runners_up": [],
        "elapsed_ms": 1e-7,
        "excluded": [{"location": "S1", "rule": "warehouses", "reason": "kind", "detail": "x"}],
        "excluded_by_network": [],
    }
    fields: dict[str, object] = {
        "summary": OrderSummary("o1", "web", "home_standard", OrderStatus.ALLOCATED, PLACED, LATER),
        "customer": {"name": "Camille Martin", "email": "camille@example.com"},
        "destination": Destination(GeoPoint(45.76, 4.835), "FR"),
        "pickup_store": None,
        "promise_option": {"method": "home_standard", "price": 499, "earliest": "2026-12-03"},
        "lines": (
            LineView("1", "SKU-1", 3, 1999, "EUR", None, Buckets(allocated={"W1": 2, "S2": 1})),
            LineView("2", "SKU-2", 1, 500, "EUR", "no_stock", Buckets(unallocated=1)),
        ),
        "fulfilments": (
            FulfilmentView(
                "f1",
                "W1",
                FulfilmentStatus.CLAIMED,
                "warehouses",
                1,
                PLACED,
                LATER.astimezone(PARIS),
                (AllocationView("1", "SKU-1", 2),),
            ),
        ),
        "decisions": (DecisionView(1, "allocated", record, PLACED),),
    }
    fields.update(changes)
    return OrderView(**fields)  # type: ignore[arg-type]


def _same(order: OrderView) -> None:
    expected = OrderBody.of_order(order).model_dump_json().encode()
    assert orjson.loads(order_json(order)) == orjson.loads(expected)  # datetimes: same text


def test_a_placed_order_is_written_as_its_model_writes_it() -> None:
    _same(_order())


def test_an_order_to_collect_without_destination_nor_option_nor_decisions() -> None:
    _same(_order(destination=None, pickup_store="S2", promise_option=None, decisions=()))
