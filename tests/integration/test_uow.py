"""The unit of work's transactions: what a read leaves behind on its connection."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from openoms.db.uow import Database
from tests.conftest import postgres_url

COUNT_CLOCKS = text("SELECT count(*) FROM feed_clock WHERE name <> :name")


@pytest.mark.postgres
def test_statements_stay_prepared_across_read_transactions(postgres_schema: str) -> None:
    """psycopg prepares a statement on its fifth run on a connection, and forgets all it
    prepared at a rollback: reads that end by rolling back never let one be prepared."""
    db = Database(postgres_url(postgres_schema))
    try:
        for _ in range(8):  # one thread: the pool hands out the same connection each time
            with db.read() as conn:
                conn.execute(COUNT_CLOCKS, {"name": "x"}).scalar_one()
        with db.read() as conn:
            prepared = conn.execute(text("SELECT statement FROM pg_prepared_statements")).scalars()
            assert any("feed_clock" in statement for statement in prepared)
    finally:
        db.dispose()


def _read_a_missing_table(db: Database) -> None:
    with db.read() as conn:
        conn.execute(COUNT_CLOCKS, {"name": "x"})
        conn.execute(text("SELECT * FROM no_such_table"))


def test_a_read_that_fails_leaves_its_connection_usable(db: Database) -> None:
    with pytest.raises(DBAPIError):
        _read_a_missing_table(db)
    with db.read() as conn:
        assert conn.execute(COUNT_CLOCKS, {"name": "x"}).scalar_one() >= 0
