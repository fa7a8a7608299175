"""Broadcast: a fulfilment offered to the best N stores at once, by waves of T minutes.

The units are held once, at the fulfilment's location (the best candidate), never N times:
availability is what we sell. A wave's stores are that location first, then the next best
candidates of the same rule that hold all the units (the rule's screening run again from stock
read in the transaction, each pick left out of the next run). Any store with an open offer may
claim; the first claim wins by the fulfilment's version, and the hold moves to the claimer in
the same transaction if the claimer is not the holder (`move_hold`: refused with the reason if
it no longer fits the claimer's ATP, the offers staying open). The other offers are withdrawn.
When a wave times out (the worker's `offer_timeout` job) the next wave is offered to the next
N stores, the hold moving to the first that still fits; with no store left the fulfilment is
withdrawn and its units re-routed with the profile's next rules (services/timers.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, update

from openoms.db.repositories import fulfilments as fulfilments_repo
from openoms.db.repositories import jobs as jobs_repo
from openoms.db.repositories import offers as repo
from openoms.db.repositories import orders as orders_repo
from openoms.db.tables import allocations, fulfilments
from openoms.domain.network import GeoPoint
from openoms.domain.orders import AllocatedAt, move
from openoms.domain.profiles import DeliveryMethod, OfferMode, OfferPolicy
from openoms.domain.shipping import Destination
from openoms.errors import Conflict, NotFound
from openoms.services.order_change import OrderChange
from openoms.services.sourcing import BasketStock, RequestedLine, plan_basket
from openoms.services.sourcing_view import SourcingView

OFFER_TIMEOUT = "offer_timeout"
"""The job that ends a wave: subject a fulfilment id, due when its offers expire."""


class ClaimDoesNotFit(Conflict):
    """The claiming store no longer has the units: refused, the offers stay open."""

    code = "claim_does_not_fit"
    title = "Claim does not fit the store's stock"


@dataclass(frozen=True, slots=True)
class OfferView:
    wave: int
    locations: tuple[str, ...]
    expires_at: datetime


def offer_policy(
    view: SourcingView, order: Row[Any], rule: str | None, now: datetime
) -> OfferPolicy:
    try:
        profile = view.live_profile(order.channel, DeliveryMethod(order.delivery_method), now)
    except NotFound:
        return OfferPolicy()
    found = next((r for r in profile.rules if r.name == rule), None)
    return found.offer if found is not None else OfferPolicy()


def order_destination(view: SourcingView, order: Row[Any]) -> Destination:
    if order.pickup_store is not None:
        store = view.location(order.pickup_store)
        if store is not None:
            return Destination(store.point, store.country)
    return Destination(GeoPoint(order.latitude, order.longitude), order.country or "FR")


def open_wave(
    change: OrderChange,
    view: SourcingView,
    fulfilment: Row[Any],
    *,
    wave: int,
    exclude: Iterable[str],
) -> list[str]:
    """Offer the fulfilment to its location (if not excluded) and the next best stores of its
    rule, up to the rule's N; the wave's timeout scheduled. Returns the stores offered."""
    policy = offer_policy(view, change.rows.order, fulfilment.rule, change.now)
    if policy.mode is not OfferMode.BROADCAST:
        return []
    out = set(exclude)
    chosen = [] if fulfilment.location_code in out else [fulfilment.location_code]
    out.add(fulfilment.location_code)
    chosen += candidates(change, view, fulfilment, out, max(policy.stores, 1) - len(chosen))
    if not chosen:
        return []
    expires_at = change.now + timedelta(minutes=max(policy.minutes, 1))
    repo.add_wave(
        change.conn, fulfilment.id, chosen, wave=wave, now=change.now, expires_at=expires_at
    )
    jobs_repo.cancel(change.conn, OFFER_TIMEOUT, fulfilment.id)
    jobs_repo.schedule(change.conn, OFFER_TIMEOUT, fulfilment.id, expires_at, change.now)
    change.event(
        "offer.opened",
        fulfilment.id,
        wave=wave,
        locations=chosen,
        expires_at=expires_at.isoformat(),
    )
    return chosen


def candidates(
    change: OrderChange, view: SourcingView, fulfilment: Row[Any], exclude: Iterable[str], n: int
) -> list[str]:
    """The best `n` locations, after `exclude`, that the fulfilment's rule would choose to
    serve all its units from one place, best first."""
    if n <= 0:
        return []
    held = units_of(change, fulfilment.id)
    sku_of = change.sku_of
    lines = [
        RequestedLine(line_id, sku_of[line_id], units) for line_id, units in sorted(held.items())
    ]
    skus = view.skus([line.sku for line in lines])
    out = set(exclude)
    stock = {
        location: atp
        for location, atp in fulfilments_repo.atp_by_location(change.conn, skus, change.now).items()
        if location not in out
    }
    order = change.rows.order
    picked: list[str] = []
    while len(picked) < n and stock:
        try:
            result = plan_basket(
                view,
                channel=order.channel,
                method=DeliveryMethod(order.delivery_method),
                lines=lines,
                destination=order_destination(view, order),
                now=change.now,
                basket=BasketStock(skus, stock),
            )
        except (NotFound, Conflict):
            break
        if result.plan is None or result.rule != fulfilment.rule:
            break
        if len(result.plan.shipments) != 1:
            break
        location = result.plan.shipments[0].location
        picked.append(location)
        del stock[location]
    return picked


def units_of(change: OrderChange, fulfilment_id: str) -> dict[str, int]:
    """line id -> units the fulfilment holds, as this transaction read them."""
    return {
        a.line_id: a.units
        for a in change.rows.allocations
        if a.fulfilment_id == fulfilment_id and a.units
    }


def move_hold(change: OrderChange, fulfilment: Row[Any], to: str) -> Row[Any]:
    """The fulfilment's units reserved at `to` and released where they were held, its location
    and its allocations moved, in the caller's transaction. Raises `ClaimDoesNotFit` (having
    written nothing) when `to` no longer has them. Returns the fulfilment's row after."""
    held = units_of(change, fulfilment.id)
    sku_of = change.sku_of
    source = fulfilment.location_code
    conn = change.conn
    savepoint = conn.begin_nested()
    for line_id, units in sorted(held.items()):
        sku = sku_of[line_id]
        if not orders_repo.reserve(conn, to, sku, units, now=change.now):
            savepoint.rollback()
            raise ClaimDoesNotFit(
                f"{to} no longer has {units} units of sku {sku!r} available to promise;"
                " the offer stays open to the other stores"
            )
        if not orders_repo.release(conn, source, sku, units):
            raise AssertionError(f"{source}/{sku} holds fewer than {units} reserved units")
        change.touched |= {(to, sku), (source, sku)}
        change.buckets[line_id] = move(
            change.buckets[line_id], AllocatedAt(source), AllocatedAt(to), units
        )
    savepoint.commit()
    a, f = allocations.c, fulfilments.c
    conn.execute(
        update(allocations).where(a.fulfilment_id == fulfilment.id).values(location_code=to)
    )
    moved = conn.execute(
        update(fulfilments)
        .where(f.id == fulfilment.id, f.version == fulfilment.version)
        .values(location_code=to, version=f.version + 1, updated_at=change.now)
    )
    if moved.rowcount != 1:
        raise Conflict(f"fulfilment {fulfilment.id} changed meanwhile; read it again")
    change.event("fulfilment.hold_moved", fulfilment.id, from_location=source, to_location=to)
    row = fulfilments_repo.find(conn, fulfilment.id)
    assert row is not None
    return row


def close_offers(change: OrderChange, fulfilment_id: str, winner: str | None) -> None:
    """The fulfilment left `offered`: the winner's offer claimed, every other withdrawn."""
    conn = change.conn
    if winner is not None:
        repo.close(conn, fulfilment_id, winner, repo.CLAIMED)
    for location in repo.close(conn, fulfilment_id, None, repo.WITHDRAWN):
        change.event("offer.withdrawn", fulfilment_id, location=location, claimed_by=winner)
    jobs_repo.cancel(conn, OFFER_TIMEOUT, fulfilment_id)


def expire_offers(change: OrderChange, fulfilment_id: str) -> None:
    for location in repo.close(change.conn, fulfilment_id, None, repo.EXPIRED):
        change.event("offer.expired", fulfilment_id, location=location)


def offered_locations(change: OrderChange, fulfilment_id: str) -> list[str]:
    """Every store offered the fulfilment so far, in any wave."""
    return [row.location_code for row in repo.of_fulfilment(change.conn, fulfilment_id)]


def last_wave(rows: Sequence[Row[Any]]) -> int:
    return max((row.wave for row in rows), default=0)


def open_offers(conn: Any, fulfilment_ids: Sequence[str]) -> Mapping[str, OfferView]:
    """fulfilment id -> its open wave, for the queues."""
    by_fulfilment: dict[str, list[Row[Any]]] = {}
    for row in repo.open_of(conn, fulfilment_ids):
        by_fulfilment.setdefault(row.fulfilment_id, []).append(row)
    return {
        fid: OfferView(
            wave=max(r.wave for r in rows),
            locations=tuple(sorted(r.location_code for r in rows)),
            expires_at=min(r.expires_at for r in rows),
        )
        for fid, rows in by_fulfilment.items()
    }
