"""A store's day in figures for its manager, from what the events and offers recorded.

Counted for the store's local day: fulfilments claimed, rejected and shipped there (by their
events), those late (domain/store_day.py) among the ones still being prepared and the ones
shipped today; the average time from the offer to this store to its claim, and from claim to
packed for what was packed today.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from openoms.db.repositories import store_day as repo
from openoms.db.uow import Database
from openoms.domain.fulfilments import FulfilmentStatus
from openoms.domain.store_day import DayFigures, average, day_bounds, is_late, promised_by

COUNTED = ("fulfilment.claimed", "fulfilment.rejected", "fulfilment.packed", "fulfilment.shipped")
IN_HAND = (FulfilmentStatus.CLAIMED, FulfilmentStatus.PICKING, FulfilmentStatus.PACKED)


def day_figures(db: Database, location: str, day: date, timezone: str, now: datetime) -> DayFigures:
    start, end = day_bounds(day, timezone)
    with db.read() as conn:
        rows = [
            row
            for row in repo.day_events(conn, COUNTED, start, end)
            if (row.payload or {}).get("location") == location
        ]
        at: dict[str, dict[str, datetime]] = {kind: {} for kind in COUNTED}
        for row in rows:
            at[row.type].setdefault(row.fulfilment_id, row.created_at)
        claimed, packed = at["fulfilment.claimed"], at["fulfilment.packed"]
        shipped = at["fulfilment.shipped"]
        offered = repo.offered_times(conn, location, claimed)
        claims = repo.first_event_times(conn, "fulfilment.claimed", packed)
        promised = repo.promises(conn, location, [s.value for s in IN_HAND], shipped)
    late = sum(
        1
        for row in promised
        if is_late(_deadline(row.promise_option, timezone), shipped.get(row.id), now)
    )
    return DayFigures(
        claimed=len(claimed),
        rejected=len(at["fulfilment.rejected"]),
        late=late,
        shipped=len(shipped),
        offer_to_claim=average(claimed[f] - offered[f] for f in claimed if f in offered),
        claim_to_packed=average(packed[f] - claims[f] for f in packed if f in claims),
    )


def _deadline(option: Mapping[str, Any] | None, timezone: str) -> datetime | None:
    if not option:
        return None
    ready, latest = option.get("ready_at"), option.get("latest")
    return promised_by(
        datetime.fromisoformat(ready) if ready else None,
        date.fromisoformat(latest) if latest else None,
        timezone,
    )
