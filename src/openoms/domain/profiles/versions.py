"""Versions of a profile: drafts are edited freely, a published version is never changed.

A draft is published at a set time: at once (live) or later (scheduled). The live version at
`now` is the one published last among those whose time has come, so a change prepared for the
sales can be scheduled days ahead, and what was live at any past moment can still be told.

    VersionError
    ├── WrongProfile        history_code, profile_code
    ├── UnknownVersion      code, number
    ├── AlreadyPublished    code, number, state, publish_at
    ├── EmptyProfile        code, number
    └── PublishInThePast    code, number, at, now
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from openoms.domain.calendars import require_aware
from openoms.domain.profiles.model import Profile


class VersionState(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    LIVE = "live"


@dataclass(frozen=True, slots=True)
class ProfileVersion:
    number: int
    profile: Profile
    state: VersionState = VersionState.DRAFT
    publish_at: datetime | None = None

    def published_by(self, now: datetime) -> bool:
        return self.publish_at is not None and self.publish_at <= now

    def state_at(self, now: datetime) -> VersionState:
        """A scheduled version is live once its time has come, without anyone touching it."""
        if self.state is VersionState.SCHEDULED and self.published_by(now):
            return VersionState.LIVE
        return self.state


@dataclass(frozen=True, slots=True)
class ProfileHistory:
    code: str
    versions: tuple[ProfileVersion, ...] = ()

    def version(self, number: int) -> ProfileVersion:
        for version in self.versions:
            if version.number == number:
                return version
        raise UnknownVersion(self.code, number)


class VersionError(Exception):
    """A change to a profile's versions that would rewrite what was, or is, in force."""


class WrongProfile(VersionError):
    def __init__(self, history_code: str, profile_code: str) -> None:
        super().__init__(f"profile {profile_code} cannot be a version of {history_code}")
        self.history_code = history_code
        self.profile_code = profile_code


class UnknownVersion(VersionError):
    def __init__(self, code: str, number: int) -> None:
        super().__init__(f"profile {code} has no version {number}")
        self.code = code
        self.number = number


class AlreadyPublished(VersionError):
    def __init__(
        self, code: str, number: int, state: VersionState, publish_at: datetime | None
    ) -> None:
        when = publish_at.isoformat() if publish_at else "?"
        super().__init__(f"version {number} of {code} is already {state} (from {when})")
        self.code = code
        self.number = number
        self.state = state
        self.publish_at = publish_at


class EmptyProfile(VersionError):
    def __init__(self, code: str, number: int) -> None:
        super().__init__(f"version {number} of {code} has no rule: it would source nothing")
        self.code = code
        self.number = number


class PublishInThePast(VersionError):
    """Back-dating would change what a past decision record says was live."""

    def __init__(self, code: str, number: int, at: datetime, now: datetime) -> None:
        super().__init__(
            f"version {number} of {code} cannot be published at {at.isoformat()},"
            f" before now ({now.isoformat()})"
        )
        self.code = code
        self.number = number
        self.at = at
        self.now = now


def add_draft(history: ProfileHistory, profile: Profile) -> ProfileHistory:
    """A new draft numbered after every version so far: numbers are never reused."""
    if profile.code != history.code:
        raise WrongProfile(history.code, profile.code)
    number = max((v.number for v in history.versions), default=0) + 1
    return replace(history, versions=(*history.versions, ProfileVersion(number, profile)))


def publish(history: ProfileHistory, number: int, *, at: datetime, now: datetime) -> ProfileHistory:
    at, now = require_aware("at", at), require_aware("now", now)
    version = history.version(number)
    if version.state is not VersionState.DRAFT:
        raise AlreadyPublished(history.code, number, version.state, version.publish_at)
    if not version.profile.rules:
        raise EmptyProfile(history.code, number)
    if at < now:
        raise PublishInThePast(history.code, number, at, now)
    state = VersionState.LIVE if at == now else VersionState.SCHEDULED
    published = replace(version, state=state, publish_at=at)
    versions = tuple(published if v.number == number else v for v in history.versions)
    return replace(history, versions=versions)


def live_version(history: ProfileHistory, now: datetime) -> ProfileVersion | None:
    """The version published last among those whose time has passed; None before the first."""
    now = require_aware("now", now)
    due = [v for v in history.versions if v.published_by(now)]
    return max(due, key=lambda v: (v.publish_at, v.number), default=None)
