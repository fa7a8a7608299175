"""Unified availability per channel, served from an in-process index.

The index holds the ATP of every position in compact arrays (one per sku, one slot per
location). Before each read it catches up with the database: one indexed query for the
positions stamped since its last horizon (db/changes.py), usually none. So a read costs no
scan, and still sees every write committed before it started, from any process.
Locations and channels are few and change rarely: a one-row query tells whether they changed,
and only then are they re-read and each channel's rule compiled against the network.
"""

from __future__ import annotations

import base64
import threading
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from openoms.db import changes
from openoms.db.repositories import channels as channels_repo
from openoms.db.repositories import locations as locations_repo
from openoms.db.repositories import stock as stock_repo
from openoms.db.uow import Database
from openoms.domain.availability import Availability, CompiledRule, Publisher, compile_rule
from openoms.errors import FieldError, InvalidInput, NotFound


@dataclass(frozen=True, slots=True)
class ChangePage:
    items: list[Availability]
    next_cursor: str
    more: bool


class AvailabilityIndex:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._since = 0
        self._config_version = -1
        self._slots: dict[str, int] = {}
        self._atp: dict[str, array[int]] = {}
        self._compiled: dict[str, CompiledRule] = {}
        self._empty: array[int] = array("q")

    def catch_up(self) -> None:
        """Bring the index up to every change committed before this call (one short read)."""
        with self._lock, self._db.read() as conn:
            mark = changes.watermark(conn)
            if mark.config_version != self._config_version:
                self._read_config(conn)
                self._config_version = mark.config_version
            if mark.horizon <= self._since:
                return
            for location, sku, atp in stock_repo.changed_since(conn, self._since, mark.horizon):
                slot = self._slots.get(location)
                if slot is not None:
                    self._array(sku)[slot] = atp
            self._since = mark.horizon

    @property
    def horizon(self) -> int:
        return self._since

    def compiled(self, channel: str) -> CompiledRule:
        rule = self._compiled.get(channel)
        if rule is None:
            raise NotFound("channel", channel)
        return rule

    def availability(self, channel: str, sku: str, *, detail: bool = False) -> Availability:
        values = self._atp.get(sku, self._empty)
        return self.compiled(channel).availability(sku, values, detail=detail)

    def _array(self, sku: str) -> array[int]:
        values = self._atp.get(sku)
        if values is None:
            values = self._atp[sku] = array("q", bytes(8 * len(self._slots)))
        return values

    def _read_config(self, conn: Connection) -> None:
        found = locations_repo.all_locations(conn)
        for location in found:
            if location.code not in self._slots:
                self._slots[location.code] = len(self._slots)
                for values in self._atp.values():
                    values.append(0)
        self._empty = array("q", bytes(8 * len(self._slots)))
        by_code = {loc.code: loc for loc in found}
        network = [
            Publisher(code, by_code[code].kind, by_code[code].tags, by_code[code].active)
            for code in sorted(self._slots, key=lambda code: self._slots[code])
        ]
        self._compiled = {
            row.code: compile_rule(row.code, channels_repo.rule_from_json(row.publication), network)
            for row in channels_repo.all_channels(conn)
        }


def sku_availability(
    index: AvailabilityIndex, channel: str, sku: str, *, detail: bool = False
) -> Availability:
    index.catch_up()
    return index.availability(channel, sku, detail=detail)


def skus_availability(
    index: AvailabilityIndex, channel: str, skus: Sequence[str], *, detail: bool = False
) -> list[Availability]:
    index.catch_up()
    return [index.availability(channel, sku, detail=detail) for sku in dict.fromkeys(skus)]


def availability_changes(
    db: Database, index: AvailabilityIndex, channel: str, *, since: str | None, limit: int
) -> ChangePage:
    """The skus whose availability on `channel` may have changed since the cursor, with their
    availability now. An empty cursor starts from the beginning (a full initial sync)."""
    index.catch_up()
    position = decode_cursor(since) if since else (0, "", "")
    admitted = [p.code for p in index.compiled(channel).publishers]
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
