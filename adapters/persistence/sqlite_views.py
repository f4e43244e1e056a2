"""The read models' database on SQLite (the embedded default): one file, WAL mode.

Each thread keeps its own connection, so the projectors (in worker threads) and the HTTP
adapter's queries never share one, and no transaction pays for opening a connection. SQLite
errors become ViewDatabaseError here, once.

Writers of one file in one process queue on a lock before ``BEGIN IMMEDIATE``: SQLite's own
busy handler lets a writer that finds the file locked sleep 1, 2, 5, 10 ms and longer before
it looks again, which the projectors of `ks run` paid as lag; a lock hands over at once.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from adapters.persistence.sqlite_transaction import close_quietly, ended_transaction
from adapters.persistence.sqlite_wal import use_wal
from ks_engine.settings import Settings
from projections.errors import ViewDatabaseError
from projections.store import Row


class _Tx:
    """The Transaction interface over one sqlite3 connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(sql, tuple(params))

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self._conn.execute(sql, tuple(params)).fetchone()
        return row

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(self._conn.execute(sql, tuple(params)).fetchall())

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._conn.executemany(sql, (tuple(r) for r in rows))

    def columns(self, table: str) -> set[str]:
        rows = self._conn.execute("SELECT name FROM pragma_table_info(?)", (table,)).fetchall()
        return {str(r[0]) for r in rows}


_writers_guard = threading.Lock()
_writers: dict[Path, threading.RLock] = {}


def _writer_lock(path: Path) -> threading.RLock:
    """The one write lock of ``path`` in this process (shared by every SqliteViewDatabase)."""
    key = path.resolve()
    with _writers_guard:
        return _writers.setdefault(key, threading.RLock())


class SqliteViewDatabase:
    """A ViewDatabase in one SQLite file."""

    def __init__(self, path: Path, *, busy_timeout: float = 10.0) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._write_lock = _writer_lock(path)
        with self._translated():
            conn = self._connect()
            try:
                use_wal(conn, self.busy_timeout)
            finally:
                conn.close()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        # WAL with NORMAL sync: a power cut may undo the last commits, but a view and its
        # checkpoint are undone together, and the stream delivers those events again.
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as e:
            raise ViewDatabaseError(f"the read-model database {self.path} failed: {e}") from None

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    @contextmanager
    def _session(self, begin: str) -> Iterator[_Tx]:
        with self._translated():
            conn = self._connection()
            with ended_transaction(conn, begin, self._drop):
                yield _Tx(conn)

    def _drop(self) -> None:
        """Give up this thread's connection: the next session opens another."""
        close_quietly(self._local.conn)
        self._local.conn = None

    @contextmanager
    def transaction(self, scope: str | Sequence[str] | None = None) -> Iterator[_Tx]:
        """A write transaction; BEGIN IMMEDIATE makes writers queue instead of fail mid-way
        (other processes' writers on SQLite's busy handler, this process's on a lock). SQLite
        writes one transaction at a time, whatever its ``scope``."""
        if not self._write_lock.acquire(timeout=self.busy_timeout):
            raise ViewDatabaseError(f"the read-model database {self.path} failed: it is locked")
        try:
            with self._session("BEGIN IMMEDIATE") as tx:
                yield tx
        finally:
            self._write_lock.release()

    def read(self) -> AbstractContextManager[_Tx]:
        """A read snapshot."""
        return self._session("BEGIN")


def open_sqlite_views(settings: Settings) -> SqliteViewDatabase:
    """The read models' SQLite file in the configured data directory."""
    return SqliteViewDatabase(settings.data_dir / "views.sqlite", busy_timeout=10.0)
