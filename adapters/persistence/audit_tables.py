"""A portable connection to the small tables the audit trail and the key store keep beside the
event store: in the same SQLite file or PostgreSQL database, never in a separate place.

Statements are written once with ``?`` placeholders and portable types (``TEXT``, ``BIGINT``,
``BYTES``); each dialect rewrites what differs. SQLite runs every write transaction as
``BEGIN IMMEDIATE`` so that concurrent writers queue instead of failing on commit.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, Protocol

from eventsourcing.persistence import PersistenceError

from adapters.persistence.sqlite_transaction import close_quietly, ended_transaction
from adapters.persistence.sqlite_wal import checkpoint_event_store_less_often, use_wal

Row = tuple[Any, ...]


class AuditDatabaseError(PersistenceError):
    """The database of the audit tables (the event store's) cannot be used right now."""


class DuplicateRowError(AuditDatabaseError):
    """A row with the same key was written concurrently."""


class Transaction(Protocol):
    """One open transaction."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement for each row, in order (on PostgreSQL in one round trip)."""
        ...


class AuditDatabase(Protocol):
    """Read and write transactions on the audit tables."""

    dialect: str

    def transaction(self, *, write: bool) -> AbstractContextManager[Transaction]: ...

    def truncate_wal(self) -> None: ...

    def close(self) -> None: ...


class _DbApiTx:
    """A Transaction over a DB-API cursor, rewriting placeholders and types per dialect."""

    def __init__(self, cursor: Any, translate: Callable[[str], str]) -> None:
        self._cursor = cursor
        self._translate = translate

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(self._translate(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:  # psycopg refuses an empty list
            self._cursor.executemany(self._translate(sql), [tuple(r) for r in rows])

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        self.execute(sql, params)
        row = self._cursor.fetchone()
        return None if row is None else tuple(row)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self.execute(sql, params)
        return [tuple(r) for r in self._cursor.fetchall()]


class _PostgresTx(_DbApiTx):
    """A Transaction over a psycopg cursor: many rows in few statements (``multirow``)."""

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        from adapters.persistence import multirow  # only when PostgreSQL is configured

        multirow.executemany(self._cursor, self._translate(sql), [tuple(r) for r in rows])


def _sqlite_sql(sql: str) -> str:
    return sql.replace("BYTES", "BLOB")


class SqliteAuditDatabase:
    """The audit tables in the event store's SQLite file (or in memory for the memory store).

    ``secure_delete`` overwrites deleted rows (destroyed data keys) instead of leaving them in
    free pages of the file.
    """

    dialect = "sqlite"

    def __init__(self, path: Path | None, *, busy_timeout: float = 10.0) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._shared: sqlite3.Connection | None = None
        self._lock: AbstractContextManager[Any] = nullcontext()
        self._local = threading.local()
        if path is None:  # one shared in-memory database, used by one thread at a time
            self._shared = self._connect(":memory:")
            self._lock = threading.Lock()

    def _connect(self, target: str) -> sqlite3.Connection:
        conn = sqlite3.connect(
            target, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA secure_delete=ON")
        if target != ":memory:":
            use_wal(conn, self.busy_timeout)
            checkpoint_event_store_less_often(conn)
        return conn

    def _connection(self) -> sqlite3.Connection:
        """The shared in-memory connection, or this thread's own connection to the file."""
        if self._shared is not None:
            return self._shared
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect(str(self.path))
        return conn

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Transaction]:
        with self._lock:
            conn = self._connection()
            try:
                with ended_transaction(conn, "BEGIN IMMEDIATE" if write else "BEGIN", self._drop):
                    yield _DbApiTx(conn.cursor(), _sqlite_sql)
            except sqlite3.IntegrityError as e:
                raise DuplicateRowError(str(e)) from None
            except sqlite3.Error as e:
                raise AuditDatabaseError(f"the audit tables cannot be used: {e}") from None

    def _drop(self) -> None:
        """Give up this thread's connection: the next transaction opens another. The shared
        in-memory database is kept, being the only copy of its data."""
        if self._shared is None:
            close_quietly(self._local.conn)
            self._local.conn = None

    def truncate_wal(self) -> None:
        """Empty the write-ahead log file, so destroyed keys linger in no old page image."""
        if self._shared is None:
            conn = self._connect(str(self.path))
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.close()

    def close(self) -> None:
        if self._shared is not None:
            self._shared.close()


class PostgresAuditDatabase:
    """The audit tables in the event store's PostgreSQL database.

    Transactions take a connection from ``pool`` (a psycopg_pool ``ConnectionPool`` on the
    configured server and schema, built by ``adapters.persistence.postgres.pool``) instead of
    opening one each: a connection broken by a server restart is replaced, not used. Their
    statements go in pipeline mode; an error surfaces at the latest when the block ends.
    """

    dialect = "postgres"

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("?", "%s").replace("BYTES", "BYTEA")

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Transaction]:
        import psycopg  # only when PostgreSQL is configured
        from psycopg_pool import PoolTimeout

        from adapters.persistence.postgres import PostgresUnavailableError, drop_after_failure

        try:
            # In pipeline mode BEGIN travels with the first statement and writes that return
            # nothing go without waiting: a read of one row costs two round trips, not three.
            with self._pool.connection() as conn:
                try:
                    with conn.pipeline(), conn.cursor() as cursor:
                        cursor.execute("BEGIN")
                        yield _PostgresTx(cursor, self._sql)
                        cursor.execute("COMMIT")
                except BaseException:
                    drop_after_failure(conn)  # rolled back by the server, replaced by the pool
                    raise
        except psycopg.errors.UniqueViolation as e:
            raise DuplicateRowError(str(e)) from None
        except PoolTimeout:
            raise AuditDatabaseError(
                "the audit tables cannot be used: no PostgreSQL connection within "
                f"{self._pool.timeout:g} s (is the server running and reachable?)"
            ) from None
        except (psycopg.Error, PostgresUnavailableError) as e:
            raise AuditDatabaseError(f"the audit tables cannot be used: {e}") from None

    def truncate_wal(self) -> None:
        """Nothing to do: PostgreSQL recycles its WAL segments itself."""

    def close(self) -> None:
        """Close the pooled connections."""
        self._pool.close()
