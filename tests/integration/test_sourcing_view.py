"""The sourcing view serves sourcing and the promise from memory, and still sees every write."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event, text

from openoms.db.uow import Database
from openoms.domain.carriers import ServiceLevel
from openoms.domain.network import GeoPoint
from openoms.domain.profiles import DeliveryMethod, installed_criteria, parse_profile
from openoms.domain.shipping import Destination
from openoms.services import catalog
from openoms.services.sourcing import RequestedLine, plan_basket
from openoms.services.sourcing_view import SourcingView
from tests.conftest import World, sku
from tests.integration.test_promise_api import a_weekday_morning
from tests.integration.test_sourcing_api import PROFILE, open_location, publish, set_stock

LYON = Destination(GeoPoint(45.76, 4.86), "FR")
MORNING = a_weekday_morning()


def view_of(db: Database) -> SourcingView:
    return SourcingView(db, criteria=installed_criteria())


def plan(view: SourcingView, *lines: tuple[str, str, int], explain: bool = True) -> Any:
    return plan_basket(
        view,
        channel="web",
        method=DeliveryMethod.HOME_STANDARD,
        lines=[RequestedLine(i, s, q) for i, s, q in lines],
        destination=LYON,
        now=MORNING,
        explain=explain,
    )


def ready(world: World) -> None:
    publish(world)
    for code, kind in (("WH1", "warehouse"), ("ST1", "store"), ("ST2", "store")):
        open_location(world, code, kind)
    set_stock(world, [("WH1", "A", 5), ("ST1", "A", 5), ("ST2", "B", 1)])


def test_a_sku_written_after_the_view_cached_it_is_read_again(world: World) -> None:
    ready(world)
    view = view_of(world.db)
    assert view.skus(["A"])["A"].weight_g == 500
    catalog.upsert_skus(world.db, [sku("A", weight_g=900)], MORNING)
    view.refresh()
    assert view.skus(["A"])["A"].weight_g == 900


def catalog_codes(world: World) -> list[str]:
    with world.db.read() as conn:
        return list(conn.execute(text("SELECT code FROM skus")).scalars())


def test_the_catalogue_loaded_at_start_serves_skus_without_the_database(world: World) -> None:
    ready(world)
    catalog.upsert_skus(world.db, [sku(f"X{i:04d}") for i in range(5_001)], MORNING)
    view = view_of(world.db)
    view.refresh()
    before = len(catalog_codes(world))
    assert view.load_catalogue() == before  # two pages of 5,000
    queries: list[str] = []
    event.listen(world.db.engine, "before_cursor_execute", lambda *a: queries.append(a[2]))
    assert view.skus(["X5000", "A"])["X5000"].code == "X5000"
    assert not [q for q in queries if "skus" in q]


def test_a_profile_published_after_the_view_cached_the_old_one_is_used(world: World) -> None:
    ready(world)
    view = view_of(world.db)
    assert plan(view, ("1", "A", 1)).rule == "warehouses"
    document = {**PROFILE, "rules": list(reversed(PROFILE["rules"]))}
    saved = world.client.post("/v1/profiles", json=document, headers=world.admin)
    assert saved.status_code == 201, saved.text
    number = saved.json()["number"]
    answer = world.client.post(
        f"/v1/profiles/{PROFILE['code']}/versions/{number}/publish", headers=world.admin
    )
    assert answer.status_code == 200, answer.text
    assert plan(view, ("1", "A", 1)).rule == "stores"


def test_stock_written_by_another_process_shows_after_a_refresh(world: World) -> None:
    ready(world)
    view = view_of(world.db)
    assert plan(view, ("1", "B", 3)).plan is None
    set_stock(world, [("WH1", "B", 3)])  # through the API: another index than the view's
    assert plan(view, ("1", "B", 3)).plan.locations == ("WH1",)


def test_without_the_record_the_plan_is_the_same_and_only_stockless_places_go_unnamed(
    world: World,
) -> None:
    ready(world)
    view = view_of(world.db)
    for basket in ((("1", "A", 2),), (("1", "A", 6),), (("1", "A", 1), ("2", "B", 1))):
        full, quick = plan(view, *basket), plan(view, *basket, explain=False)
        assert quick.plan == full.plan
        assert quick.rule == full.rule
        named = {e.location for e in quick.excluded}
        assert named <= {e.location for e in full.excluded}


def test_shipping_origins_are_shared_within_a_minute_and_never_earlier_than_now() -> None:
    view = SourcingView(Database("sqlite://"))
    during = MORNING + timedelta(seconds=20)
    first = view.origins(ServiceLevel.STANDARD, during)
    assert first.now == MORNING + timedelta(minutes=1)
    assert view.origins(ServiceLevel.STANDARD, during + timedelta(seconds=30)) is first
    assert view.origins(ServiceLevel.STANDARD, MORNING).now == MORNING


def test_a_rule_with_a_radius_is_offered_only_the_locations_within_its_latitude_band(
    world: World,
) -> None:
    ready(world)
    view = view_of(world.db)
    view.refresh()
    document = {"code": "p", "name": "P", "channel": "web", "delivery_method": "click_collect"}
    rule_doc = {"name": "shelf", "filters": {"kinds": ["store"], "max_distance_km": 0.5}}
    rule = parse_profile({**document, "rules": [rule_doc]}).rules[0]
    here = GeoPoint(48.85, 2.35)  # where ready() puts every location
    assert {at.code for at in view.admitted(rule, near=here)} == {"ST1", "ST2"}
    assert list(view.admitted(rule, near=GeoPoint(48.854, 2.35))) != []  # 0.45 km north
    assert list(view.admitted(rule, near=GeoPoint(48.86, 2.35))) == []  # 1.1 km north
    assert {at.code for at in view.admitted(rule)} == {"ST1", "ST2"}
