"""The unit of work: one transaction per use case. Repositories never commit; services do."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from openoms.db.engine import WRITES, make_engine
from openoms.db.migrate import upgrade


@dataclass
class UnitOfWork:
    conn: Connection
    committed: bool = False

    def commit(self) -> None:
        self.conn.commit()
        self.committed = True


class Database:
    """Owns the engine; hands out units of work."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine: Engine = make_engine(url, echo=echo)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[UnitOfWork]:
        """A write transaction; rolled back unless the service commits it."""
        with self.engine.connect().execution_options(**{WRITES: True}) as conn:
            conn.begin()
            uow = UnitOfWork(conn)
            try:
                yield uow
            finally:
                if not uow.committed:
                    conn.rollback()

    @contextmanager
    def read(self, *, one_snapshot: bool = False) -> Iterator[Connection]:
        """A read transaction, ended by COMMIT (it wrote nothing: the same as a rollback),
        or rolled back if its caller raised. Not by ROLLBACK: psycopg forgets every statement
        it prepared on the connection at each rollback (a rollback may undo a PREPARE), so
        a pool whose connections also serve the availability index's catch-ups, which are
        reads, never kept a prepared statement, and PostgreSQL parsed and planned every
        statement of every order again (about a third of its CPU per order).

        `one_snapshot`: every statement sees the database as the first did (PostgreSQL's
        REPEATABLE READ; a SQLite read transaction always does), not each as it starts."""
        with self.engine.connect() as conn:
            if one_snapshot and conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            conn.begin()
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def upgrade(self) -> None:
        upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
