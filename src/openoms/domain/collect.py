"""Click & collect and express click & collect: the pickup code, the store's settings, the
deadlines, and which plan may serve an express order.

The pickup code is what the customer shows at the counter. It is short (6 characters of an
alphabet without look-alikes: 32^6, about 10^9 codes) and random (`secrets`), and it is kept
only as a hash bound to the order: reading the database does not give the counter away, and
a check compares digests in constant time. A short code can be found by trying, so the real
guard is the limit of `MAX_TRIES` wrong attempts per code; a new code (re-issued by the
channel) starts the count again. The other way to hand over is the order number and the
customer's name, checked by an associate against an identity document.

Deadlines are worked out here from what the caller passes in (`now`, the store's settings):
- an express order must be ready `express_minutes` after it was placed (`ready_by`);
- a parcel waiting at the store is kept `holding_days` from the moment the whole order is
  there (`holding_until`), then the units go back to stock and the order is cancelled or
  refunded (`UncollectedPolicy`);
- a transfer is overdue a day of grace after the latest arrival day its carrier gives.

Exceptions, carrying data:

    ExpressRefused         reason (why this plan cannot be an express collect)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""No 0/O, 1/I: a code read aloud or typed from a phone screen is not mistaken."""
CODE_LENGTH = 6
MAX_TRIES = 5
"""Wrong codes (or names) per issued code before handover by code is locked."""
TRANSFER_GRACE = timedelta(days=1)
"""After the latest arrival day a transfer's carrier gives, before it is flagged overdue."""


class UncollectedPolicy(StrEnum):
    """What happens to an order nobody collected within the holding time."""

    CANCEL = "cancel"
    """The payment was only authorised: the order is cancelled, the authorisation released."""
    REFUND = "refund"
    """The payment was captured: the order is cancelled and a refund is asked for."""


@dataclass(frozen=True, slots=True)
class CollectSettings:
    """A pickup store's settings (each store may set its own; these are the defaults)."""

    holding_days: int = 5
    express_minutes: int = 60
    uncollected: UncollectedPolicy = UncollectedPolicy.CANCEL

    def __post_init__(self) -> None:
        if not 1 <= self.holding_days <= 60:
            raise ValueError(f"holding_days must be within 1..60, got {self.holding_days}")
        if not 5 <= self.express_minutes <= 24 * 60:
            raise ValueError(f"express_minutes must be within 5..1440, got {self.express_minutes}")


class ExpressRefused(Exception):
    """An express collect order that its pickup store cannot serve from its own shelf now."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def new_pickup_code(choose: Callable[[str], str] = secrets.choice) -> str:
    return "".join(choose(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(given: str) -> str:
    """What a person typed: case, spaces and dashes do not matter."""
    return "".join(ch for ch in given.upper() if ch not in " -")


def hash_code(order_id: str, code: str) -> str:
    """The stored form: bound to the order, so one order's hash says nothing of another's."""
    return hashlib.sha256(f"{order_id}:{normalise_code(code)}".encode()).hexdigest()


def code_matches(stored_hash: str, order_id: str, given: str) -> bool:
    return hmac.compare_digest(stored_hash, hash_code(order_id, given))


def _folded(name: str) -> str:
    """Case, accents and spacing folded: `Camille  MARTIN` is `camille martin`."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


def name_matches(customer_name: str, given: str) -> bool:
    return hmac.compare_digest(_folded(customer_name).encode(), _folded(given).encode())


def tries_left(failed: int) -> int:
    return max(0, MAX_TRIES - failed)


def express_ready_by(placed_at: datetime, settings: CollectSettings) -> datetime:
    return placed_at + timedelta(minutes=settings.express_minutes)


def holding_until(ready_at: datetime, settings: CollectSettings) -> datetime:
    return ready_at + timedelta(days=settings.holding_days)


def is_late(ready_by: datetime | None, ready_at: datetime | None, now: datetime) -> bool:
    """An express order past its deadline and not ready (or made ready after it)."""
    if ready_by is None:
        return False
    return ready_at > ready_by if ready_at is not None else now > ready_by


def transfer_overdue_at(latest_arrival: date, zone: ZoneInfo) -> datetime:
    """The end of the latest arrival day at the pickup store, plus the grace."""
    end_of_day = datetime.combine(latest_arrival + timedelta(days=1), time(0), zone)
    return end_of_day + TRANSFER_GRACE


def check_express_plan(
    pickup_store: str,
    shipments: Iterable[tuple[str, Mapping[str, int]]],
    ordered: Mapping[str, int],
    *,
    capable: bool,
    open_now: bool,
) -> None:
    """Express collect: every unit from the pickup store's own shelf, while it is open.

    `shipments`: (location, line id -> units) of the plan; `ordered`: line id -> units."""
    if not capable:
        raise ExpressRefused(f"{pickup_store} does not offer express collect")
    if not open_now:
        raise ExpressRefused(f"{pickup_store} is closed now")
    planned: dict[str, int] = {}
    for location, units in shipments:
        if location != pickup_store:
            raise ExpressRefused(f"only {pickup_store}'s own shelf may serve it, not {location}")
        for line_id, n in units.items():
            planned[line_id] = planned.get(line_id, 0) + n
    short = sorted(line_id for line_id, n in ordered.items() if planned.get(line_id, 0) < n)
    if short:
        raise ExpressRefused(f"{pickup_store}'s shelf lacks units of lines {', '.join(short)}")
