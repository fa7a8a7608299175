"""Loading the demo data set into a database, through the same use cases as real data."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from openoms.db.repositories.stock import SnapshotRow
from openoms.db.tables import metadata
from openoms.db.uow import Database
from openoms.demo import DemoData
from openoms.demo.profiles import demo_profiles
from openoms.domain.profiles import CriteriaRegistry
from openoms.services import catalog, channels, network, profiles, stock

CHUNK = 50_000


@dataclass(frozen=True, slots=True)
class DemoReport:
    locations: int
    skus: int
    channels: int
    profiles: int
    positions: int


def load_demo(
    db: Database,
    data: DemoData,
    now: datetime,
    on_progress: Callable[[int], None] = lambda _: None,
) -> DemoReport:
    network.upsert_locations(db, data.locations, now)
    catalog.upsert_skus(db, data.skus, now)
    for channel in data.channels:
        channels.put_channel(db, channels.Channel(channel.code, channel.name, channel.rule), now)
    for document in demo_profiles():
        draft = profiles.save_draft(db, document, CriteriaRegistry(), now)
        profiles.publish_version(
            db, draft.code, draft.number, at=None, criteria=CriteriaRegistry(), now=now
        )
    positions = 0
    for rows in chunked(data.snapshot(), CHUNK):
        positions += stock.ingest_snapshots(db, rows, now).applied
        on_progress(len(rows))
    return DemoReport(
        len(data.locations), len(data.skus), len(data.channels), len(demo_profiles()), positions
    )


def chunked(rows: Iterable[SnapshotRow], size: int) -> Iterator[list[SnapshotRow]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def erase(db: Database) -> None:
    """Empties every table (the schema stays): `oms demo --reset`."""
    with db.write() as uow:
        for table in reversed(metadata.sorted_tables):
            uow.conn.execute(table.delete())
        uow.commit()
