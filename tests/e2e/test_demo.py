"""`oms demo`, as `make demo` runs it: the network, its admin key and the store app's accounts."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from openoms.db.uow import Database
from openoms.services import keys, users
from tests.e2e.conftest import OMS

pytestmark = pytest.mark.e2e


def test_the_demo_prints_an_admin_key_and_a_password_for_its_store_accounts(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    env = {**os.environ, "OMS_DATABASE_URL": url}
    made = subprocess.run(
        [OMS, "demo", "--seed", "7", "--reset"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    secret, password = made.stdout.split()
    said = " ".join(made.stderr.split())  # the console wraps its lines
    assert "sign in at ST-PARIS as demo.associate and demo.manager" in said
    db = Database(url)
    now = datetime.now(UTC)
    assert keys.KeyRing(db, ttl=0).authenticate(secret).role is keys.Role.ADMIN
    for username in ("demo.associate", "demo.manager"):
        signed_in = users.sign_in(db, username=username, password=password, now=now)
        assert signed_in.session.user.location == "ST-PARIS"
    db.dispose()
