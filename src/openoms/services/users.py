"""Store associates: accounts, sign-in with lock-out, and server-side web sessions.

Passwords are hashed with argon2 (argon2-cffi): unlike API keys, people choose them, so the hash
must be slow. A session is a random token given to the browser in a cookie; only its SHA-256 is
kept, with a CSRF token the pages put in every form (docs/decisions/0012). An unknown username
is answered as a wrong password, after hashing the password all the same, so that neither the
answer nor its time tells which usernames exist.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError
from uuid6 import uuid7

from openoms.db.repositories import locations as locations_repo
from openoms.db.repositories import users as repo
from openoms.db.uow import Database
from openoms.domain.network import LocationKind
from openoms.domain.users import (
    MAX_DISPLAY_NAME,
    SESSION_DURATION,
    Lockout,
    StoreRole,
    password_problem,
    username_problem,
)
from openoms.errors import Conflict, FieldError, InvalidInput, Unauthorized

_hasher = PasswordHasher()
_UNKNOWN_USER_HASH = _hasher.hash(secrets.token_urlsafe(16))


class WrongPassword(Unauthorized):
    code = "wrong_password"
    title = "Wrong username or password"


class AccountLocked(Unauthorized):
    code = "account_locked"
    title = "Account locked"

    def __init__(self, locked_until: datetime, location: str) -> None:
        super().__init__(f"too many wrong passwords: locked until {locked_until.isoformat()}")
        self.locked_until = locked_until
        self.location = location
        """The account's store: its clock tells the associate when the lock ends."""


class UsernameTaken(Conflict):
    code = "username_taken"
    title = "Username taken"


@dataclass(frozen=True, slots=True)
class User:
    id: str
    username: str
    display_name: str
    location: str
    role: StoreRole


@dataclass(frozen=True, slots=True)
class WebSession:
    user: User
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SignedIn:
    session: WebSession
    token: str
    """For the cookie; shown once, never stored."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    db: Database,
    *,
    username: str,
    display_name: str,
    location: str,
    role: StoreRole,
    password: str,
    now: datetime,
) -> User:
    errors = []
    if problem := username_problem(username):
        errors.append(FieldError("username", problem))
    if problem := password_problem(password):
        errors.append(FieldError("password", problem))
    name = display_name.strip() or username
    if len(name) > MAX_DISPLAY_NAME:
        errors.append(FieldError("display_name", f"at most {MAX_DISPLAY_NAME} characters"))
    if errors:
        raise InvalidInput(errors)
    user = User(str(uuid7()), username, name, location, role)
    password_hash = _hasher.hash(password)
    with db.write() as uow:
        found = locations_repo.get(uow.conn, location)
        if found is None:
            raise InvalidInput([FieldError("location", f"unknown location {location!r}")])
        if found.kind is not LocationKind.STORE:
            message = f"{location!r} is a {found.kind.value}, not a store"
            raise InvalidInput([FieldError("location", message)])
        if repo.by_username(uow.conn, username) is not None:
            raise UsernameTaken(f"username {username!r} is taken")
        try:
            repo.insert(
                uow.conn,
                user_id=user.id,
                username=username,
                display_name=name,
                location=location,
                role=role.value,
                password_hash=password_hash,
                now=now,
            )
            uow.commit()
        except IntegrityError as error:  # taken meanwhile by a concurrent create
            raise UsernameTaken(f"username {username!r} is taken") from error
    return user


def sign_in(db: Database, *, username: str, password: str, now: datetime) -> SignedIn:
    """A new session, or `WrongPassword` / `AccountLocked` with the attempt counted."""
    with db.write() as uow:
        row = repo.by_username(uow.conn, username)
        if row is None:
            _verify(_UNKNOWN_USER_HASH, password)
            raise WrongPassword("wrong username or password")
        lockout = Lockout(row.failed_attempts, row.locked_until)
        if lockout.is_locked(now):
            assert lockout.locked_until is not None
            raise AccountLocked(lockout.locked_until, row.location_code)
        if not _verify(row.password_hash, password):
            after = lockout.after_failure(now)
            counted = repo.set_lockout(
                uow.conn,
                row.id,
                failed_attempts=after.failed_attempts,
                locked_until=after.locked_until,
                was=row.failed_attempts,
                now=now,
            )
            uow.commit()
            if counted and after.locked_until is not None:
                raise AccountLocked(after.locked_until, row.location_code)
            raise WrongPassword("wrong username or password")
        if row.failed_attempts or row.locked_until:
            repo.set_lockout(
                uow.conn,
                row.id,
                failed_attempts=0,
                locked_until=None,
                was=row.failed_attempts,
                now=now,
            )
        if _hasher.check_needs_rehash(row.password_hash):
            repo.set_password_hash(uow.conn, row.id, _hasher.hash(password), now)
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        expires_at = now + SESSION_DURATION
        repo.delete_expired_sessions(uow.conn, row.id, now)
        repo.add_session(
            uow.conn,
            token_hash=hash_token(token),
            user_id=row.id,
            csrf_token=csrf,
            now=now,
            expires_at=expires_at,
        )
        uow.commit()
    return SignedIn(WebSession(_user(row, row.id), csrf, expires_at), token)


def session_of(db: Database, token: str | None, now: datetime) -> WebSession | None:
    """The live session a cookie names, or None (no cookie, unknown, expired, signed out)."""
    if not token:
        return None
    with db.read() as conn:
        row = repo.session_with_user(conn, hash_token(token), now)
    if row is None:
        return None
    return WebSession(_user(row, row.user_id), row.csrf_token, row.expires_at)


def sign_out(db: Database, token: str) -> None:
    with db.write() as uow:
        repo.delete_session(uow.conn, hash_token(token))
        uow.commit()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _user(row: Row[Any], user_id: str) -> User:
    return User(user_id, row.username, row.display_name, row.location_code, StoreRole(row.role))
