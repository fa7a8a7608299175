"""Store associates' accounts: roles, what a valid username and password are, and lock-out.

A store tablet sits on a counter, so guessing passwords there must be slow: after
`MAX_FAILED_ATTEMPTS` wrong passwords in a row the account is locked for `LOCK_DURATION`,
whatever is typed meanwhile (the right password too). When the lock ends the count starts
again from zero; a right password before that also resets it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

MAX_FAILED_ATTEMPTS = 5
LOCK_DURATION = timedelta(minutes=15)
SESSION_DURATION = timedelta(hours=12)
"""A signed-in tablet stays signed in for a working day, then asks again."""

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 200
MAX_DISPLAY_NAME = 200


class StoreRole(StrEnum):
    ASSOCIATE = "associate"
    """Claims, rejects, picks, packs, books pickups and hands parcels over."""
    MANAGER = "manager"
    """An associate who also sees the day's figures of the location."""


@dataclass(frozen=True, slots=True)
class Lockout:
    """An account's failed attempts and, once they reached the limit, until when it is locked."""

    failed_attempts: int = 0
    locked_until: datetime | None = None

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def after_failure(self, now: datetime) -> Lockout:
        """One more wrong password. A lock that ended counts from zero again."""
        failed = 0 if self._lock_ended(now) else self.failed_attempts
        failed += 1
        if failed >= MAX_FAILED_ATTEMPTS:
            return Lockout(0, now + LOCK_DURATION)
        return Lockout(failed, None)

    def _lock_ended(self, now: datetime) -> bool:
        return self.locked_until is not None and now >= self.locked_until


def may_see_figures(role: StoreRole) -> bool:
    return role is StoreRole.MANAGER


def username_problem(username: str) -> str | None:
    if not USERNAME.match(username):
        return "2 to 64 characters: lower-case letters, digits, '.', '_' or '-'"
    return None


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"at most {MAX_PASSWORD} characters"
    return None
