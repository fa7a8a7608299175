"""Carrier pickups ("ramasse"): the parcels waiting at a location, their collection booked,
the manifest, and the handover that ships them.

A pickup is one carrier's collection at one location. It is booked with every parcel of that
carrier labelled there and not yet booked: by hand (`book_pickup`), or by the `pickup_booking`
job that labelling schedules `BOOKING_LEAD` before the carrier's next collection
(domain/parcels.py). One pickup per location and carrier is booked at a time (a partial unique
index): parcels labelled later join it until it is handed over, so two bookings at once make one
pickup. Carriers read their pickups over the API (a carrier key scoped to its carrier).

`hand_over` moves the pickup to `handed_over` by a conditional update first, so of two
handovers at once one ships and the other is refused (409) having changed nothing; then each
fulfilment of the pickup goes through the ship transition of services/fulfilment.py (units
consumed, lines shipped, `fulfilment.shipped`), its parcels `shipped`. A fulfilment cancelled
after its parcels were labelled is left out: its parcels become `void`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row
from sqlalchemy.exc import IntegrityError
from uuid6 import uuid7

from openoms import documents
from openoms.db import changes
from openoms.db.repositories import events as events_repo
from openoms.db.repositories import fulfilments as fulfilments_repo
from openoms.db.repositories import parcels as parcels_repo
from openoms.db.repositories import pickups as repo
from openoms.db.uow import Database
from openoms.domain.carriers import CannotShip
from openoms.domain.fulfilments import FulfilmentStatus, Transition
from openoms.domain.network import Location
from openoms.domain.shipping import departure_time
from openoms.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from openoms.services.fulfilment import (
    Caller,
    TransitionRefused,
    apply_transition,
    begin_step,
)
from openoms.services.order_change import finish_change
from openoms.services.parcels import ATTEMPTS, NoCarrierService, location_address
from openoms.services.sourcing_view import SourcingView

AUTO = "auto"
"""`booked_by` of a pickup the worker booked."""


class PickupStatus(StrEnum):
    BOOKED = repo.BOOKED
    HANDED_OVER = repo.HANDED_OVER


class NothingToCollect(Conflict):
    code = "nothing_to_collect"
    title = "No parcel waits for this carrier"


class PickupNotBooked(Conflict):
    code = "pickup_not_booked"
    title = "The pickup is not booked any more"


@dataclass(frozen=True, slots=True)
class PickupParcel:
    tracking_number: str
    carrier_service: str
    weight_g: int
    order_id: str
    fulfilment_id: str
    status: str


@dataclass(frozen=True, slots=True)
class PickupView:
    id: str
    location: str
    carrier: str
    status: PickupStatus
    collect_at: datetime
    booked_by: str
    booked_at: datetime
    handed_over_at: datetime | None
    version: int
    parcels: tuple[PickupParcel, ...]

    @property
    def weight_g(self) -> int:
        return sum(p.weight_g for p in self.parcels)


@dataclass(frozen=True, slots=True)
class WaitingParcels:
    """A carrier's parcels waiting at a location, and the pickup booked for them, if any."""

    carrier: str
    parcels: tuple[PickupParcel, ...]
    pickup_ids: tuple[str, ...]
    """The booked pickups some of them are in (none yet: the job books one before the cut-off)."""


# --- reading -------------------------------------------------------------------------------


def waiting_parcels(
    db: Database, view: SourcingView, location: str, caller: Caller
) -> list[WaitingParcels]:
    """The parcels labelled at `location` and not yet handed over, by carrier."""
    _check_location(caller, location)
    with db.read() as conn:
        rows = parcels_repo.waiting(conn, location=location)
    carriers = _carriers(view)
    by_carrier: dict[str, list[Row[Any]]] = defaultdict(list)
    for row in rows:
        by_carrier[carriers.get(row.carrier_service, row.carrier_service)].append(row)
    return [
        WaitingParcels(
            carrier,
            tuple(_parcel(row) for row in found),
            tuple(sorted({row.pickup_id for row in found if row.pickup_id is not None})),
        )
        for carrier, found in sorted(by_carrier.items())
    ]


def get_pickup(
    db: Database, pickup_id: str, caller: Caller, *, carrier: str | None = None
) -> PickupView:
    """`carrier`: a carrier key's carrier, when it is scoped to one."""
    with db.read() as conn:
        return _view(conn, _scoped(conn, pickup_id, caller, carrier))


def list_pickups(
    db: Database,
    caller: Caller,
    *,
    location: str | None,
    status: PickupStatus | None,
    after: str | None,
    limit: int,
    carrier: str | None = None,
) -> list[PickupView]:
    """Oldest first. A store key sees its own location's; a scoped carrier key its carrier's."""
    if caller.location is not None:
        if location not in (None, caller.location):
            message = f"this key acts for location {caller.location!r}, not {location!r}"
            raise Forbidden(message, field="location")
        location = caller.location
    with db.read() as conn:
        rows = repo.page(
            conn,
            location=location,
            carrier=carrier,
            state=status.value if status else None,
            after=after,
            limit=limit,
        )
        return [_view(conn, row) for row in rows]


def manifest_pdf(
    db: Database,
    view: SourcingView,
    pickup_id: str,
    caller: Caller,
    *,
    carrier: str | None = None,
    language: documents.Language = "fr",
) -> bytes:
    """What the driver signs for: the pickup's parcels (handed over, or to hand over)."""
    pickup = get_pickup(db, pickup_id, caller, carrier=carrier)
    view.refresh()
    location = view.location(pickup.location)
    assert location is not None, f"location {pickup.location} of a pickup is not in the network"
    day = pickup.handed_over_at or pickup.collect_at
    manifest = documents.Manifest(
        pickup_id=pickup.id,
        carrier=pickup.carrier,
        location=location_address(location),
        day=day.astimezone(location.zone).date(),
        parcels=tuple(
            documents.ManifestParcel(p.tracking_number, p.weight_g, p.order_id)
            for p in pickup.parcels
        ),
        language=language,
    )
    return documents.manifest_pdf(manifest)


# --- booking -------------------------------------------------------------------------------


def book_pickup(
    db: Database,
    view: SourcingView,
    caller: Caller,
    *,
    location: str,
    carrier: str,
    now: datetime,
) -> PickupView:
    """By hand: the carrier's parcels waiting at the location, booked (or added to the pickup
    already booked). Nothing waiting for that carrier is a 409; an unknown carrier a 422."""
    _check_location(caller, location)
    view.refresh()
    known = sorted({s.carrier for s in view.services})
    if carrier not in known:
        message = f"not a carrier the OMS knows ({', '.join(known)})"
        raise InvalidInput([FieldError("carrier", message, "unknown")])
    if view.location(location) is None:
        raise InvalidInput([FieldError("location", f"unknown location {location!r}", "unknown")])
    booked_by = caller.actor.value
    for attempt in range(ATTEMPTS):
        try:
            with db.write() as uow:
                pickup_id = book(uow.conn, view, location, carrier, now=now, booked_by=booked_by)
                if pickup_id is None:
                    message = f"no parcel of {carrier} waits at {location}"
                    raise NothingToCollect(message)
                found = _view(uow.conn, _reread(uow.conn, pickup_id))
                uow.commit()
            return found
        except IntegrityError:  # another booking of this pickup committed first: join it
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")


def book(
    conn: Connection,
    view: SourcingView,
    location: str,
    carrier: str,
    *,
    now: datetime,
    booked_by: str,
) -> str | None:
    """In the caller's transaction: the carrier's unbooked parcels at the location join its
    booked pickup, or a new one. Returns the pickup, or None when nothing waits (and none is
    booked). A concurrent booking of the same pickup makes the insert fail (IntegrityError):
    the caller runs again, and joins it."""
    services = {s.code: s for s in view.services if s.carrier == carrier}
    waiting = parcels_repo.waiting(
        conn, location=location, service_codes=sorted(services), unbooked=True
    )
    pickup = repo.booked(conn, location, carrier)
    if not waiting:
        return str(pickup.id) if pickup is not None else None
    numbers = [row.tracking_number for row in waiting]
    stamp = changes.stamp(conn)
    at = view.location(location)
    assert at is not None, f"location {location} is not in the network"
    try:
        collect_at = min(departure_time(at, services[r.carrier_service], now) for r in waiting)
    except CannotShip as error:  # the location closed for good since the parcels were labelled
        raise NoCarrierService(str(error)) from error
    if pickup is not None and repo.touch(conn, pickup.id, _moved(pickup, collect_at, at, now)):
        pickup_id, kind = str(pickup.id), "pickup.parcels_added"
    else:
        pickup_id, kind = str(uuid7()), "pickup.booked"
        repo.insert(
            conn,
            pickup_id=pickup_id,
            location=location,
            carrier=carrier,
            collect_at=collect_at,
            booked_by=booked_by,
            now=now,
        )
    parcels_repo.join_pickup(conn, numbers, pickup_id)
    row = _reread(conn, pickup_id)
    _pickup_event(conn, kind, row, numbers=numbers, stamp=stamp, now=now)
    return pickup_id


def _moved(pickup: Row[Any], collect_at: datetime, location: Location, now: datetime) -> datetime:
    """A pickup booked for an earlier day and never handed over (the driver did not come) moves
    to the next collection when parcels join it; one booked for today keeps its time, since a
    driver running late still takes what was labelled after the cut-off."""
    booked: datetime = pickup.collect_at
    if booked.astimezone(location.zone).date() < now.astimezone(location.zone).date():
        return collect_at
    return booked


def _pickup_event(
    conn: Connection,
    kind: str,
    row: Row[Any],
    *,
    numbers: Sequence[str],
    stamp: int,
    now: datetime,
    **extra: Any,
) -> None:
    payload = {
        "pickup_id": row.id,
        "location": row.location_code,
        "carrier": row.carrier,
        "collect_at": row.collect_at.isoformat(),
        "booked_by": row.booked_by,
        "parcels": list(numbers),
        **extra,
    }
    event = {"order_id": None, "fulfilment_id": None, "type": kind, "payload": payload}
    events_repo.append(conn, [event], stamp, now)


# --- handing over --------------------------------------------------------------------------


def hand_over(db: Database, pickup_id: str, caller: Caller, *, now: datetime) -> PickupView:
    """The driver took the parcels: every fulfilment of the pickup shipped, in one transaction.
    A second handover is a 409 (`pickup_not_booked`) and changes nothing."""
    with db.write() as uow:
        conn = uow.conn
        _scoped(conn, pickup_id, caller, None)
        if not repo.hand_over(conn, pickup_id, now):
            raise PickupNotBooked(f"pickup {pickup_id} is {_reread(conn, pickup_id).state}")
        stamp = changes.stamp(conn)
        by_fulfilment: dict[tuple[str, str], list[str]] = defaultdict(list)
        for row in parcels_repo.of_pickup(conn, pickup_id):
            if row.status != parcels_repo.VOID:  # labelled, or scanned by the carrier already
                by_fulfilment[(row.order_id, row.fulfilment_id)].append(row.tracking_number)
        shipped, left_out = [], []
        for (_, fulfilment_id), numbers in sorted(by_fulfilment.items()):  # orders locked in order
            if _ship(
                conn,
                stamp,
                fulfilment_id,
                numbers=numbers,
                pickup_id=pickup_id,
                caller=caller,
                now=now,
            ):
                shipped.extend(numbers)
            else:
                parcels_repo.leave_labelled(conn, numbers, parcels_repo.VOID, now)
                left_out.extend(numbers)
        row = _reread(conn, pickup_id)
        _pickup_event(
            conn,
            "pickup.handed_over",
            row,
            numbers=shipped,
            stamp=stamp,
            now=now,
            left_out=left_out,
        )
        found = _view(conn, row)
        uow.commit()
    return found


def _ship(
    conn: Connection,
    stamp: int,
    fulfilment_id: str,
    *,
    numbers: Sequence[str],
    pickup_id: str,
    caller: Caller,
    now: datetime,
) -> bool:
    """The ship transition, its parcels the labelled ones; False if the fulfilment cannot ship
    any more (cancelled after it was labelled)."""
    try:
        step = begin_step(conn, stamp, fulfilment_id, Transition.SHIP, caller=caller, now=now)
    except TransitionRefused:
        return False
    parcels_repo.leave_labelled(conn, numbers, parcels_repo.SHIPPED, now)
    step.payload["parcels"] = list(numbers)
    step.payload["pickup_id"] = pickup_id
    apply_transition(step)
    finish_change(step)
    return True


# --- the worker's job ----------------------------------------------------------------------


def book_due_pickup(
    conn: Connection, view: SourcingView, fulfilment_id: str, now: datetime
) -> None:
    """The `pickup_booking` job of a labelled fulfilment: its carrier's parcels waiting at its
    location booked (its own, and any labelled since); nothing if they were booked meanwhile."""
    fulfilment = fulfilments_repo.find(conn, fulfilment_id)
    if fulfilment is None or fulfilment.status != FulfilmentStatus.PACKED:
        return
    unbooked = [
        p
        for p in parcels_repo.of_fulfilment(conn, fulfilment_id)
        if p.status == parcels_repo.LABELLED and p.pickup_id is None
    ]
    if not unbooked:
        return
    carrier = _carriers(view).get(unbooked[0].carrier_service)
    if carrier is None:  # a service the configuration no longer has: nobody to book
        return
    book(conn, view, fulfilment.location_code, carrier, now=now, booked_by=AUTO)


# --- helpers -------------------------------------------------------------------------------


def _check_location(caller: Caller, location: str) -> None:
    if caller.location is not None and caller.location != location:
        message = f"this key acts for location {caller.location!r}, not {location!r}"
        raise Forbidden(message, field="location")


def _scoped(conn: Connection, pickup_id: str, caller: Caller, carrier: str | None) -> Row[Any]:
    """Another location's pickup (a store key), another carrier's (a scoped carrier key):
    not found, as elsewhere."""
    row = repo.find(conn, pickup_id)
    if row is None or caller.location not in (None, row.location_code):
        raise NotFound("pickup", pickup_id)
    if carrier is not None and row.carrier != carrier:
        raise NotFound("pickup", pickup_id)
    return row


def _reread(conn: Connection, pickup_id: str) -> Row[Any]:
    row = repo.find(conn, pickup_id)
    assert row is not None
    return row


def _carriers(view: SourcingView) -> dict[str, str]:
    return {s.code: s.carrier for s in view.services}


def _parcel(row: Row[Any]) -> PickupParcel:
    return PickupParcel(
        row.tracking_number,
        row.carrier_service,
        row.weight_g,
        row.order_id,
        row.fulfilment_id,
        row.status,
    )


def _view(conn: Connection, row: Row[Any]) -> PickupView:
    """Its parcels, those left out (void) and those of a fulfilment no longer packed not
    counted: they will not be handed over."""
    handed = row.state == repo.HANDED_OVER
    kept = [
        p
        for p in parcels_repo.of_pickup(conn, row.id)
        if p.status != parcels_repo.VOID
        and (handed or p.fulfilment_status == FulfilmentStatus.PACKED)
    ]
    return PickupView(
        id=row.id,
        location=row.location_code,
        carrier=row.carrier,
        status=PickupStatus(row.state),
        collect_at=row.collect_at,
        booked_by=row.booked_by,
        booked_at=row.booked_at,
        handed_over_at=row.handed_over_at,
        version=row.version,
        parcels=tuple(_parcel(p) for p in kept),
    )
