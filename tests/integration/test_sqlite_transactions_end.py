"""Every SQLite transaction of ks-engine ends, whatever fails inside it or at its COMMIT.

SQLite keeps a transaction open when its COMMIT fails. A connection kept per thread (the audit
tables, the read models) or in a pool (the event store, eventsourcing's) then refused every
later transaction ("cannot start a transaction within a transaction") and, after a write, held
the file's write lock, so the other processes' writers timed out too. A failed
COMMIT is made here with a deferred foreign key, which SQLite checks only at COMMIT; after any
sequence of failures, the same thread and another process's connection still read and write,
and only committed rows are there.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import PersistenceError
from eventsourcing.sqlite import SQLiteAggregateRecorder, SQLiteCursor, SQLiteDatastore
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.persistence.audit_tables import AuditDatabaseError, SqliteAuditDatabase
from adapters.persistence.event_store_sqlite import EndingConnection, EndingConnectionPool
from adapters.persistence.sqlite_views import SqliteViewDatabase
from projections.errors import ViewDatabaseError
from tests.integration.test_signal_intake import make_engine

FAILURES = ("none", "raised in the block", "a statement", "the commit")


class Store:
    """One of the SQLite adapters, seen through its write and read transactions."""

    def __init__(
        self,
        db: Any,
        write: Callable[[], AbstractContextManager[Any]],
        read: Callable[[], AbstractContextManager[Any]],
    ) -> None:
        self.db, self.write, self.read = db, write, read


def audit_store(path: Path, busy_timeout: float = 10.0) -> Store:
    db = SqliteAuditDatabase(path, busy_timeout=busy_timeout)
    return Store(db, lambda: db.transaction(write=True), lambda: db.transaction(write=False))


def views_store(path: Path, busy_timeout: float = 10.0) -> Store:
    db = SqliteViewDatabase(path, busy_timeout=busy_timeout)
    return Store(db, db.transaction, db.read)


class _EventStoreTx:
    """eventsourcing's cursor, asked as the other stores' transactions are."""

    def __init__(self, cursor: SQLiteCursor) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Any = ()) -> None:
        self._cursor.execute(sql, tuple(params))

    def fetchone(self, sql: str, params: Any = ()) -> Any:
        self._cursor.execute(sql, tuple(params))
        return self._cursor.fetchone()


class _OnePooledConnection:
    """The event store's datastore with a pool of one connection, so that the connection a
    test prepares is the one its next transaction gets."""

    def __init__(self, path: Path, busy_timeout: float) -> None:
        self.datastore = SQLiteDatastore(db_name=str(path))
        self.datastore.pool.close()
        self.datastore.pool = EndingConnectionPool(
            db_name=str(path), lock_timeout=max(1, int(busy_timeout)), pool_size=1, max_overflow=0
        )

    def _connection(self) -> sqlite3.Connection:
        with self.datastore.get_connection(commit=False) as conn:
            return conn._sqlite_conn

    @contextmanager
    def transaction(self) -> Iterator[_EventStoreTx]:
        # eventsourcing's transactions differ only in whether they commit; both write here
        with self.datastore.transaction(commit=True) as cursor:
            yield _EventStoreTx(cursor)


def event_store(path: Path, busy_timeout: float = 10.0) -> Store:
    db = _OnePooledConnection(path, busy_timeout)
    return Store(db, db.transaction, db.transaction)


OPENERS = {"audit tables": audit_store, "read models": views_store, "event store": event_store}
ERRORS = (AuditDatabaseError, ViewDatabaseError, PersistenceError, LookupError)


def _checked_at_commit(store: Store) -> None:
    """Foreign keys on for this thread's connection (outside a transaction, as SQLite needs)."""
    store.db._connection().execute("PRAGMA foreign_keys=ON")


def _attempt(store: Store, failure: str, write: bool, value: int) -> bool:
    """One transaction adding ``value``, failing as ``failure`` says; whether it committed."""
    if failure == "the commit":
        _checked_at_commit(store)
    begin = store.write if write else store.read
    try:
        with begin() as tx:
            tx.execute("INSERT INTO kept (value) VALUES (?)", (value,))
            if failure == "raised in the block":
                raise LookupError("the caller gave up")
            if failure == "a statement":
                tx.execute("INSERT INTO no_such_table VALUES (1)")
            if failure == "the commit":
                tx.execute("INSERT INTO child (parent) VALUES (?)", (-value,))
    except ERRORS:
        return False
    return True


def _create_tables(store: Store) -> None:
    """``kept`` for the rows, and a child whose parent SQLite checks only at COMMIT."""
    with store.write() as tx:
        tx.execute("CREATE TABLE kept (value INTEGER)")
        tx.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        tx.execute(
            "CREATE TABLE child (parent INTEGER REFERENCES parent (id)"
            " DEFERRABLE INITIALLY DEFERRED)"
        )


def _count(store: Store) -> int:
    with store.read() as tx:
        return int(tx.fetchone("SELECT count(*) FROM kept")[0])


@pytest.mark.parametrize("opener", OPENERS, ids=list(OPENERS))
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(st.tuples(st.sampled_from(FAILURES), st.booleans()), min_size=1, max_size=6))
def test_a_failed_transaction_leaves_its_connection_and_the_file_usable(
    opener: str, steps: list[tuple[str, bool]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("sqlite") / "store.sqlite"
    store = OPENERS[opener](path)
    _create_tables(store)
    other_process = OPENERS[opener](path, busy_timeout=0.5)
    committed = 0
    for value, (failure, write) in enumerate(steps, start=1):
        done = _attempt(store, failure, write, value)
        assert done == (failure == "none")
        committed += done
        # This thread goes on, and a writer elsewhere does not wait on a lock left behind.
        assert _count(store) == committed
        assert _attempt(other_process, "none", True, 1000 + value)
        committed += 1
        assert _count(other_process) == committed


def test_a_commit_that_fails_says_why_and_keeps_nothing(tmp_path: Path) -> None:
    store = audit_store(tmp_path / "store.sqlite")
    _create_tables(store)
    _checked_at_commit(store)

    def kept_with_a_dangling_child() -> None:
        with store.write() as tx:
            tx.execute("INSERT INTO kept (value) VALUES (1)")
            tx.execute("INSERT INTO child (parent) VALUES (7)")

    with pytest.raises(AuditDatabaseError, match="FOREIGN KEY constraint failed"):
        kept_with_a_dangling_child()
    assert store.db._connection().in_transaction is False
    assert _count(store) == 0
    with sqlite3.connect(store.db.path, timeout=0.5) as plain:  # a writer in another process
        plain.execute("INSERT INTO kept (value) VALUES (2)")
    assert _count(store) == 1


@pytest.mark.parametrize("opener", ["audit tables", "read models"])
def test_a_connection_given_up_is_closed_and_the_next_transaction_opens_another(
    opener: str, tmp_path: Path
) -> None:
    store = OPENERS[opener](tmp_path / "store.sqlite")
    given_up = store.db._connection()
    store.db._drop()  # what a transaction does when even its rollback fails
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        given_up.execute("SELECT 1")
    with store.read() as tx:
        assert tx.fetchone("SELECT 1") == (1,)
    assert store.db._connection() is not given_up


def test_the_engine_s_sqlite_event_store_is_one_whose_transactions_end(tmp_path: Path) -> None:
    engine = make_engine(tmp_path)
    try:
        recorder = engine.referrals.recorder
        assert isinstance(recorder, SQLiteAggregateRecorder)
        assert isinstance(recorder.datastore.pool, EndingConnectionPool)
        with recorder.datastore.get_connection(commit=False) as conn:
            assert isinstance(conn, EndingConnection)
    finally:
        engine.close()
