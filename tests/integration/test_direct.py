"""The promise's direct lane (api/direct.py) answers as the FastAPI route would, or lets it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from openoms.api import direct
from openoms.api.app import create_app
from openoms.api.auth import SELLERS
from openoms.api.deps import get_db, get_now
from openoms.api.routes.promise import basket_document, product_document
from openoms.api.schemas.promise import ProductPromiseRequest, PromiseRequest
from openoms.config import Settings
from openoms.services import keys
from openoms.services.keys import Principal, Role
from openoms.services.sourcing_view import SourcingView
from tests.conftest import World
from tests.integration.test_promise_api import LYON, a_weekday_morning, network

BASKET = {
    "channel": "web",
    "lines": [
        {"line_id": "1", "sku": "A", "quantity": 1},
        {"line_id": "2", "sku": "B", "quantity": 2},
    ],
    "destination": LYON,
}


@dataclass
class Lane:
    client: TestClient
    channel: dict[str, str]
    answered: list[str]
    now: datetime


@pytest.fixture
def lane(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lane]:
    """An app that remembers keys (the test world's forgets them at once), on a fixed clock;
    `answered` lists the paths the lane answered itself."""
    network(world, [("WH1", "A", 5), ("WH1", "B", 5), ("ST2", "A", 1), ("ST2", "B", 2)])
    answered: list[str] = []

    def counted(path: str, answer: direct.Answer) -> direct.Answer:
        async def answering(
            body: Any, caller: Principal, view: SourcingView, now: datetime
        ) -> dict[str, Any]:
            document = await answer(body, caller, view, now)
            answered.append(path)
            return document

        return answering

    monkeypatch.setitem(
        direct.ROUTES,
        "/v1/promise",
        direct.DirectRoute(PromiseRequest, counted("/v1/promise", basket_document), SELLERS),
    )
    monkeypatch.setitem(
        direct.ROUTES,
        "/v1/promise/product",
        direct.DirectRoute(
            ProductPromiseRequest, counted("/v1/promise/product", product_document), SELLERS
        ),
    )
    settings = Settings(
        database_url=world.db.url,
        key_cache_seconds=600,
        availability_max_staleness_ms=0,
        run_worker=False,
    )
    app = create_app(settings, db=world.db)
    now = a_weekday_morning()
    app.dependency_overrides[get_now] = lambda: now
    with TestClient(app, raise_server_exceptions=False) as client:
        client.post("/v1/promise", json=BASKET, headers=world.channel)  # the key, remembered
        answered.clear()
        yield Lane(client, world.channel, answered, now)


def both(lane: Lane, monkeypatch: pytest.MonkeyPatch, path: str, **request: Any) -> Any:
    """The answer without the lane (the route, which also remembers the key), then with it:
    they must be the same."""
    with monkeypatch.context() as patched:
        patched.setattr(direct, "ROUTES", {})
        without = lane.client.post(path, **request)
    with_lane = lane.client.post(path, **request)
    assert with_lane.status_code == without.status_code, (with_lane.text, without.text)
    assert with_lane.headers["content-type"] == without.headers["content-type"]
    assert with_lane.json() == without.json()
    return with_lane


def test_a_well_formed_promise_is_answered_by_the_lane_as_the_route_answers_it(
    lane: Lane, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests: list[tuple[str, dict[str, Any]]] = [
        ("/v1/promise", BASKET),
        ("/v1/promise", {**BASKET, "pickup_store": "ST2"}),
        ("/v1/promise", {**BASKET, "nearest": 1}),
        ("/v1/promise/product", {"channel": "web", "sku": "A", "destination": LYON}),
    ]
    for path, body in requests:
        answer = both(lane, monkeypatch, path, json=body, headers=lane.channel)
        assert answer.status_code == 200, answer.text
        assert int(answer.headers["content-length"]) == len(answer.content)
    assert lane.answered == [path for path, _ in requests]


def test_every_other_request_goes_on_to_the_route_which_answers_it(
    world: World, lane: Lane, monkeypatch: pytest.MonkeyPatch
) -> None:
    scoped = keys.create_key(
        world.db, name="app", role=Role.CHANNEL, location=None, now=lane.now, channel="app"
    )
    app_key = {"Authorization": f"Bearer {scoped.secret}"}
    lane.client.post("/v1/promise", json={**BASKET, "channel": "app"}, headers=app_key)
    json_header = {**lane.channel, "content-type": "application/json"}
    cases: list[tuple[int, dict[str, Any]]] = [
        (401, {"json": BASKET}),
        (401, {"json": BASKET, "headers": {"Authorization": "Bearer not-a-key"}}),
        (401, {"json": BASKET, "headers": {"Authorization": lane.channel["Authorization"][7:]}}),
        (403, {"json": BASKET, "headers": world.carrier}),
        (403, {"json": BASKET, "headers": app_key}),  # a key of another channel
        (400, {"content": b'{"channel": "web", ', "headers": json_header}),
        (422, {"content": b"[1, 2]", "headers": json_header}),
        (422, {"json": {**BASKET, "nearest": 0}, "headers": lane.channel}),
        (
            422,
            {
                "json": {**BASKET, "lines": [{"line_id": "1", "sku": "NOPE", "quantity": 1}]},
                "headers": lane.channel,
            },
        ),  # the promise's own error
        (422, {"json": {**BASKET, "pickup_store": "WH1"}, "headers": lane.channel}),
        (
            422,
            {
                "content": b"channel=web",
                "headers": {**lane.channel, "content-type": "application/x-www-form-urlencoded"},
            },
        ),
    ]
    for status, request in cases:
        answer = both(lane, monkeypatch, "/v1/promise", **request)
        assert answer.status_code == status, (request, answer.text)
        assert answer.headers["content-type"] == "application/problem+json", answer.text
    assert lane.answered == []


def test_a_dependency_overridden_other_than_the_clock_sends_every_request_to_the_route(
    world: World, lane: Lane
) -> None:
    app: Any = lane.client.app
    app.dependency_overrides[get_db] = lambda: world.db
    answer = lane.client.post("/v1/promise", json=BASKET, headers=lane.channel)
    assert answer.status_code == 200, answer.text
    assert lane.answered == []
    del app.dependency_overrides[get_db]
    assert lane.client.post("/v1/promise", json=BASKET, headers=lane.channel).status_code == 200
    assert lane.answered == ["/v1/promise"]
