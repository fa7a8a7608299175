"""The demo data generator: seeded, realistic in shape, and consistent with the domain's rules."""

from __future__ import annotations

import csv
import itertools
import random
import statistics
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from openoms.db.repositories.stock import SnapshotRow
from openoms.demo import DemoData, build_demo, recount, write_snapshot_csv
from openoms.demo.departments import DEPARTMENT_TOWNS
from openoms.demo.geography import Town, department_of, french_towns, town_named
from openoms.demo.network import build_network
from openoms.domain.calendars import open_intervals
from openoms.domain.network import WEEKDAYS, LocationKind, TimeRange

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
# Metropolitan France, Corsica included.
LATITUDES = (41.3, 51.2)
LONGITUDES = (-5.2, 9.6)


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return build_demo(42, now=NOW)


@pytest.fixture(scope="module")
def rows(demo: DemoData) -> list[SnapshotRow]:
    return list(demo.snapshot())


@pytest.fixture(scope="module")
def small_demo() -> DemoData:
    return build_demo(42, now=NOW, store_count=12, sku_count=150)


def _kinds(demo: DemoData) -> Counter[LocationKind]:
    return Counter(location.kind for location in demo.locations)


def test_the_same_seed_builds_the_same_data(small_demo: DemoData) -> None:
    again = build_demo(42, now=NOW, store_count=12, sku_count=150)

    assert again.locations == small_demo.locations
    assert again.skus == small_demo.skus
    assert again.channels == small_demo.channels
    assert again.popularity == small_demo.popularity
    assert list(again.snapshot()) == list(small_demo.snapshot())
    assert list(again.changed_snapshot()) == list(small_demo.changed_snapshot())


def test_another_seed_builds_other_data(small_demo: DemoData) -> None:
    other = build_demo(7, now=NOW, store_count=12, sku_count=150)

    assert [loc.point for loc in other.locations] != [loc.point for loc in small_demo.locations]
    assert [sku.name for sku in other.skus] != [sku.name for sku in small_demo.skus]
    assert list(other.snapshot()) != list(small_demo.snapshot())


def test_a_snapshot_is_the_same_each_time_it_is_generated(small_demo: DemoData) -> None:
    assert list(small_demo.snapshot()) == list(small_demo.snapshot())


def test_more_skus_leave_the_network_as_it_was(small_demo: DemoData) -> None:
    bigger = build_demo(42, now=NOW, store_count=12, sku_count=300)

    assert bigger.locations == small_demo.locations


def test_the_network_has_three_warehouses_150_stores_two_suppliers_one_second_hand_hub(
    demo: DemoData,
) -> None:
    assert _kinds(demo) == {
        LocationKind.WAREHOUSE: 3,
        LocationKind.STORE: 150,
        LocationKind.SUPPLIER: 2,
        LocationKind.SECOND_HAND: 1,
        LocationKind.RESELLER: 1,
    }


def test_the_catalogue_has_2000_skus_in_six_categories(demo: DemoData) -> None:
    categories = Counter(sku.category for sku in demo.skus)

    assert len(demo.skus) == 2000
    assert set(categories) == {"apparel", "shoes", "home", "electronics", "sports", "beauty"}
    assert min(categories.values()) >= 150


def test_a_full_snapshot_has_one_row_for_every_sku_at_every_location(
    demo: DemoData, rows: list[SnapshotRow]
) -> None:
    assert len(rows) == len(demo.skus) * len(demo.locations)
    assert len({(row.location, row.sku) for row in rows}) == len(rows)
    assert {row.as_of for row in rows} == {NOW}
    assert all(row.on_hand >= 0 for row in rows)


def test_every_location_lies_in_metropolitan_france(demo: DemoData) -> None:
    for location in demo.locations:
        assert LATITUDES[0] <= location.point.latitude <= LATITUDES[1], location.code
        assert LONGITUDES[0] <= location.point.longitude <= LONGITUDES[1], location.code


def test_every_location_opens_within_three_days_of_now(demo: DemoData) -> None:
    for location in demo.locations:
        intervals = open_intervals(location.opening_hours, location.zone, NOW, horizon_days=3)

        assert next(intervals, None) is not None, location.code


def test_a_days_opening_ranges_are_in_order_and_do_not_overlap(demo: DemoData) -> None:
    for location in demo.locations:
        hours = location.opening_hours
        days = [*hours.weekly.values(), *(exception.ranges for exception in hours.exceptions)]
        for ranges in days:
            for earlier, later in itertools.pairwise(ranges):
                assert earlier.closes <= later.opens, location.code
        assert set(hours.weekly) <= set(WEEKDAYS)


def test_codes_are_unique(demo: DemoData) -> None:
    location_codes = [location.code for location in demo.locations]
    sku_codes = [sku.code for sku in demo.skus]

    assert len(set(location_codes)) == len(location_codes)
    assert len(set(sku_codes)) == len(sku_codes)


def test_store_codes_are_uppercase_ascii_named_after_their_town(demo: DemoData) -> None:
    codes = {loc.code: loc.city for loc in demo.locations if loc.kind is LocationKind.STORE}

    assert codes["ST-PARIS"] == "Paris"
    assert codes["ST-SAINT-ETIENNE"] == "Saint-Étienne"
    assert all(code.isascii() and code == code.upper() for code in codes)


def test_towns_with_the_same_name_get_distinct_store_codes() -> None:
    valence = town_named("Valence")
    valence_d_agen = Town("Valence", 44.1087, 0.8897, 5_000, "76")

    stores = build_network(random.Random(1), [valence, valence_d_agen], NOW.date())

    assert [s.code for s in stores if s.kind is LocationKind.STORE] == [
        "ST-VALENCE",
        "ST-VALENCE-82",
    ]


def test_barcodes_are_unique_ean13_with_a_valid_check_digit(demo: DemoData) -> None:
    barcodes = [sku.barcode for sku in demo.skus]

    assert len(set(barcodes)) == len(barcodes)
    for barcode in barcodes:
        weighted = sum(int(digit) * (1, 3)[i % 2] for i, digit in enumerate(barcode))
        assert len(barcode) == 13
        assert barcode.isdigit()
        assert weighted % 10 == 0, barcode


def test_prices_match_their_category(demo: DemoData) -> None:
    def median_price(category: str) -> float:
        return statistics.median(sku.price for sku in demo.skus if sku.category == category)

    assert median_price("electronics") > median_price("apparel") > median_price("beauty")
    assert all(sku.price > 0 and sku.weight_g > 0 and sku.length_mm > 0 for sku in demo.skus)


def test_warehouses_hold_deeper_stock_than_stores(demo: DemoData, rows: list[SnapshotRow]) -> None:
    kinds = {location.code: location.kind for location in demo.locations}
    on_hand: dict[LocationKind, list[int]] = {}
    for row in rows:
        on_hand.setdefault(kinds[row.location], []).append(row.on_hand)

    assert statistics.median(on_hand[LocationKind.WAREHOUSE]) >= 100
    assert statistics.median(on_hand[LocationKind.STORE]) <= 2
    assert statistics.quantiles(on_hand[LocationKind.STORE], n=10)[-1] <= 6


def test_popular_skus_are_stocked_in_more_stores(demo: DemoData, rows: list[SnapshotRow]) -> None:
    ranked = sorted(demo.popularity, key=demo.popularity.__getitem__)
    least, most = set(ranked[:200]), set(ranked[-200:])
    stores = {loc.code for loc in demo.locations if loc.kind is LocationKind.STORE}
    stocked = Counter(row.sku for row in rows if row.location in stores and row.on_hand > 0)

    assert sum(stocked[sku] for sku in most) > 2 * sum(stocked[sku] for sku in least)


def test_suppliers_hold_only_their_own_categories(demo: DemoData, rows: list[SnapshotRow]) -> None:
    categories = {sku.code: sku.category for sku in demo.skus}
    suppliers = {loc.code for loc in demo.locations if loc.kind is LocationKind.SUPPLIER}
    held: dict[str, set[str]] = {code: set() for code in suppliers}
    for row in rows:
        if row.location in suppliers and row.on_hand > 0:
            held[row.location].add(categories[row.sku])

    assert held == {"SUP-HOME-NANTES": {"home"}, "SUP-TECH-ROISSY": {"electronics"}}


def test_stores_are_closed_on_christmas_day(demo: DemoData) -> None:
    christmas = date(2026, 12, 25)
    for location in demo.locations:
        if location.kind is LocationKind.STORE:
            assert location.opening_hours.ranges_on(christmas) == (), location.code


def test_nothing_is_open_after_six_on_a_public_holiday(demo: DemoData) -> None:
    bastille_day = date(2026, 7, 14)
    for location in demo.locations:
        for opening in location.opening_hours.ranges_on(bastille_day):
            assert opening.closes <= time(18), location.code


def test_holidays_are_those_of_the_year_after_now() -> None:
    later = build_demo(42, now=datetime(2030, 6, 1, tzinfo=UTC), store_count=1, sku_count=10)
    days = {e.day for loc in later.locations for e in loc.opening_hours.exceptions}

    assert date(2030, 12, 25) in days
    assert date(2031, 5, 1) in days
    assert all(date(2030, 6, 1) <= day < date(2031, 6, 1) for day in days)


def test_boxing_day_is_a_holiday_in_alsace_only(demo: DemoData) -> None:
    boxing_day = date(2026, 12, 26)
    assert boxing_day.weekday() == WEEKDAYS.index("sat")
    by_code = {location.code: location.opening_hours for location in demo.locations}

    assert by_code["ST-PARIS"].ranges_on(boxing_day) == by_code["ST-PARIS"].weekly["sat"]
    assert by_code["ST-STRASBOURG"].ranges_on(boxing_day) == (TimeRange(time(10), time(18)),)


def test_postal_codes_are_french(demo: DemoData) -> None:
    by_code = {location.code: location for location in demo.locations}

    assert all(len(loc.postal_code) == 5 and loc.postal_code.isdigit() for loc in demo.locations)
    assert 75001 <= int(by_code["ST-PARIS"].postal_code) <= 75020
    assert by_code["ST-BOULOGNE-BILLANCOURT"].postal_code.startswith("92")
    assert by_code["WH-LYON"].postal_code.startswith("38")


def test_department_towns_are_known_and_each_department_lies_in_one_region() -> None:
    for department, names in DEPARTMENT_TOWNS.items():
        regions = {town_named(name).region for name in names}
        assert len(regions) == 1, department
        assert all(department_of(town_named(name)) == department for name in names)


def test_city_quarters_are_not_towns() -> None:
    names = {town.name for town in french_towns()}

    assert "Paris" in names
    assert not names & {"Paris 15 Vaugirard", "Lyon 03", "Picpus", "Marne La Vallée"}


def test_the_web_shows_own_stores_but_not_franchises_and_the_marketplace_warehouses_only(
    demo: DemoData,
) -> None:
    rules = {channel.code: channel.rule for channel in demo.channels}
    franchise = next(loc for loc in demo.locations if "franchise" in loc.tags)
    own_store = next(
        loc
        for loc in demo.locations
        if loc.kind is LocationKind.STORE and "franchise" not in loc.tags
    )

    assert set(rules) == {"web", "app", "marketplace:amazon"}
    assert rules["web"].admits(own_store.code, own_store.kind, own_store.tags)
    assert not rules["web"].admits(franchise.code, franchise.kind, franchise.tags)
    assert rules["web"].published(LocationKind.STORE, 1) == 0
    assert not rules["marketplace:amazon"].admits(own_store.code, own_store.kind, own_store.tags)
    assert rules["marketplace:amazon"].published(LocationKind.WAREHOUSE, 100) == 98


def test_a_changed_snapshot_recounts_every_position_later_with_about_half_changed(
    demo: DemoData, rows: list[SnapshotRow]
) -> None:
    second = list(demo.changed_snapshot())
    changed = sum(a.on_hand != b.on_hand for a, b in zip(rows, second, strict=True))

    assert [(r.location, r.sku) for r in second] == [(r.location, r.sku) for r in rows]
    assert all(row.as_of > NOW for row in second)
    assert all(row.on_hand >= 0 for row in second)
    assert 0.45 < changed / len(rows) < 0.55


def test_a_recount_of_a_recount_differs_from_it_by_about_the_share(
    small_demo: DemoData,
) -> None:
    first = list(small_demo.changed_snapshot(as_of=NOW + timedelta(hours=1)))
    later = NOW + timedelta(hours=2)
    second = list(recount(first, seed=small_demo.seed, as_of=later, share=0.5))
    changed = sum(a.on_hand != b.on_hand for a, b in zip(first, second, strict=True))

    assert 0.45 < changed / len(first) < 0.55


def test_recounts_at_different_times_change_different_positions(small_demo: DemoData) -> None:
    one = [r.on_hand for r in small_demo.changed_snapshot(as_of=NOW + timedelta(hours=1))]
    two = [r.on_hand for r in small_demo.changed_snapshot(as_of=NOW + timedelta(hours=2))]

    assert one != two


def test_a_changed_snapshot_no_later_than_now_is_refused(small_demo: DemoData) -> None:
    with pytest.raises(ValueError, match="after now"):
        small_demo.changed_snapshot(as_of=NOW)


def test_now_must_carry_a_time_zone() -> None:
    with pytest.raises(ValueError, match="time zone"):
        build_demo(42, now=datetime(2026, 3, 2, 8, 0))


def test_the_csv_writer_round_trips_a_snapshot(small_demo: DemoData, tmp_path: Path) -> None:
    path = tmp_path / "snapshot.csv"
    rows = list(small_demo.snapshot(as_of=datetime(2026, 3, 2, 9, 30, tzinfo=UTC)))

    written = write_snapshot_csv(iter(rows), path)

    with path.open(newline="", encoding="utf-8") as file:
        reader = csv.reader(file)
        header = next(reader)
        read = [
            SnapshotRow(location, sku, int(on_hand), datetime.fromisoformat(as_of))
            for location, sku, on_hand, as_of in reader
        ]
    assert header == ["location", "sku", "on_hand", "as_of"]
    assert written == len(rows)
    assert read == rows
    assert path.read_text(encoding="utf-8").splitlines()[1].endswith("+00:00")
