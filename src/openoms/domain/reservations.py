"""E-reservations: units held at a store for a customer for a limited time, paid in store.

A reservation is `open` when made, `set_aside` once the store has put the units away for the
customer, and ends `converted` (paid at the till: a sale), `cancelled` or `expired`. Expiry is
a matter of time: a reservation still open or set aside whose `expires_at` is now or past is
expired, whatever its stored state says (the worker only writes it down and tells the outbox).
So `expires_at == now` is expired: it cannot be converted and its units are available.

Limits stop one customer from hoarding a store's shelf: at most `max_open` reservations open
at once, and at most `max_units_per_sku` units of one sku over their open reservations.

Exceptions, carrying data:

    IllegalReservationTransition   status, action
    ReservationLimitExceeded       breaches (limit, sku, allowed, asked)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

DEFAULT_HOLDING_HOURS = 48
"""How long a store keeps reserved units for the customer, unless the location says otherwise."""


class ReservationStatus(StrEnum):
    OPEN = "open"
    SET_ASIDE = "set_aside"
    CONVERTED = "converted"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class ReservationAction(StrEnum):
    SET_ASIDE = "set_aside"
    CONVERT = "convert"
    CANCEL = "cancel"
    EXPIRE = "expire"


_S = ReservationStatus
_A = ReservationAction

_HOLDING = frozenset({_S.OPEN, _S.SET_ASIDE})

TRANSITIONS: Mapping[ReservationStatus, Mapping[ReservationAction, ReservationStatus]] = (
    MappingProxyType(
        {
            _S.OPEN: MappingProxyType(
                {
                    _A.SET_ASIDE: _S.SET_ASIDE,
                    _A.CONVERT: _S.CONVERTED,
                    _A.CANCEL: _S.CANCELLED,
                    _A.EXPIRE: _S.EXPIRED,
                }
            ),
            _S.SET_ASIDE: MappingProxyType(
                {_A.CONVERT: _S.CONVERTED, _A.CANCEL: _S.CANCELLED, _A.EXPIRE: _S.EXPIRED}
            ),
            _S.CONVERTED: MappingProxyType({}),
            _S.CANCELLED: MappingProxyType({}),
            _S.EXPIRED: MappingProxyType({}),
        }
    )
)


class IllegalReservationTransition(Exception):
    def __init__(self, status: ReservationStatus, action: ReservationAction) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[status])) or "nothing (it is final)"
        super().__init__(f"a reservation {status} cannot {action}: it may {allowed}")
        self.status = status
        self.action = action


def holds_units(status: ReservationStatus) -> bool:
    """Whether a reservation in this (stored) status keeps its units from ATP until it expires."""
    return status in _HOLDING


def status_at(stored: ReservationStatus, expires_at: datetime, now: datetime) -> ReservationStatus:
    """The status as of `now`: one still holding at or past its expiry is expired."""
    if stored in _HOLDING and expires_at <= now:
        return _S.EXPIRED
    return stored


def next_status(
    stored: ReservationStatus, action: ReservationAction, expires_at: datetime, now: datetime
) -> ReservationStatus:
    """The status after `action` at `now`; an expired reservation may only be written down as
    expired (`EXPIRE`), and nothing else may happen to it."""
    current = stored if action is _A.EXPIRE else status_at(stored, expires_at, now)
    if action is _A.EXPIRE and expires_at > now:
        raise IllegalReservationTransition(current, action)
    target = TRANSITIONS[current].get(action)
    if target is None:
        raise IllegalReservationTransition(current, action)
    return target


def expiry(now: datetime, holding_hours: int) -> datetime:
    if holding_hours <= 0:
        raise ValueError(f"holding_hours must be positive, got {holding_hours}")
    return now + timedelta(hours=holding_hours)


@dataclass(frozen=True, slots=True)
class ReservationLimits:
    max_open: int = 3
    """Open (or set aside) reservations of one customer at once, all stores together."""
    max_units_per_sku: int = 4
    """Units of one sku over one customer's open reservations, all stores together."""

    def __post_init__(self) -> None:
        if self.max_open < 1 or self.max_units_per_sku < 1:
            raise ValueError("reservation limits must be at least 1")


@dataclass(frozen=True, slots=True)
class Breach:
    limit: str
    """`max_open` or `max_units_per_sku`."""
    sku: str | None
    allowed: int
    asked: int


class ReservationLimitExceeded(Exception):
    def __init__(self, breaches: tuple[Breach, ...]) -> None:
        parts = [
            f"{b.limit}: {b.asked} asked{f' of sku {b.sku}' if b.sku else ''}, at most {b.allowed}"
            for b in breaches
        ]
        super().__init__("; ".join(parts))
        self.breaches = breaches


def check_limits(
    limits: ReservationLimits,
    *,
    open_reservations: int,
    open_units: Mapping[str, int],
    wanted: Mapping[str, int],
) -> None:
    """Refuse a new reservation of `wanted` (sku -> units) by a customer who already has
    `open_reservations` open, holding `open_units` (sku -> units) over them."""
    breaches: list[Breach] = []
    if open_reservations + 1 > limits.max_open:
        breaches.append(Breach("max_open", None, limits.max_open, open_reservations + 1))
    for sku, units in sorted(wanted.items()):
        total = open_units.get(sku, 0) + units
        if total > limits.max_units_per_sku:
            breaches.append(Breach("max_units_per_sku", sku, limits.max_units_per_sku, total))
    if breaches:
        raise ReservationLimitExceeded(tuple(breaches))
