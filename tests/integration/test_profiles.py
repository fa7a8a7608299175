"""Sourcing profiles over the API: drafts, publication now or later, what is live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import World

DOCUMENT: dict[str, Any] = {
    "code": "web-home",
    "name": "Web, home delivery",
    "channel": "web",
    "delivery_method": "home_standard",
    "rules": [
        {"name": "stores nearby", "filters": {"kinds": ["store"], "max_distance_km": 30}},
        {"name": "warehouses", "filters": {"kinds": ["warehouse"]}},
    ],
}


def test_a_draft_is_not_live_until_published(world: World) -> None:
    saved = world.client.post("/v1/profiles", json=DOCUMENT, headers=world.admin)
    assert saved.status_code == 201, saved.text
    assert (saved.json()["number"], saved.json()["state"]) == (1, "draft")
    history = world.client.get("/v1/profiles/web-home", headers=world.channel).json()
    assert history["live"] is None
    published = world.client.post("/v1/profiles/web-home/versions/1/publish", headers=world.admin)
    assert published.json()["state"] == "live"
    live = world.client.get("/v1/profiles/web-home", headers=world.channel).json()["live"]
    assert live["document"]["rules"][0]["filters"]["max_distance_km"] == 30


def test_a_version_scheduled_later_leaves_the_current_one_live(world: World) -> None:
    world.client.post("/v1/profiles", json=DOCUMENT, headers=world.admin)
    world.client.post("/v1/profiles/web-home/versions/1/publish", headers=world.admin)
    changed = {**DOCUMENT, "rules": DOCUMENT["rules"][1:]}
    world.client.post("/v1/profiles", json=changed, headers=world.admin)
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    scheduled = world.client.post(
        "/v1/profiles/web-home/versions/2/publish", json={"at": later}, headers=world.admin
    )
    assert scheduled.json()["state"] == "scheduled"
    history = world.client.get("/v1/profiles/web-home", headers=world.admin).json()
    assert history["live"]["number"] == 1
    again = world.client.post("/v1/profiles/web-home/versions/2/publish", headers=world.admin)
    assert again.status_code == 409


def test_an_invalid_document_names_its_fields_and_saves_nothing(world: World) -> None:
    bad = {**DOCUMENT, "rules": [{"name": "x", "filters": {"max_distance_km": -3}}]}
    answer = world.client.post("/v1/profiles", json=bad, headers=world.admin)
    assert answer.status_code == 422
    assert "rules[0].filters.max_distance_km" in {e["field"] for e in answer.json()["errors"]}
    assert world.client.get("/v1/profiles/web-home", headers=world.admin).status_code == 404


def test_publishing_needs_an_admin_and_an_existing_version(world: World) -> None:
    world.client.post("/v1/profiles", json=DOCUMENT, headers=world.admin)
    refused = world.client.post("/v1/profiles/web-home/versions/1/publish", headers=world.channel)
    assert refused.status_code == 403
    missing = world.client.post("/v1/profiles/web-home/versions/9/publish", headers=world.admin)
    assert missing.status_code == 404
    past = world.client.post(
        "/v1/profiles/web-home/versions/1/publish",
        json={"at": "2020-01-01T00:00:00+00:00"},
        headers=world.admin,
    )
    assert past.status_code == 409
