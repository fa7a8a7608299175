"""Unified availability per channel, served from an in-process index.

The index holds the ATP of every position in compact arrays (one per sku, one slot per
location). Before each read it catches up with the database: one indexed query for the
positions stamped since its last horizon (db/changes.py), usually none. So a read costs no
scan, and still sees every write committed before it started, from any process.
Locations and channels are few and change rarely: they are re-read at most every
`config_ttl` seconds (and at once by the process that changed them).
"""

from __future__ import annotations

import base64
import threading
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

from openoms.db import changes
from openoms.db.repositories import channels as channels_repo
from openoms.db.repositories import locations as locations_repo
from openoms.db.repositories import stock as stock_repo
from openoms.db.uow import Database
from openoms.domain.availability import (
    Availability,
    PositionView,
    PublicationRule,
    channel_availability,
)
from openoms.domain.network import Location
from openoms.errors import FieldError, InvalidInput, NotFound


@dataclass(frozen=True, slots=True)
class ChangePage:
    items: list[Availability]
    next_cursor: str
    more: bool


class AvailabilityIndex:
    def __init__(self, db: Database, *, config_ttl: float = 2.0) -> None:
        self._db = db
        self._config_ttl = config_ttl
        self._lock = threading.Lock()
        self._since = 0
        self._slots: dict[str, int] = {}
        self._locations: list[Location] = []
        self._atp: dict[str, array[int]] = {}
        self._rules: dict[str, PublicationRule] = {}
        self._config_read_at = float("-inf")

    def invalidate_config(self) -> None:
        self._config_read_at = float("-inf")

    def catch_up(self) -> None:
        with self._lock:
            if time.monotonic() - self._config_read_at > self._config_ttl:
                self._read_config()
            with self._db.read() as conn:
                below = changes.horizon(conn)
                rows = stock_repo.changed_since(conn, self._since, below)
            for location, sku, atp in rows:
                slot = self._slots.get(location)
                if slot is None:
                    self._read_config()
                    slot = self._slots[location]
                self._array(sku)[slot] = atp
            self._since = below

    @property
    def horizon(self) -> int:
        return self._since

    def rule(self, channel: str) -> PublicationRule:
        rule = self._rules.get(channel)
        if rule is None:
            raise NotFound("channel", channel)
        return rule

    def availability(self, channel: str, sku: str) -> Availability:
        rule = self.rule(channel)
        values = self._atp.get(sku)
        views = (
            PositionView(loc.code, loc.kind, loc.tags, values[slot] if values else 0)
            for slot, loc in enumerate(self._locations)
            if loc.active
        )
        return channel_availability(sku, channel, rule, views)

    def admitted_locations(self, channel: str) -> list[str]:
        rule = self.rule(channel)
        return [loc.code for loc in self._locations if rule.admits(loc.code, loc.kind, loc.tags)]

    def _array(self, sku: str) -> array[int]:
        values = self._atp.get(sku)
        if values is None:
            values = self._atp[sku] = array("q", bytes(8 * len(self._slots)))
        return values

    def _read_config(self) -> None:
        with self._db.read() as conn:
            found = locations_repo.all_locations(conn)
            rules = {
                row.code: channels_repo.rule_from_json(row.publication)
                for row in channels_repo.all_channels(conn)
            }
        known = {loc.code for loc in self._locations}
        for loc in found:
            if loc.code not in known:
                self._slots[loc.code] = len(self._slots)
                for values in self._atp.values():
                    values.append(0)
        by_code = {loc.code: loc for loc in found}
        self._locations = [
            by_code[code] for code in sorted(self._slots, key=lambda code: self._slots[code])
        ]
        self._rules = rules
        self._config_read_at = time.monotonic()


def sku_availability(index: AvailabilityIndex, channel: str, sku: str) -> Availability:
    index.catch_up()
    return index.availability(channel, sku)


def skus_availability(
    index: AvailabilityIndex, channel: str, skus: Sequence[str]
) -> list[Availability]:
    index.catch_up()
    return [index.availability(channel, sku) for sku in dict.fromkeys(skus)]


def availability_changes(
    db: Database, index: AvailabilityIndex, channel: str, *, since: str | None, limit: int
) -> ChangePage:
    """The skus whose availability on `channel` may have changed since the cursor, with their
    availability now. An empty cursor starts from the beginning (a full initial sync)."""
    index.catch_up()
    position = decode_cursor(since) if since else (0, "", "")
    admitted = index.admitted_locations(channel)
    with db.read() as conn:
        stamped = stock_repo.changed_page(
            conn, since=position, below=index.horizon, locations=admitted, limit=limit
        )
    skus = list(dict.fromkeys(sku for _, _, sku in stamped))
    last = stamped[-1] if stamped else position
    return ChangePage(
        items=[index.availability(channel, sku) for sku in skus],
        next_cursor=encode_cursor(last),
        more=len(stamped) == limit,
    )


def encode_cursor(position: tuple[int, str, str]) -> str:
    raw = "\x1f".join((str(position[0]), position[1], position[2]))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        seq, location, sku = base64.urlsafe_b64decode(padded).decode().split("\x1f")
        return int(seq), location, sku
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput([FieldError("since", "not a cursor this API handed out")]) from error
