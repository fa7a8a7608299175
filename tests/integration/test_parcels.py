"""Parcels labelled at pack over the API, on both databases: the carrier service of the plan,
tracking numbers drawn by the OMS, the label and the packing slip as real PDFs, bad input and
another store's key refused with nothing written."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from openoms.api.deps import get_now
from openoms.db.repositories import jobs as jobs_repo
from openoms.db.tables import events, parcels
from openoms.db.uow import Database
from openoms.services.keys import Role
from openoms.services.parcels import PICKUP_BOOKING
from tests.conftest import World, bearer
from tests.integration.test_fulfilments import act, offered_at_st1, position
from tests.integration.test_promise_api import PARIS, a_weekday_morning
from tests.pdf_reading import code128_values, page_sizes_mm, pdf_text


@pytest.fixture(autouse=True)
def morning(world: World) -> Iterator[datetime]:
    now = a_weekday_morning()
    app = cast(FastAPI, world.client.app)
    app.dependency_overrides[get_now] = lambda: now
    yield now
    app.dependency_overrides.clear()


def packed_at_st1(world: World, units: int = 3) -> tuple[str, str]:
    order_id, fid = offered_at_st1(world, units=units)
    for action in ("claim", "pick", "pack"):
        act(world, fid, action, world.store1)
    return order_id, fid


def label(
    world: World,
    fid: str,
    parcels_body: list[dict[str, Any]],
    headers: dict[str, str] | None = None,
    status: int = 200,
) -> dict[str, Any]:
    answer = world.client.post(
        f"/v1/fulfilments/{fid}/parcels",
        json={"parcels": parcels_body},
        headers=headers or world.store1,
    )
    assert answer.status_code == status, answer.text
    result: dict[str, Any] = answer.json()
    return result


def parcel_count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(parcels)).scalar_one())


def labelled_events(db: Database, order_id: str) -> list[dict[str, Any]]:
    e = events.c
    with db.read() as conn:
        query = select(e.payload).where(e.order_id == order_id, e.type == "parcel.labelled")
        return [dict(p) for p in conn.execute(query.order_by(e.seq)).scalars()]


def test_a_packed_fulfilment_is_labelled_with_the_plans_service_and_prints_a_real_label(
    world: World, morning: datetime
) -> None:
    order_id, fid = packed_at_st1(world)
    labels = label(world, fid, [{"box": "M"}])

    [parcel] = labels["parcels"]
    assert re.fullmatch(r"OM\d{12}", parcel["tracking_number"])
    assert (labels["carrier"], labels["carrier_service"]) == ("Colis National", "parcel_standard")
    # three units of 500 g and the M box's 200 g
    assert (parcel["weight_g"], parcel["box"], parcel["status"]) == (1700, "M", "labelled")
    assert (parcel["length_mm"], parcel["width_mm"], parcel["height_mm"]) == (350, 250, 150)
    assert parcel["pickup_id"] is None
    assert position(world.db, "ST1", "A") == (5, 3)  # still held: nothing left yet

    pdf = world.client.get(parcel["label_url"], headers=world.store1)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert page_sizes_mm(pdf.content) == [(100.0, 150.0)]
    assert code128_values(pdf.content) == [parcel["tracking_number"]]
    text = pdf_text(pdf.content)
    for expected in ("Colis National / parcel_standard", "1,700 kg", "Colis 1 sur 1", "St1"):
        assert expected in text
    assert "Camille Martin" in text
    assert order_id in text

    [event] = labelled_events(world.db, order_id)
    assert event["tracking_number"] == parcel["tracking_number"]
    assert event["location"] == "ST1"
    with world.db.read() as conn:
        job = jobs_repo.find(conn, PICKUP_BOOKING, fid)
    assert job is not None
    # booked half an hour before the carrier's 16:30 collection, the day it was labelled
    due = job.due_at.astimezone(PARIS)
    assert (due.date(), due.hour, due.minute) == (morning.astimezone(PARIS).date(), 16, 0)


def test_the_packing_slip_lists_the_lines_as_packed_in_the_language_asked(world: World) -> None:
    order_id, fid = packed_at_st1(world, units=2)
    slip = world.client.get(f"/v1/fulfilments/{fid}/packing-slip.pdf?lang=en", headers=world.store1)
    assert slip.status_code == 200
    assert page_sizes_mm(slip.content) == [(210.0, 297.0)]
    text = pdf_text(slip.content)
    assert "Packing slip" in text
    assert f"Order {order_id}" in text
    assert "Item A" in text
    assert text.split("Total items")[1].split()[0] == "2"


def test_several_parcels_are_each_weighed_and_numbered_k_of_n(world: World) -> None:
    _, fid = packed_at_st1(world)
    sized = {"length_mm": 300, "width_mm": 200, "height_mm": 100}
    labels = label(world, fid, [{"weight_g": 900, **sized}, {"weight_g": 1100, "box": "S"}])
    assert [p["rank"] for p in labels["parcels"]] == [1, 2]
    numbers = [p["tracking_number"] for p in labels["parcels"]]
    assert len(set(numbers)) == 2
    second = world.client.get(f"/v1/parcels/{numbers[1]}/label.pdf?lang=en", headers=world.store1)
    assert "Parcel 2 of 2" in pdf_text(second.content)


def test_labelling_again_with_the_same_parcels_answers_the_same_labels(world: World) -> None:
    order_id, fid = packed_at_st1(world)
    first = label(world, fid, [{"box": "M", "weight_g": 1800}])
    again = label(world, fid, [{"box": "M", "weight_g": 1800}])
    assert again == first
    other = world.client.post(
        f"/v1/fulfilments/{fid}/parcels",
        json={"parcels": [{"box": "L", "weight_g": 1800}]},
        headers=world.store1,
    )
    assert other.status_code == 409
    assert other.json()["code"] == "already_labelled"
    assert parcel_count(world.db) == 1
    assert len(labelled_events(world.db, order_id)) == 1


def test_a_heavy_parcel_goes_with_the_service_that_takes_it(world: World) -> None:
    _, fid = packed_at_st1(world)
    labels = label(world, fid, [{"box": "XL", "weight_g": 45_000}])
    assert (labels["carrier"], labels["carrier_service"]) == ("Messagerie Lourde", "heavy_bulky")


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ([{"box": "M", "weight_g": 0}], "parcels[0].weight_g", None),
        ([{"box": "M", "weight_g": "12"}], "parcels[0].weight_g", None),
        ([{"box": "Z"}], "parcels[0].box", "unknown"),
        ([{"box": "M", "length_mm": 10}], "parcels[0].box", "conflict"),
        ([{"length_mm": 300, "width_mm": 200}], "parcels[0].height_mm", "missing"),
        ([{"length_mm": 5000, "width_mm": 200, "height_mm": 100}], "parcels[0].length_mm", None),
        ([{"box": "S"}, {"box": "S", "weight_g": 500}], "parcels[0].weight_g", "missing"),
        ([{"box": "XL", "weight_g": 200_000}], "parcels[0].weight_g", "too_heavy"),
        ([], "parcels", None),
        ([{"box": "M", "colour": "red"}], "parcels[0].colour", None),
    ],
)
def test_bad_parcels_are_422_naming_the_field_and_write_nothing(
    world: World, body: list[dict[str, Any]], field: str, code: str | None
) -> None:
    order_id, fid = packed_at_st1(world)
    problem = label(world, fid, body, status=422)
    fields = {e["field"]: e["code"] for e in problem["errors"]}
    assert field in fields, problem
    if code is not None:
        assert fields[field] == code
    assert parcel_count(world.db) == 0
    assert labelled_events(world.db, order_id) == []


def test_a_fulfilment_not_packed_yet_is_409_not_packed(world: World) -> None:
    _, fid = offered_at_st1(world)
    act(world, fid, "claim", world.store1)
    problem = label(world, fid, [{"box": "M"}], status=409)
    assert problem["code"] == "not_packed"
    slip = world.client.get(f"/v1/fulfilments/{fid}/packing-slip.pdf", headers=world.store1)
    assert slip.status_code == 409
    assert parcel_count(world.db) == 0


def test_another_stores_key_finds_neither_the_fulfilment_nor_its_documents(world: World) -> None:
    _, fid = packed_at_st1(world)
    number = label(world, fid, [{"box": "M"}])["parcels"][0]["tracking_number"]
    store2 = bearer(world.db, Role.STORE, "ST2")
    assert label(world, fid, [{"box": "S"}], headers=store2, status=404)["code"] == "not_found"
    assert world.client.get(f"/v1/parcels/{number}/label.pdf", headers=store2).status_code == 404
    slip = world.client.get(f"/v1/fulfilments/{fid}/packing-slip.pdf", headers=store2)
    assert slip.status_code == 404
    assert world.client.get(
        f"/v1/parcels/{number}/label.pdf", headers=world.channel
    ).status_code == (403)
    assert world.client.get(f"/v1/parcels/{number}/label.pdf", headers=world.admin).status_code == (
        200
    )
    assert world.client.get(
        "/v1/parcels/OM000000000000/label.pdf", headers=world.admin
    ).status_code == (404)
    assert parcel_count(world.db) == 1


def test_a_label_made_after_the_cut_off_books_the_next_collection(
    world: World, morning: datetime
) -> None:
    _, fid = packed_at_st1(world)
    late = morning.astimezone(PARIS).replace(hour=17)
    app = cast(FastAPI, world.client.app)
    app.dependency_overrides[get_now] = lambda: late
    label(world, fid, [{"box": "M"}])
    with world.db.read() as conn:
        job = jobs_repo.find(conn, PICKUP_BOOKING, fid)
    assert job is not None
    due = job.due_at.astimezone(PARIS)
    assert due.date() > late.date()
    assert due.date() - late.date() <= timedelta(days=4)
    assert (due.hour, due.minute) == (16, 0)
