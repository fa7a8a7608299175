"""Channels and their publication rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from openoms.db.changes import bump_config
from openoms.db.repositories import channels as repo
from openoms.db.repositories.codes import existing_codes
from openoms.db.tables import locations
from openoms.db.uow import Database
from openoms.domain.availability import PublicationRule
from openoms.errors import FieldError, InvalidInput, NotFound


@dataclass(frozen=True, slots=True)
class Channel:
    code: str
    name: str
    rule: PublicationRule


def put_channel(db: Database, channel: Channel, now: datetime) -> Channel:
    with db.write() as uow:
        unknown = set(channel.rule.locations) - existing_codes(
            uow.conn, locations, channel.rule.locations
        )
        if unknown:
            raise InvalidInput(
                [
                    FieldError("publication.locations", f"unknown location {code!r}")
                    for code in sorted(unknown)
                ]
            )
        repo.upsert(uow.conn, channel.code, channel.name, channel.rule, now)
        bump_config(uow.conn)
        uow.commit()
    return channel


def get_channel(db: Database, code: str) -> Channel:
    with db.read() as conn:
        row = repo.get(conn, code)
    if row is None:
        raise NotFound("channel", code)
    return Channel(row.code, row.name, repo.rule_from_json(row.publication))


def list_channels(db: Database) -> list[Channel]:
    with db.read() as conn:
        return [
            Channel(row.code, row.name, repo.rule_from_json(row.publication))
            for row in repo.all_channels(conn)
        ]
