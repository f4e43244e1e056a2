"""Where the relay records how far it has published: a SQLite file beside the event store
(PostgreSQL keeps it beside the read models, see ``adapters.persistence.postgres_views``).

The recorded position never goes back; a position lost in a crash only makes the relay publish
some events again, which the streams drop as duplicates or the relay skips on start.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Protocol

from adapters.persistence.sqlite_wal import use_wal


class PositionRecord(Protocol):
    """Where the relay records the last log position it has handled."""

    def get(self) -> int: ...

    def set(self, position: int) -> None:
        """Record ``position`` atomically; the recorded position never goes back."""
        ...


class RelayPosition:
    """The relay's tracking record in a SQLite file (in memory without a path); one
    connection, opened on first use, serves every call (the relay's worker threads take
    turns on a lock)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._memory = 0
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, self._connection() as conn:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS relay_position"
                    " (name TEXT PRIMARY KEY, position INTEGER NOT NULL)"
                )

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            assert self.path is not None
            conn = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
            # A position lost in a power cut only makes the relay publish some events again,
            # which the stream drops as duplicates: no need to sync every update to disk.
            use_wal(conn, 10)
            conn.execute("PRAGMA synchronous=NORMAL")
            self._conn = conn
        return self._conn

    def get(self) -> int:
        if self.path is None:
            return self._memory
        with self._lock:
            row = (
                self._connection()
                .execute("SELECT position FROM relay_position WHERE name = 'relay'")
                .fetchone()
            )
        return int(row[0]) if row else 0

    def set(self, position: int) -> None:
        """Record ``position`` atomically; the recorded position never goes back."""
        if self.path is None:
            self._memory = max(self._memory, position)
            return
        with self._lock, self._connection() as conn:
            conn.execute(
                "INSERT INTO relay_position (name, position) VALUES ('relay', ?)"
                " ON CONFLICT (name) DO UPDATE SET"
                " position = MAX(relay_position.position, excluded.position)",
                (position,),
            )

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def relay_position_path(data_dir: Path) -> Path:
    return data_dir / "relay.sqlite"
