"""Parcels at pack time: a packed fulfilment's parcels labelled, so that a store prints the
label before the carrier comes, and the documents printed for them.

`label_parcels` sizes and weighs the parcels (domain/parcels.py), picks the carrier service
by the rule the plan was priced with, draws a tracking number for each, and saves them
`labelled`, waiting for their pickup; it schedules the `pickup_booking` job for the time to book
the carrier's next collection (services/pickups.py). The units stay held until the handover
ships the fulfilment. Labelling twice with the same parcels answers the first labels (a
replay); with other parcels it is refused (409 `already_labelled`).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row
from sqlalchemy.exc import IntegrityError

from openoms import documents
from openoms.db import changes
from openoms.db.repositories import events as events_repo
from openoms.db.repositories import fulfilments as fulfilments_repo
from openoms.db.repositories import jobs as jobs_repo
from openoms.db.repositories import orders as orders_repo
from openoms.db.repositories import parcels as repo
from openoms.db.repositories.parcels import LabelledRow
from openoms.db.uow import Database
from openoms.domain.carriers import CannotShip, CarrierService, ServiceLevel
from openoms.domain.fulfilments import FulfilmentStatus
from openoms.domain.network import Location, great_circle_km
from openoms.domain.parcels import (
    BadParcel,
    NoServiceCarries,
    PackedParcel,
    ParcelSize,
    booking_time,
    choose_service,
    pack_parcels,
)
from openoms.domain.profiles import DeliveryMethod
from openoms.errors import Conflict, FieldError, InvalidInput, NotFound
from openoms.services.fulfilment import Caller
from openoms.services.offers import order_destination
from openoms.services.sourcing import LEVELS
from openoms.services.sourcing_view import SourcingView

PICKUP_BOOKING = "pickup_booking"
"""The job (subject: a fulfilment) that books the pickup of its labelled parcels."""
TRACKING_PREFIX = "OM"
ATTEMPTS = 3
COLLECT_METHODS = (DeliveryMethod.CLICK_COLLECT, DeliveryMethod.EXPRESS_COLLECT)


class NotPacked(Conflict):
    code = "not_packed"
    title = "The fulfilment is not packed"


class AlreadyLabelled(Conflict):
    code = "already_labelled"
    title = "The parcels are already labelled"


class NoCarrierService(Conflict):
    code = "no_carrier_service"
    title = "No carrier service takes the parcels"


@dataclass(frozen=True, slots=True)
class LabelledParcel:
    tracking_number: str
    carrier_service: str
    weight_g: int
    length_mm: int | None
    width_mm: int | None
    height_mm: int | None
    box: str | None
    status: str
    pickup_id: str | None
    rank: int
    """This parcel's place, from 1, among the fulfilment's parcels."""


@dataclass(frozen=True, slots=True)
class Labels:
    fulfilment_id: str
    order_id: str
    location: str
    carrier: str
    carrier_service: str
    parcels: tuple[LabelledParcel, ...]


def label_parcels(
    db: Database,
    view: SourcingView,
    fulfilment_id: str,
    caller: Caller,
    *,
    parcels: Sequence[ParcelSize],
    now: datetime,
) -> Labels:
    """A packed fulfilment's parcels labelled, waiting for their pickup."""
    view.refresh()
    for attempt in range(ATTEMPTS):
        try:
            with db.write() as uow:
                labels = _label(uow.conn, view, fulfilment_id, caller, sizes=parcels, now=now)
                uow.commit()
            return labels
        except IntegrityError:  # a tracking number drawn at the same time by another label
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")


def _label(
    conn: Connection,
    view: SourcingView,
    fulfilment_id: str,
    caller: Caller,
    *,
    sizes: Sequence[ParcelSize],
    now: datetime,
) -> Labels:
    found = scoped_fulfilment(conn, fulfilment_id, caller)
    rows = orders_repo.load(conn, found.order_id, for_update=True)
    assert rows is not None
    fulfilment = next(f for f in rows.fulfilments if f.id == fulfilment_id)
    if fulfilment.status != FulfilmentStatus.PACKED:
        raise NotPacked(f"fulfilment {fulfilment_id} is {fulfilment.status}: pack it first")
    location = _location(view, fulfilment.location_code)
    held = [(a.sku_code, a.units) for a in rows.allocations if a.fulfilment_id == fulfilment_id]
    skus = view.skus([sku for sku, _ in held])
    try:
        packed = pack_parcels(sizes, [(skus[sku], units) for sku, units in held if units])
    except BadParcel as error:
        field = f"parcels[{error.index}].{error.field}" if error.index >= 0 else "parcels"
        raise InvalidInput([FieldError(field, str(error), error.code)]) from error
    existing = repo.of_fulfilment(conn, fulfilment_id)
    if existing:
        if _same(existing, packed):
            return _labels(fulfilment, existing, view)
        message = f"fulfilment {fulfilment_id} is labelled already, with other parcels"
        raise AlreadyLabelled(message)
    service = _service(view, rows.order, location, packed)
    try:
        book_at = booking_time(location, service, now)
    except CannotShip as error:
        raise NoCarrierService(str(error)) from error
    labelled = [
        LabelledRow(
            _tracking_number(),
            service.code,
            p.weight_g,
            p.length_mm,
            p.width_mm,
            p.height_mm,
            p.box,
        )
        for p in packed
    ]
    repo.add_labelled(conn, fulfilment_id, labelled, now)
    jobs_repo.schedule(conn, PICKUP_BOOKING, fulfilment_id, book_at, now)
    events_repo.append(
        conn,
        [
            {
                "order_id": fulfilment.order_id,
                "fulfilment_id": fulfilment_id,
                "type": "parcel.labelled",
                "payload": {
                    "order_id": fulfilment.order_id,
                    "fulfilment_id": fulfilment_id,
                    "location": location.code,
                    "tracking_number": row.tracking_number,
                    "carrier_service": row.carrier_service,
                    "weight_g": row.weight_g,
                    "book_pickup_at": book_at.isoformat(),
                },
            }
            for row in labelled
        ],
        changes.stamp(conn),
        now,
    )
    return _labels(fulfilment, repo.of_fulfilment(conn, fulfilment_id), view)


def scoped_fulfilment(conn: Connection, fulfilment_id: str, caller: Caller) -> Row[Any]:
    """The fulfilment if the caller may see it: a store key its own location's only."""
    row = fulfilments_repo.find(conn, fulfilment_id)
    if row is None or caller.location not in (None, row.location_code):
        raise NotFound("fulfilment", fulfilment_id)
    if caller.channel is not None and fulfilments_repo.channel_of(conn, row.order_id) != (
        caller.channel
    ):
        raise NotFound("fulfilment", fulfilment_id)
    return row


def _location(view: SourcingView, code: str) -> Location:
    location = view.location(code)
    assert location is not None, f"location {code} of a fulfilment is not in the network"
    return location


def _service(
    view: SourcingView, order: Row[Any], location: Location, packed: Sequence[PackedParcel]
) -> CarrierService:
    """One service for all the parcels, the one that takes the heaviest."""
    level = LEVELS.get(DeliveryMethod(order.delivery_method), ServiceLevel.STANDARD)
    destination = order_destination(view, order)
    heaviest = max(range(len(packed)), key=lambda i: packed[i].weight_g)
    try:
        return choose_service(
            view.services,
            level=level,
            currency=location.currency,
            weight_g=packed[heaviest].weight_g,
            distance_km=great_circle_km(location.point, destination.point),
        )
    except NoServiceCarries as error:
        if error.max_weight_g is None:
            raise NoCarrierService(str(error)) from error
        field = f"parcels[{heaviest}].weight_g"
        raise InvalidInput([FieldError(field, str(error), "too_heavy")]) from error


def _same(existing: Sequence[Row[Any]], packed: Sequence[PackedParcel]) -> bool:
    def shape(p: Any) -> tuple[Any, ...]:
        return (p.weight_g, p.length_mm, p.width_mm, p.height_mm, p.box)

    return sorted(map(shape, existing)) == sorted(map(shape, packed))


def _tracking_number() -> str:
    """OM and 12 random digits: Code 128 packs digits two by two, so the barcode stays short."""
    return f"{TRACKING_PREFIX}{secrets.randbelow(10**12):012d}"


def _labels(fulfilment: Row[Any], rows: Sequence[Row[Any]], view: SourcingView) -> Labels:
    service = rows[0].carrier_service
    return Labels(
        fulfilment_id=fulfilment.id,
        order_id=fulfilment.order_id,
        location=fulfilment.location_code,
        carrier=carrier_of(view, service),
        carrier_service=service,
        parcels=tuple(
            LabelledParcel(
                r.tracking_number,
                r.carrier_service,
                r.weight_g,
                r.length_mm,
                r.width_mm,
                r.height_mm,
                r.box,
                r.status,
                r.pickup_id,
                rank,
            )
            for rank, r in enumerate(rows, start=1)
        ),
    )


def carrier_of(view: SourcingView, service_code: str) -> str:
    """The carrier of a service the OMS knows; an unknown code stands for itself."""
    found = next((s for s in view.services if s.code == service_code), None)
    return found.carrier if found is not None else service_code


# --- the documents -------------------------------------------------------------------------


def label_pdf(
    db: Database,
    view: SourcingView,
    tracking_number: str,
    caller: Caller,
    *,
    language: documents.Language = "fr",
) -> bytes:
    """The shipping label of a parcel (a store: of its own location's parcels only)."""
    view.refresh()
    with db.read() as conn:
        parcel = repo.find(conn, tracking_number)
        if parcel is None:
            raise NotFound("parcel", tracking_number)
        try:
            fulfilment = scoped_fulfilment(conn, parcel.fulfilment_id, caller)
        except NotFound as error:
            raise NotFound("parcel", tracking_number) from error
        siblings = [p.tracking_number for p in repo.of_fulfilment(conn, fulfilment.id)]
        order = repo.order_of(conn, fulfilment.order_id)
    location = _location(view, fulfilment.location_code)
    label = documents.ShippingLabel(
        tracking_number=tracking_number,
        carrier_service=f"{carrier_of(view, parcel.carrier_service)} / {parcel.carrier_service}",
        weight_g=parcel.weight_g,
        parcel=siblings.index(tracking_number) + 1,
        parcels=len(siblings),
        sender=location_address(location),
        addressee=customer_address(view, order),
        order_id=order.id,
        language=language,
    )
    return documents.label_pdf(label)


def packing_slip_pdf(
    db: Database,
    view: SourcingView,
    fulfilment_id: str,
    caller: Caller,
    *,
    language: documents.Language = "fr",
) -> bytes:
    """The lines as packed, to go in the parcel: once the fulfilment is packed."""
    view.refresh()
    with db.read() as conn:
        fulfilment = scoped_fulfilment(conn, fulfilment_id, caller)
        if FulfilmentStatus(fulfilment.status) not in _PACKED_OR_LATER:
            raise NotPacked(f"fulfilment {fulfilment_id} is {fulfilment.status}: pack it first")
        held = fulfilments_repo.allocations_of(conn, [fulfilment_id])
        labelled = repo.of_fulfilment(conn, fulfilment_id)
        order = repo.order_of(conn, fulfilment.order_id)
    skus = view.skus([a.sku_code for a in held])
    location = _location(view, fulfilment.location_code)
    packed_at = labelled[0].created_at if labelled else fulfilment.updated_at
    slip = documents.PackingSlip(
        order_id=order.id,
        fulfilment_id=fulfilment_id,
        packed_on=packed_at.astimezone(location.zone).date(),
        sender=location_address(location),
        addressee=customer_address(view, order),
        lines=tuple(
            documents.SlipLine(a.sku_code, skus[a.sku_code].name, a.units) for a in held if a.units
        ),
        language=language,
    )
    return documents.packing_slip_pdf(slip)


_PACKED_OR_LATER = frozenset(
    {
        FulfilmentStatus.PACKED,
        FulfilmentStatus.SHIPPED,
        FulfilmentStatus.DELIVERED,
        FulfilmentStatus.IN_TRANSFER,
        FulfilmentStatus.READY_FOR_PICKUP,
        FulfilmentStatus.COLLECTED,
    }
)


def location_address(location: Location) -> documents.Address:
    town = " ".join(part for part in (location.postal_code, location.city) if part)
    lines = tuple(line for line in (location.address, town, location.country) if line)
    return documents.Address(location.name, lines)


def customer_address(view: SourcingView, order: Row[Any]) -> documents.Address:
    """The customer, at the pickup store for a collection; else where the order is delivered
    (orders carry a point and a country, not yet a postal address)."""
    name = str(order.customer.get("name", ""))
    if order.pickup_store is not None and DeliveryMethod(order.delivery_method) in COLLECT_METHODS:
        store = view.location(order.pickup_store)
        if store is not None:
            at = location_address(store)
            return documents.Address(name, (store.name, *at.lines))
    point = f"{order.latitude:.5f}, {order.longitude:.5f}" if order.latitude is not None else ""
    return documents.Address(name, tuple(line for line in (point, order.country or "") if line))
