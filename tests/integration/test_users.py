"""Store associates' accounts and sessions, on both databases."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from openoms.db.tables import users, web_sessions
from openoms.db.uow import Database
from openoms.domain.users import LOCK_DURATION, SESSION_DURATION, StoreRole
from openoms.errors import InvalidInput
from openoms.services import users as service
from openoms.services.users import AccountLocked, UsernameTaken, WrongPassword
from tests.conftest import NOW, World

PASSWORD = "correct horse battery"


def make(db: Database, username: str = "marie", location: str = "ST1") -> service.User:
    return service.create_user(
        db,
        username=username,
        display_name="Marie Curie",
        location=location,
        role=StoreRole.ASSOCIATE,
        password=PASSWORD,
        now=NOW,
    )


def test_an_associate_signs_in_and_out(world: World) -> None:
    made = make(world.db)
    signed = service.sign_in(world.db, username="marie", password=PASSWORD, now=NOW)
    session = service.session_of(world.db, signed.token, NOW)
    assert session is not None
    assert (session.user, session.csrf_token) == (made, signed.session.csrf_token)
    with world.db.read() as conn:
        stored = conn.execute(select(web_sessions.c.token_hash)).scalar_one()
    assert stored == service.hash_token(signed.token) != signed.token
    service.sign_out(world.db, signed.token)
    assert service.session_of(world.db, signed.token, NOW) is None


def test_a_session_ends_after_a_working_day(world: World) -> None:
    make(world.db)
    signed = service.sign_in(world.db, username="marie", password=PASSWORD, now=NOW)
    assert service.session_of(world.db, signed.token, NOW + SESSION_DURATION) is None
    assert service.session_of(world.db, "forged", NOW) is None


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(world: World) -> None:
    make(world.db)
    for _ in range(4):
        with pytest.raises(WrongPassword):
            service.sign_in(world.db, username="marie", password="wrong guess", now=NOW)
    with pytest.raises(AccountLocked) as locked:
        service.sign_in(world.db, username="marie", password="wrong guess", now=NOW)
    assert locked.value.locked_until == NOW + LOCK_DURATION
    with pytest.raises(AccountLocked):
        service.sign_in(world.db, username="marie", password=PASSWORD, now=NOW)
    later = NOW + LOCK_DURATION + timedelta(seconds=1)
    service.sign_in(world.db, username="marie", password=PASSWORD, now=later)
    with world.db.read() as conn:
        row = conn.execute(select(users.c.failed_attempts, users.c.locked_until)).one()
    assert tuple(row) == (0, None)


def test_an_unknown_username_is_answered_as_a_wrong_password(world: World) -> None:
    with pytest.raises(WrongPassword):
        service.sign_in(world.db, username="nobody", password=PASSWORD, now=NOW)


@pytest.mark.parametrize(
    ("username", "location", "password", "field"),
    [
        ("Bad Name", "ST1", PASSWORD, "username"),
        ("paul", "ST1", "short", "password"),
        ("paul", "NOWHERE", PASSWORD, "location"),
        ("paul", "WH1", PASSWORD, "location"),
    ],
)
def test_bad_accounts_are_refused_naming_the_field(
    world: World, username: str, location: str, password: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        service.create_user(
            world.db,
            username=username,
            display_name="",
            location=location,
            role=StoreRole.ASSOCIATE,
            password=password,
            now=NOW,
        )
    assert [e.field for e in refused.value.errors] == [field]
    with world.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(users)).scalar() == 0


def test_a_username_is_taken_once(world: World) -> None:
    make(world.db)
    with pytest.raises(UsernameTaken):
        make(world.db, location="ST2")


def test_oms_users_create_reads_the_password_from_stdin(world: World) -> None:
    oms = str(Path(sys.executable).parent / "oms")
    env = {"OMS_DATABASE_URL": world.db.url, "PATH": str(Path(sys.executable).parent)}
    args = [oms, "users", "create", "--location", "ST2", "--role", "manager", "lea"]
    done = subprocess.run(
        [*args, "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "manager lea at ST2 created" in done.stderr
    signed = service.sign_in(world.db, username="lea", password=PASSWORD, now=NOW)
    assert (signed.session.user.location, signed.session.user.role) == ("ST2", StoreRole.MANAGER)
    again = subprocess.run(
        [*args, "--password-stdin"],
        input="short\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 2
    assert "password" in again.stderr
