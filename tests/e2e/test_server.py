"""The server started for real, driven over HTTP and the CLI, as an integrator would."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import eventually
from tests.e2e.conftest import Server

STORE = {
    "code": "ST-LILLE",
    "name": "Lille Grand Place",
    "kind": "store",
    "latitude": 50.637,
    "longitude": 3.063,
    "capabilities": ["ship", "click_collect"],
}
WAREHOUSE = {
    "code": "WH-LESQUIN",
    "name": "Lesquin DC",
    "kind": "warehouse",
    "latitude": 50.589,
    "longitude": 3.111,
}
WEB = {
    "code": "web",
    "name": "Web shop",
    "publication": {
        "kinds": ["warehouse", "store"],
        "buffers": {"store": 1},
        "minimums": {"store": 2},
    },
}


def test_network_catalogue_stock_and_availability_end_to_end(
    server: Server, tmp_path: Path
) -> None:
    with server.client() as http:
        for body in (STORE, WAREHOUSE):
            assert http.post("/v1/locations", json=body, headers=server.admin).status_code == 201
        skus = [
            {"code": f"SKU-{i}", "name": f"Item {i}", "weight_g": 300, "price": 1000 + i}
            for i in range(3)
        ]
        skus_file = tmp_path / "skus.json"
        skus_file.write_text(json.dumps(skus))
        imported = server.oms("import", "skus", str(skus_file))
        assert imported.returncode == 0, imported.stderr
        assert http.put("/v1/channels/web", json=WEB, headers=server.admin).status_code == 200

        stock_file = tmp_path / "stock.csv"
        stock_file.write_text(
            "location,sku,on_hand,as_of\n"
            "WH-LESQUIN,SKU-0,40,2026-11-25T06:00:00+00:00\n"
            "ST-LILLE,SKU-0,5,2026-11-25T06:00:00+00:00\n"
            "ST-LILLE,SKU-1,2,2026-11-25T06:00:00+00:00\n"
        )
        loaded = server.oms("import", "stock", str(stock_file))
        assert loaded.returncode == 0, loaded.stderr
        assert "3 applied" in loaded.stderr

        made = http.post(
            "/v1/keys", json={"name": "shop", "role": "channel"}, headers=server.admin
        ).json()
        shop = {"Authorization": f"Bearer {made['secret']}"}
        one = http.get("/v1/channels/web/availability/SKU-0", headers=shop).json()
        assert one["quantity"] == 44
        many = http.post(
            "/v1/channels/web/availability", json={"skus": ["SKU-0", "SKU-1"]}, headers=shop
        ).json()
        assert [i["quantity"] for i in many["items"]] == [44, 0]
        feed = http.get("/v1/channels/web/changes", headers=shop).json()
        assert [i["sku"] for i in feed["items"]] == ["SKU-0", "SKU-1", "SKU-2"]

        sold = http.post(
            "/v1/stock/movements",
            json={
                "rows": [
                    {
                        "movement_id": "pos-1",
                        "location": "ST-LILLE",
                        "sku": "SKU-0",
                        "delta": -3,
                        "reason": "sale",
                        "occurred_at": "2026-11-25T09:00:00+00:00",
                    }
                ]
            },
            headers=server.admin,
        )
        assert sold.json()["applied"] == 1
        after = eventually(
            lambda: http.get(
                "/v1/channels/web/changes", params={"since": feed["next_cursor"]}, headers=shop
            ).json(),
            lambda page: any(i["sku"] == "SKU-0" for i in page["items"]),
        )
        # The store is left with 2, 1 after its buffer: under the minimum of 2, so it publishes 0.
        # (A change the first read could not see yet, delayed by a transaction elsewhere on a
        # shared server, comes now, with the quantity it had then.)
        published = {(i["sku"], i["quantity"]) for i in feed["items"]} | {("SKU-0", 40)}
        assert ("SKU-0", 40) in {(i["sku"], i["quantity"]) for i in after["items"]}
        assert {(i["sku"], i["quantity"]) for i in after["items"]} <= published


def test_bad_input_gets_problems_and_the_server_keeps_serving(server: Server) -> None:
    with server.client() as http:
        broken = http.post(
            "/v1/stock/snapshots",
            content=b"{not json",
            headers={**server.admin, "content-type": "application/json"},
        )
        assert broken.status_code == 400
        assert broken.headers["content-type"] == "application/problem+json"
        rows = [
            {"location": "X", "sku": "Y", "on_hand": 1, "as_of": "2026-11-25T06:00:00+00:00"}
        ] * 10_001
        assert (
            http.post("/v1/stock/snapshots", json={"rows": rows}, headers=server.admin).status_code
            == 422
        )
        assert http.get("/v1/locations").status_code == 401
        assert http.get("/healthz").json()["status"] == "ok"
        docs = http.get("/openapi.json").json()
        assert "/v1/stock/snapshots" in docs["paths"]


def test_a_bad_stock_file_stops_at_its_line(server: Server, tmp_path: Path) -> None:
    stock_file = tmp_path / "stock.csv"
    stock_file.write_text(
        "location,sku,on_hand,as_of\nWH,SKU,minus one,2026-11-25T06:00:00+00:00\n"
    )
    result = server.oms("import", "stock", str(stock_file))
    assert result.returncode == 2
    assert "line 2: on_hand" in result.stderr


def test_profiles_import_from_a_file_and_go_live_when_published(
    server: Server, tmp_path: Path
) -> None:
    document = {
        "code": "web-home",
        "name": "Web home",
        "channel": "web",
        "delivery_method": "home_standard",
        "price": {"amount": 450, "currency": "EUR", "free_from": 6000},
        "rules": [{"name": "warehouses", "filters": {"kinds": ["warehouse"]}}],
    }
    profile_file = tmp_path / "profiles.json"
    profile_file.write_text(json.dumps([document]))
    result = server.oms("import", "profiles", str(profile_file), "--publish")
    assert result.returncode == 0, result.stderr
    assert "web-home version 1: live" in result.stderr
    with server.client() as http:
        answer = http.get("/v1/profiles/web-home", headers=server.admin)
    assert answer.status_code == 200, answer.text
    assert answer.json()["live"]["document"]["price"]["amount"] == 450

    document["rules"] = [{"name": "bad", "filters": {"kinds": ["shop"]}}]
    profile_file.write_text(json.dumps(document))
    result = server.oms("import", "profiles", str(profile_file))
    assert result.returncode == 2
    assert "rules[0].filters.kinds[0]" in result.stderr
