"""Sourcing profiles: save a draft, publish it (now or at a set time), read what is live."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from openoms.db.changes import bump_config
from openoms.db.repositories import profiles as repo
from openoms.db.uow import Database
from openoms.domain.profiles import (
    CriteriaRegistry,
    InvalidProfile,
    Profile,
    ProfileHistory,
    ProfileVersion,
    UnknownVersion,
    VersionError,
    VersionState,
    add_draft,
    live_version,
    parse_profile,
    publish,
)
from openoms.errors import Conflict, FieldError, InvalidInput, NotFound


@dataclass(frozen=True, slots=True)
class VersionView:
    code: str
    number: int
    state: VersionState
    publish_at: datetime | None
    profile: Profile


def _view(code: str, version: ProfileVersion, now: datetime) -> VersionView:
    return VersionView(
        code, version.number, version.state_at(now), version.publish_at, version.profile
    )


def save_draft(
    db: Database, document: Mapping[str, object], criteria: CriteriaRegistry, now: datetime
) -> VersionView:
    """A new draft version of the profile the document names (its first version if new)."""
    try:
        profile = parse_profile(document, criteria)
    except InvalidProfile as error:
        raise InvalidInput([FieldError(e.path, e.message) for e in error.errors]) from error
    with db.write() as uow:
        history = add_draft(repo.history(uow.conn, profile.code, criteria), profile)
        draft = history.versions[-1]
        try:
            repo.insert(uow.conn, draft, now)
        except IntegrityError as error:
            raise Conflict(f"another draft of {profile.code} was saved at the same time") from error
        uow.commit()
    return _view(profile.code, draft, now)


def publish_version(
    db: Database,
    code: str,
    number: int,
    *,
    at: datetime | None,
    criteria: CriteriaRegistry,
    now: datetime,
) -> VersionView:
    """Publish a draft at `at` (default: now, live at once; later: scheduled)."""
    with db.write() as uow:
        history = _existing(repo.history(uow.conn, code, criteria))
        try:
            published = publish(history, number, at=at or now, now=now).version(number)
        except UnknownVersion as error:
            raise NotFound("profile version", f"{code}/{number}") from error
        except VersionError as error:
            raise Conflict(str(error)) from error
        repo.save_state(uow.conn, code, published)
        bump_config(uow.conn)  # the sourcing view reloads live profiles
        uow.commit()
    return _view(code, published, now)


def profile_history(
    db: Database, code: str, criteria: CriteriaRegistry, now: datetime
) -> tuple[list[VersionView], VersionView | None]:
    """Every version, and the one live at `now` (None before the first publication)."""
    with db.read() as conn:
        history = _existing(repo.history(conn, code, criteria))
    live = live_version(history, now)
    return (
        [_view(code, v, now) for v in history.versions],
        _view(code, live, now) if live else None,
    )


def _existing(history: ProfileHistory) -> ProfileHistory:
    if not history.versions:
        raise NotFound("profile", history.code)
    return history
