"""Whatever a client sends, the answer is never a 500: random JSON at every writing endpoint,
and rows that are almost right (the shapes a buggy integration sends)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import World

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
ENDPOINTS = [
    ("POST", "/v1/stock/snapshots"),
    ("POST", "/v1/stock/movements"),
    ("PUT", "/v1/stock/safety-stock"),
    ("POST", "/v1/locations"),
    ("PUT", "/v1/locations/WH1"),
    ("POST", "/v1/skus"),
    ("PUT", "/v1/channels/web"),
    ("POST", "/v1/channels/web/availability"),
    ("POST", "/v1/keys"),
    ("POST", "/v1/orders"),
    ("POST", "/v1/orders/NOPE/cancel"),
    ("POST", "/v1/reservations"),
    ("POST", "/v1/returns"),
    ("POST", "/v1/returns/NOPE/receive"),
    ("POST", "/v1/fulfilments/NOPE/parcels"),
    ("POST", "/v1/pickups"),
    ("POST", "/v1/orders/NOPE/collect"),
    ("POST", "/v1/fulfilments/NOPE/transfer"),
    ("POST", "/v1/fulfilments/NOPE/receive"),
    ("PUT", "/v1/locations/ST1/collect-settings"),
]
near_rows = st.fixed_dictionaries(
    {
        "location": st.sampled_from(["WH1", "ST1", "", "WH1\t", "x" * 70]),
        "sku": st.sampled_from(["A", "B", "NOPE", "A\\"]),
        "on_hand": st.one_of(st.integers(-5, 2**40), st.text(max_size=3)),
        "as_of": st.sampled_from(
            ["2026-11-25T09:00:00+00:00", "2026-11-25T09:00:00", "2026-02-30T00:00:00Z", "", "now"]
        ),
    }
)
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def check(answer: Any) -> None:
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        assert answer.headers["content-type"] == "application/problem+json"


@FUZZ
@given(endpoint=st.sampled_from(ENDPOINTS), body=json_values)
def test_random_json_never_answers_500(world: World, endpoint: tuple[str, str], body: Any) -> None:
    method, path = endpoint
    check(world.client.request(method, path, json=body, headers=world.admin))


@FUZZ
@given(path=st.sampled_from(["/v1/reservations", "/v1/returns"]), body=json_values)
def test_random_json_with_an_idempotency_key_never_answers_500(
    world: World, path: str, body: Any
) -> None:
    headers = {**world.admin, "Idempotency-Key": "fuzz"}
    check(world.client.post(path, json=body, headers=headers))


@FUZZ
@given(rows=st.lists(near_rows, min_size=1, max_size=5))
def test_almost_right_snapshots_never_answer_500(world: World, rows: list[dict[str, Any]]) -> None:
    check(world.client.post("/v1/stock/snapshots", json={"rows": rows}, headers=world.admin))


@FUZZ
@given(text=st.text(min_size=1, max_size=30))
def test_odd_path_segments_never_answer_500(world: World, text: str) -> None:
    segment = quote(text, safe="")
    for path in (
        f"/v1/locations/{segment}",
        f"/v1/channels/web/availability/{segment}",
        f"/v1/parcels/{segment}/label.pdf",
        f"/v1/pickups/{segment}/manifest.pdf",
        f"/v1/orders/{segment}/collect-order",
        f"/v1/locations/{segment}/collect-settings",
    ):
        check(world.client.get(path, headers=world.admin))
