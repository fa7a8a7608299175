"""Snapshot files through `importing.import_snapshots`: PostgreSQL's COPY fast path and the
careful path must agree, and a bad line is always named."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from openoms import importing
from openoms.errors import InvalidInput
from openoms.services import network, stock
from tests.conftest import NOW, World

HEADER = "location,sku,on_hand,as_of\n"


def load(world: World, body: str, chunk_size: int = 2) -> importing.SnapshotTotals:
    handle = io.BytesIO((HEADER + body).encode())
    return importing.import_snapshots(world.db, handle, NOW, chunk_size=chunk_size)


def on_hand(world: World) -> dict[tuple[str, str], int]:
    return {
        (r.location, r.sku): r.on_hand
        for sku in ("A", "B", "C")
        for r in stock.sku_positions(world.db, sku)
    }


def test_a_clean_file_is_applied_and_counted(world: World) -> None:
    totals = load(
        world,
        "WH1,A,10,2026-11-25T06:00:00+00:00\n"
        "ST1,A,3,2026-11-25T06:00:00Z\n"
        "ST1,B,0,2026-11-25T07:00:00+01:00\n",
    )
    assert (totals.received, totals.applied, totals.stale) == (3, 3, 0)
    assert on_hand(world) == {("WH1", "A"): 10, ("ST1", "A"): 3, ("ST1", "B"): 0}
    again = load(world, "WH1,A,12,2026-11-25T05:00:00+00:00\n")
    assert (again.applied, again.stale) == (0, 1)


def test_a_position_twice_in_a_chunk_keeps_the_newest(world: World) -> None:
    load(
        world,
        "WH1,A,10,2026-11-25T07:00:00+00:00\nWH1,A,4,2026-11-25T06:00:00+00:00\n",
        chunk_size=10,
    )
    assert on_hand(world) == {("WH1", "A"): 10}


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("WH1,A,-1,2026-11-25T06:00:00+00:00", "line 3: on_hand"),
        ("WH1,A,2000000000,2026-11-25T06:00:00+00:00", "line 3: on_hand"),
        ("WH1,A,ten,2026-11-25T06:00:00+00:00", "line 3: on_hand"),
        ("WH1,A,1,2026-11-25T06:00:00", "line 3: as_of"),
        ("WH1,A,1,2026-13-45T06:00:00+00:00", "line 3: as_of"),
        ("WH1,NOPE,1,2026-11-25T06:00:00+00:00", "rows[3].sku"),
        ("NOWHERE,A,1,2026-11-25T06:00:00+00:00", "rows[3].location"),
        ("WH1,A,1", "line 3: row"),
    ],
)
def test_a_bad_line_is_named_and_its_chunk_writes_nothing(
    world: World, line: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        load(world, f"ST2,C,5,2026-11-25T06:00:00+00:00\n{line}\n", chunk_size=10)
    assert field in {e.field for e in refused.value.errors}, refused.value.errors
    assert on_hand(world) == {}


LOCATIONS_CSV = (
    "code,name,kind,latitude,longitude,postal_code,capabilities,tags,daily_capacity,opening_hours\n"
    'ST-LILLE,Lille,store,50.63,3.06,59000,ship|click_collect,size:large,40,"'
    '{""weekly"": {""mon"": [{""opens"": ""10:00"", ""closes"": ""19:00""}]}}"\n'
)


def test_locations_import_from_csv_keeps_lists_hours_and_text_codes(
    world: World, tmp_path: Path
) -> None:
    path = tmp_path / "network.csv"
    path.write_text(LOCATIONS_CSV)
    [lille] = importing.read_locations(path)
    assert lille.postal_code == "59000"
    assert lille.daily_capacity == 40
    assert {c.value for c in lille.capabilities} == {"ship", "click_collect"}
    assert lille.opening_hours.weekly["mon"][0].opens.hour == 10
    network.upsert_locations(world.db, [lille], NOW)
    assert network.get_location(world.db, "ST-LILLE").tags == frozenset({"size:large"})


def test_a_bad_location_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "network.csv"
    path.write_text(LOCATIONS_CSV.replace("store", "castle"))
    with pytest.raises(InvalidInput) as refused:
        importing.read_locations(path)
    assert refused.value.errors[0].field == "line 2: kind"


def test_skus_import_from_json_refuses_a_list_that_is_not_one(tmp_path: Path) -> None:
    path = tmp_path / "skus.json"
    path.write_text('{"code": "A"}')
    with pytest.raises(InvalidInput):
        importing.read_skus(path)


def test_a_code_with_a_control_character_is_named_not_crashed_on(world: World) -> None:
    with pytest.raises(InvalidInput) as refused:
        load(world, "WH1,A\x00,1,2026-11-25T06:00:00+00:00\n")
    assert refused.value.errors[0].field == "line 2: sku"
