"""The read models' database on PostgreSQL (``KS_STORE=postgres``), beside the event store.

Views, their checkpoints and the relay's position live in the configured database and schema
(the schema is created if missing). Transactions take a connection from a small pool that
checks it first, so a connection broken by a server restart is replaced, not used; threads
never share one.

Write transactions queue behind one transaction-level advisory lock, as SQLite's ``BEGIN
IMMEDIATE`` makes writers queue: a projector's read of its checkpoint and its writes can then
never interleave with another projector's on the same view (two ``ks project`` processes),
and concurrent ``CREATE TABLE IF NOT EXISTS`` (unsafe on PostgreSQL) cannot race. Reads are
one ``REPEATABLE READ`` snapshot. psycopg errors become ViewDatabaseError here, once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from adapters.persistence.postgres import PostgresUnavailableError, conninfo, schema_lock
from ks_engine.settings import Settings
from projections.errors import ViewDatabaseError
from projections.store import Row

# Any fixed number will do, as long as every ks-engine process takes the same one.
_VIEWS_WRITE_LOCK_KEY = 0x6B73_7669_6577_7321  # "ksviews!"
POOL_SIZE = 4  # three projectors and the queries of one process


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
            cur.executemany(to_pyformat(sql), [tuple(r) for r in rows])

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
        timeout = settings.pg_connect_timeout_seconds
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            conninfo(settings),
            kwargs={"autocommit": True},
            min_size=0,
            max_size=POOL_SIZE,
            num_workers=1,
            check=ConnectionPool.check_connection,
            timeout=timeout + 1.0,
            name="ks-views",
            open=True,
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
    def _session(self, begin: str, *, write: bool) -> Iterator[_Tx]:
        with self._translated(), self._pool.connection() as conn:
            conn.execute(begin)
            try:
                if write:
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_VIEWS_WRITE_LOCK_KEY,))
                yield _Tx(conn)
            except BaseException:
                # Rolled back here, which also releases the lock; a connection that broke
                # meanwhile is dropped by the pool, and the server rolls back on its own.
                with contextlib.suppress(psycopg.Error):
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def transaction(self) -> AbstractContextManager[_Tx]:
        """A write transaction; writers queue behind one lock instead of failing mid-way."""
        return self._session("BEGIN", write=True)

    def read(self) -> AbstractContextManager[_Tx]:
        """A read-only snapshot."""
        return self._session("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", write=False)


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
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO relay_position (name, position) VALUES ('relay', ?)"
                " ON CONFLICT (name) DO UPDATE SET"
                " position = GREATEST(relay_position.position, excluded.position)",
                (position,),
            )


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
