"""The read models' database on PostgreSQL (``KS_STORE=postgres``), beside the event store.

Views, their checkpoints and the relay's position live in the configured database and schema
(the schema is created if missing). Transactions take a connection from a small pool
(``adapters.persistence.postgres.pool``: one that lay idle is checked first, so a connection
broken by a server restart is replaced, not used); threads never share one.

Writers queue behind transaction-level advisory locks, as SQLite's ``BEGIN IMMEDIATE`` makes
writers queue. A write scoped to one projection (its batch: its own tables and its own
checkpoint row) takes that projection's lock, so its read of the checkpoint and its writes
never interleave with another writer of the same view (two ``ks project`` processes, a
rebuild), while other views are written meanwhile; it holds the schema lock shared. A write
of several views (the projector's batch) takes each view's lock, in one order. An
unscoped write (tables created or altered, a view emptied) holds the schema lock alone:
concurrent ``CREATE TABLE IF NOT EXISTS`` is unsafe on PostgreSQL. Reads are one
``REPEATABLE READ`` snapshot.

A transaction's statements go in pipeline mode: ``BEGIN``, the locks and the first query
travel together, and writes that return nothing are sent without waiting, so a projector's
batch costs a few round trips instead of one per statement. psycopg errors become
ViewDatabaseError here, once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from adapters.persistence import multirow
from adapters.persistence.postgres import (
    PostgresUnavailableError,
    drop_after_failure,
    pool,
    schema_lock,
)
from ks_engine.settings import Settings
from projections.errors import ViewDatabaseError
from projections.store import Row

# Any fixed number will do, as long as every ks-engine process takes the same one.
_VIEWS_WRITE_LOCK_KEY = 0x6B73_7669_6577_7321  # "ksviews!"
_LOCK = "SELECT pg_advisory_xact_lock(%s)"
_LOCK_SHARED = "SELECT pg_advisory_xact_lock_shared(%s)"
POOL_SIZE = 4  # the projector, a rebuild's writers and the queries of one process


@lru_cache(maxsize=64)
def scope_key(scope: str) -> int:
    """The advisory lock key of one write scope (a projection's name): the same number in
    every process, a signed 64-bit integer as PostgreSQL's advisory locks take."""
    digest = hashlib.blake2b(f"ks-views:{scope}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """The portable SQL of ``projections`` (``?`` placeholders) in psycopg's ``%s`` style."""
    return sql.replace("%", "%%").replace("?", "%s")


class _Tx:
    """The Transaction interface over one psycopg connection."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(to_pyformat(sql), tuple(params))

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self._conn.execute(to_pyformat(sql), tuple(params)).fetchone()
        return row

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(self._conn.execute(to_pyformat(sql), tuple(params)).fetchall())

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._conn.cursor() as cur:
            multirow.executemany(cur, to_pyformat(sql), [tuple(r) for r in rows])

    def columns(self, table: str) -> set[str]:
        rows = self._conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = %s",
            (table,),
        ).fetchall()
        return {str(r[0]) for r in rows}


class PostgresViewDatabase:
    """A ViewDatabase in a PostgreSQL schema."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.where = (
            f"{settings.pg_dbname!r} (schema {settings.pg_schema}) on "
            f"{settings.pg_host}:{settings.pg_port}"
        )
        with self._translated(), schema_lock(settings):
            pass  # creates the schema if missing, under the lock every component takes
        self._pool: ConnectionPool[psycopg.Connection[Any]] = pool(
            settings, name="ks-views", max_size=POOL_SIZE
        )

    def close(self) -> None:
        """Close the pooled connections (the database stays as it is)."""
        self._pool.close()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except PostgresUnavailableError as e:
            raise ViewDatabaseError(f"the read-model database is unavailable: {e}") from None
        except PoolTimeout:
            raise ViewDatabaseError(
                f"the read-model database {self.where} is unavailable: no connection within "
                f"{self._pool.timeout:g} s (is the server running and reachable?)"
            ) from None
        except psycopg.Error as e:
            raise ViewDatabaseError(
                f"the read-model database {self.where} failed: {_first_line(e)}"
            ) from None

    @contextmanager
    def _session(self, begin: str, locks: Sequence[tuple[str, int]]) -> Iterator[_Tx]:
        with self._translated(), self._pool.connection() as conn:
            try:
                with conn.pipeline():
                    conn.execute(begin)
                    for statement, key in locks:
                        conn.execute(statement, (key,))
                    yield _Tx(conn)
                    conn.execute("COMMIT")
            except BaseException:
                # Closed: the server rolls back, which also releases the locks, and the pool
                # replaces the connection (see drop_after_failure)
                drop_after_failure(conn)
                raise

    def transaction(self, scope: str | Sequence[str] | None = None) -> AbstractContextManager[_Tx]:
        """A write transaction; writers queue behind a lock instead of failing mid-way:
        those of one ``scope`` (a projection's name) behind each other, one of several scopes
        behind the writers of each, unscoped ones (creating or altering tables) behind every
        other writer."""
        if scope is None:
            return self._session("BEGIN", [(_LOCK, _VIEWS_WRITE_LOCK_KEY)])
        scopes = [scope] if isinstance(scope, str) else scope
        # Taken in one order by every writer, so two writers of several scopes never deadlock
        keys = sorted({scope_key(s) for s in scopes})
        return self._session(
            "BEGIN", [(_LOCK_SHARED, _VIEWS_WRITE_LOCK_KEY)] + [(_LOCK, k) for k in keys]
        )

    def read(self) -> AbstractContextManager[_Tx]:
        """A read-only snapshot."""
        return self._session("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", [])


class PostgresRelayPosition:
    """The relay's tracking record in the read models' PostgreSQL schema."""

    def __init__(self, db: PostgresViewDatabase) -> None:
        self.db = db
        with db.transaction() as tx:
            tx.execute(
                "CREATE TABLE IF NOT EXISTS relay_position"
                " (name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
            )

    def get(self) -> int:
        with self.db.read() as tx:
            row = tx.fetchone("SELECT position FROM relay_position WHERE name = 'relay'")
        return int(row[0]) if row else 0

    def set(self, position: int) -> None:
        """Record ``position`` atomically; the recorded position never goes back."""
        with self.db.transaction(scope="relay_position") as tx:
            tx.execute(
                "INSERT INTO relay_position (name, position) VALUES ('relay', ?)"
                " ON CONFLICT (name) DO UPDATE SET"
                " position = GREATEST(relay_position.position, excluded.position)",
                (position,),
            )


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
