"""Lock-out and account rules, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from openoms.domain.users import (
    LOCK_DURATION,
    MAX_FAILED_ATTEMPTS,
    Lockout,
    StoreRole,
    may_see_figures,
    password_problem,
    username_problem,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def fail(times: int, start: Lockout | None = None, now: datetime = NOW) -> Lockout:
    state = start or Lockout()
    for _ in range(times):
        state = state.after_failure(now)
    return state


def test_four_wrong_passwords_do_not_lock() -> None:
    state = fail(MAX_FAILED_ATTEMPTS - 1)
    assert state.failed_attempts == 4
    assert not state.is_locked(NOW)


def test_the_fifth_wrong_password_locks_for_fifteen_minutes() -> None:
    state = fail(MAX_FAILED_ATTEMPTS)
    assert state.locked_until == NOW + timedelta(minutes=15)
    assert state.is_locked(NOW + LOCK_DURATION - timedelta(seconds=1))
    assert not state.is_locked(NOW + LOCK_DURATION)


def test_after_the_lock_ends_the_count_starts_from_zero() -> None:
    later = NOW + LOCK_DURATION
    state = fail(1, fail(MAX_FAILED_ATTEMPTS), later)
    assert (state.failed_attempts, state.locked_until) == (1, None)


def test_only_a_manager_sees_the_figures() -> None:
    assert may_see_figures(StoreRole.MANAGER)
    assert not may_see_figures(StoreRole.ASSOCIATE)


def test_usernames_and_passwords_are_checked() -> None:
    assert username_problem("marie.dupont") is None
    assert username_problem("Marie Dupont") is not None
    assert username_problem("m") is not None
    assert password_problem("short") is not None
    assert password_problem("x" * 201) is not None
    assert password_problem("long enough") is None
