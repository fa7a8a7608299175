"""The stock feeds over the API, on both databases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from openoms.db.tables import stock_movements, stock_positions
from tests.conftest import World

T0 = "2026-11-25T08:00:00+00:00"
T1 = "2026-11-25T09:00:00+00:00"
T2 = "2026-11-25T10:00:00+00:00"


def snap(location: str, sku: str, on_hand: int, as_of: str = T1) -> dict[str, Any]:
    return {"location": location, "sku": sku, "on_hand": on_hand, "as_of": as_of}


def move(mid: str, location: str, sku: str, delta: int, at: str = T2) -> dict[str, Any]:
    return {
        "movement_id": mid,
        "location": location,
        "sku": sku,
        "delta": delta,
        "reason": "sale",
        "occurred_at": at,
    }


def on_hand(world: World, location: str, sku: str) -> int:
    rows = world.client.get(f"/v1/locations/{location}/stock", headers=world.admin).json()
    return int(next(r["on_hand"] for r in rows["items"] if r["sku"] == sku))


def position_count(world: World) -> int:
    with world.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(stock_positions)).scalar_one())


def test_snapshot_sets_on_hand_and_an_older_one_is_ignored_and_counted(world: World) -> None:
    first = world.client.post(
        "/v1/stock/snapshots",
        json={"rows": [snap("WH1", "A", 10, T1), snap("ST1", "A", 3, T1)]},
        headers=world.admin,
    )
    assert first.status_code == 200, first.text
    assert first.json() == {"received": 2, "applied": 2, "changed": 2, "stale": 0}
    older = world.client.post(
        "/v1/stock/snapshots",
        json={"rows": [snap("WH1", "A", 99, T0), snap("ST1", "A", 5, T2)]},
        headers=world.admin,
    )
    assert older.json() == {"received": 2, "applied": 1, "changed": 1, "stale": 1}
    assert on_hand(world, "WH1", "A") == 10
    assert on_hand(world, "ST1", "A") == 5


def test_replaying_a_snapshot_changes_nothing(world: World) -> None:
    body = {"rows": [snap("WH1", "A", 10)]}
    world.client.post("/v1/stock/snapshots", json=body, headers=world.admin)
    again = world.client.post("/v1/stock/snapshots", json=body, headers=world.admin)
    assert again.json() == {"received": 1, "applied": 0, "changed": 0, "stale": 1}


def test_newest_row_of_a_position_wins_within_a_batch(world: World) -> None:
    rows = [snap("WH1", "A", 7, T2), snap("WH1", "A", 3, T1)]
    report = world.client.post("/v1/stock/snapshots", json={"rows": rows}, headers=world.admin)
    assert report.json() == {"received": 2, "applied": 1, "changed": 1, "stale": 1}
    assert on_hand(world, "WH1", "A") == 7


def test_movement_applies_once_and_a_replayed_id_changes_nothing(world: World) -> None:
    world.client.post(
        "/v1/stock/snapshots", json={"rows": [snap("WH1", "A", 10)]}, headers=world.admin
    )
    body = {"rows": [move("m1", "WH1", "A", -3)]}
    first = world.client.post("/v1/stock/movements", json=body, headers=world.admin).json()
    again = world.client.post("/v1/stock/movements", json=body, headers=world.admin).json()
    assert first["applied"] == 1
    assert again == {
        "received": 1,
        "applied": 0,
        "duplicates": 1,
        "before_snapshot": 0,
        "clamped": 0,
    }
    assert on_hand(world, "WH1", "A") == 7


def test_movement_older_than_the_snapshot_is_already_counted_in_it(world: World) -> None:
    world.client.post(
        "/v1/stock/snapshots", json={"rows": [snap("WH1", "A", 10, T1)]}, headers=world.admin
    )
    report = world.client.post(
        "/v1/stock/movements", json={"rows": [move("m1", "WH1", "A", -4, T0)]}, headers=world.admin
    ).json()
    assert report["before_snapshot"] == 1
    assert on_hand(world, "WH1", "A") == 10


def test_snapshot_older_than_a_movement_nets_that_movement_in(world: World) -> None:
    """A POS sale at 10:00 reaches us before the WMS count taken at 09:00."""
    world.client.post(
        "/v1/stock/snapshots", json={"rows": [snap("ST1", "A", 10, T0)]}, headers=world.admin
    )
    world.client.post(
        "/v1/stock/movements", json={"rows": [move("m1", "ST1", "A", -2, T2)]}, headers=world.admin
    )
    world.client.post(
        "/v1/stock/snapshots", json={"rows": [snap("ST1", "A", 6, T1)]}, headers=world.admin
    )
    assert on_hand(world, "ST1", "A") == 4


def test_movement_below_zero_stops_at_zero_and_is_reported(world: World) -> None:
    world.client.post(
        "/v1/stock/snapshots", json={"rows": [snap("ST1", "A", 1)]}, headers=world.admin
    )
    report = world.client.post(
        "/v1/stock/movements", json={"rows": [move("m1", "ST1", "A", -3)]}, headers=world.admin
    ).json()
    assert report["clamped"] == 1
    assert on_hand(world, "ST1", "A") == 0


def test_unknown_sku_refuses_the_whole_batch_and_names_the_row(world: World) -> None:
    rows = [snap("WH1", "A", 10), snap("WH1", "B", 5), snap("WH1", "NOPE", 1), snap("XX", "A", 1)]
    answer = world.client.post("/v1/stock/snapshots", json={"rows": rows}, headers=world.admin)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in answer.json()["errors"]}
    assert fields == {"rows[2].sku", "rows[3].location"}
    assert answer.json()["code"] == "invalid_input"
    assert position_count(world) == 0


def test_bulk_feed_takes_ten_thousand_rows_and_refuses_one_more(world: World) -> None:
    rows = [
        snap("WH1", "A", i % 50, f"2026-11-25T09:{i // 6000:02d}:00+00:00") for i in range(10_000)
    ]
    accepted = world.client.post("/v1/stock/snapshots", json={"rows": rows}, headers=world.admin)
    assert accepted.status_code == 200
    refused = world.client.post(
        "/v1/stock/snapshots",
        json={"rows": [*rows, snap("WH1", "B", 1, T2)]},
        headers=world.admin,
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "rows"
    with world.db.read() as conn:
        keys = conn.execute(select(stock_positions.c.sku_code)).scalars().all()
    assert keys == ["A"]


def test_bad_values_are_refused_with_the_field_named(world: World) -> None:
    cases = [
        (snap("WH1", "A", -1), "rows[0].on_hand"),
        (snap("WH1", "A", 10**12), "rows[0].on_hand"),
        ({**snap("WH1", "A", 1), "on_hand": "ten"}, "rows[0].on_hand"),
        ({**snap("WH1", "A", 1), "on_hand": 1.5}, "rows[0].on_hand"),
        ({**snap("WH1", "A", 1), "as_of": "2026-11-25T09:00:00"}, "rows[0].as_of"),
        ({**snap("WH1", "A", 1), "as_of": "yesterday"}, "rows[0].as_of"),
        ({**snap("WH1", "A", 1), "extra": 1}, "rows[0].extra"),
        ({"location": "WH1", "sku": "A"}, "rows[0].on_hand"),
    ]
    for row, field in cases:
        answer = world.client.post("/v1/stock/snapshots", json={"rows": [row]}, headers=world.admin)
        assert answer.status_code == 422, (row, answer.text)
        assert field in {e["field"] for e in answer.json()["errors"]}, (row, answer.json())
    huge = world.client.post(
        "/v1/stock/movements",
        json={"rows": [move("m", "WH1", "A", -(10**10))]},
        headers=world.admin,
    )
    assert huge.status_code == 422
    assert position_count(world) == 0


def test_malformed_json_is_a_400_problem(world: World) -> None:
    answer = world.client.post(
        "/v1/stock/snapshots",
        content=b'{"rows": [',
        headers={**world.admin, "content-type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "malformed_json"
    assert answer.headers["content-type"] == "application/problem+json"


def test_wrong_body_shape_is_a_422_not_a_500(world: World) -> None:
    for body in ([1, 2], {"rows": "all"}, {"rows": [None]}, {}, "text"):
        answer = world.client.post("/v1/stock/snapshots", json=body, headers=world.admin)
        assert answer.status_code == 422, (body, answer.text)


def test_movements_with_an_unknown_location_write_nothing(world: World) -> None:
    rows = [move("m1", "WH1", "A", 5), move("m2", "NOWHERE", "A", 5)]
    answer = world.client.post("/v1/stock/movements", json={"rows": rows}, headers=world.admin)
    assert answer.status_code == 422
    with world.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(stock_movements)).scalar_one() == 0
    assert position_count(world) == 0


def test_safety_stock_lowers_atp(world: World) -> None:
    world.client.post(
        "/v1/stock/snapshots", json={"rows": [snap("WH1", "A", 10)]}, headers=world.admin
    )
    answer = world.client.put(
        "/v1/stock/safety-stock",
        json={"rows": [{"location": "WH1", "sku": "A", "safety_stock": 4}]},
        headers=world.admin,
    )
    assert answer.status_code == 200
    rows = world.client.get("/v1/locations/WH1/stock", headers=world.admin).json()["items"]
    assert rows[0]["atp"] == 6


def test_a_movement_at_the_snapshot_instant_is_counted_in_the_snapshot(world: World) -> None:
    post = world.client.post
    post("/v1/stock/snapshots", json={"rows": [snap("ST1", "A", 10, T0)]}, headers=world.admin)
    post(
        "/v1/stock/movements", json={"rows": [move("m1", "ST1", "A", -2, T1)]}, headers=world.admin
    )
    post(
        "/v1/stock/movements", json={"rows": [move("m2", "ST1", "A", -1, T2)]}, headers=world.admin
    )
    post("/v1/stock/snapshots", json={"rows": [snap("ST1", "A", 6, T1)]}, headers=world.admin)
    assert on_hand(world, "ST1", "A") == 5
