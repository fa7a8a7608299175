"""API keys: each has a role and, for a store, the one location it acts for.

Only a SHA-256 of a key is stored: keys are long random secrets, so a slow hash buys nothing and
would cost every request. The plain key is shown once, at creation.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Row
from uuid6 import uuid7

from openoms.db.repositories import keys as repo
from openoms.db.repositories.codes import existing_codes
from openoms.db.tables import locations
from openoms.db.uow import Database
from openoms.errors import FieldError, InvalidInput, NotFound, Unauthorized

KEY_PREFIX = "oms_"


class Role(StrEnum):
    ADMIN = "admin"
    CHANNEL = "channel"
    STORE = "store"
    CARRIER = "carrier"


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: str
    name: str
    role: Role
    location: str | None
    channel: str | None = None
    """A channel key scoped to one channel acts for it only; None: every channel."""
    carrier: str | None = None
    """A carrier key scoped to one carrier reads its pickups only; None: every carrier's."""


@dataclass(frozen=True, slots=True)
class CreatedKey:
    principal: Principal
    secret: str


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    db: Database,
    *,
    name: str,
    role: Role,
    location: str | None,
    now: datetime,
    channel: str | None = None,
    carrier: str | None = None,
) -> CreatedKey:
    if channel and role is not Role.CHANNEL:
        raise InvalidInput([FieldError("channel", "only channel keys are scoped to a channel")])
    if carrier and role is not Role.CARRIER:
        raise InvalidInput([FieldError("carrier", "only carrier keys are scoped to a carrier")])
    if role is Role.STORE and not location:
        raise InvalidInput([FieldError("location", "a store key is scoped to one location")])
    if role is not Role.STORE and location:
        raise InvalidInput([FieldError("location", "only store keys are scoped to a location")])
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key_id = str(uuid7())
    with db.write() as uow:
        if location and not existing_codes(uow.conn, locations, [location]):
            raise InvalidInput([FieldError("location", f"unknown location {location!r}")])
        repo.insert(
            uow.conn,
            key_id=key_id,
            name=name,
            role=role.value,
            location_code=location,
            channel=channel,
            carrier=carrier,
            key_hash=hash_key(secret),
            now=now,
        )
        uow.commit()
    return CreatedKey(Principal(key_id, name, role, location, channel, carrier), secret)


def list_keys(db: Database) -> list[tuple[Principal, datetime, datetime | None]]:
    with db.read() as conn:
        return [(_principal(r), r.created_at, r.revoked_at) for r in repo.all_keys(conn)]


def revoke_key(db: Database, key_id: str, now: datetime) -> None:
    with db.write() as uow:
        if not repo.revoke(uow.conn, key_id, now):
            raise NotFound("api key", key_id)
        uow.commit()


class KeyRing:
    """Resolves secrets to principals, remembering answers for a few seconds.

    A revoked key therefore keeps working in a running process for at most `ttl` seconds: the
    price of not reading the database on every request.
    """

    def __init__(self, db: Database, ttl: float) -> None:
        self._db = db
        self._ttl = ttl
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    def authenticate(self, secret: str | None) -> Principal:
        if not secret:
            raise Unauthorized("send an API key: Authorization: Bearer <key>")
        digest = hash_key(secret)
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > time.monotonic():
            principal = cached[1]
        else:
            principal = self._load(digest)
        if principal is None:
            raise Unauthorized("unknown or revoked API key")
        return principal

    def remembered(self, secret: str) -> Principal | None:
        """The principal of a key this process resolved less than `ttl` ago, without IO; None
        when it must be read (or is unknown: `authenticate` says which)."""
        cached = self._cache.get(hash_key(secret))
        if cached is None or cached[0] <= time.monotonic():
            return None
        return cached[1]

    def _load(self, digest: str) -> Principal | None:
        with self._db.read() as conn:
            row = repo.by_hash(conn, digest)
        principal = _principal(row) if row else None
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (time.monotonic() + self._ttl, principal)
        return principal


def _principal(row: Row[Any]) -> Principal:
    return Principal(row.id, row.name, Role(row.role), row.location_code, row.channel, row.carrier)
