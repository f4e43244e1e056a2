"""A pooled PostgreSQL connection whose transaction failed is not used again: the pool replaces
it. Seen while two intakes raced on the audit tables: a connection on which psycopg believed in
a prepared statement the server no longer had failed every later transaction that used it
("prepared statement does not exist"), until the signals stored with it went to the dead
letters."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import psycopg
import pytest

from adapters.persistence.audit_tables import AuditDatabaseError, PostgresAuditDatabase
from adapters.persistence.postgres_views import PostgresViewDatabase
from ks_engine.audit.parts import open_audit_database
from ks_engine.settings import Settings
from projections.errors import ViewDatabaseError

QUERY = "SELECT count(*) FROM pg_class WHERE relname = ?"


class Reads:
    """Read transactions on one store's pooled connections."""

    def __init__(
        self, read: Callable[[], AbstractContextManager[Any]], pool: Any, failure: type[Exception]
    ) -> None:
        self.read, self.pool, self.failure = read, pool, failure

    def once(self) -> Any:
        with self.read() as tx:
            return tx.fetchone(QUERY, ("pg_class",))

    def backend(self) -> int:
        """The server process of the connection a transaction gets."""
        with self.read() as tx:
            row = tx.fetchone("SELECT pg_backend_pid()")
        assert row is not None
        return int(row[0])


@pytest.fixture(params=["audit tables", "read models"])
def reads(request: pytest.FixtureRequest, postgres_settings: Settings) -> Iterator[Reads]:
    if request.param == "audit tables":
        audit = open_audit_database(postgres_settings)
        assert isinstance(audit, PostgresAuditDatabase)
        yield Reads(lambda: audit.transaction(write=False), audit._pool, AuditDatabaseError)
        audit.close()
    else:
        views = PostgresViewDatabase(postgres_settings)
        yield Reads(views.read, views._pool, ViewDatabaseError)
        views.close()


def test_after_a_failed_transaction_the_next_one_gets_another_connection(reads: Reads) -> None:
    first = reads.backend()
    assert reads.backend() == first  # one after another, transactions share a connection
    with pytest.raises(reads.failure, match="division by zero"), reads.read() as tx:
        tx.fetchone("SELECT 1 / 0")
    assert reads.backend() != first  # closed, not handed out again


def test_a_connection_whose_prepared_statements_the_server_forgot_fails_once(
    reads: Reads,
) -> None:
    for _ in range(8):  # psycopg prepares a statement from its fifth run on a connection
        assert reads.once() == (1,)
    with reads.pool.connection() as conn:  # the same connection: the server forgets them
        assert isinstance(conn, psycopg.Connection)
        prepared = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
        assert prepared is not None
        assert prepared[0] > 0
        conn.pgconn.exec_(b"DEALLOCATE ALL")  # behind psycopg's back
    with pytest.raises(reads.failure, match="does not exist"):
        reads.once()
    for _ in range(8):
        assert reads.once() == (1,)
