"""Switching an SQLite file to write-ahead logging when several connections open it at once.

``PRAGMA journal_mode=WAL`` needs the file to itself for a moment. When two connections switch
a new file together, each may hold a lock the other waits for, and SQLite answers "database is
locked" at once instead of waiting on the busy timeout (four threads opening a new file together
failed in 44 of 300 tries). The processes of `ks run` and the API workers open the same files
when they start, so the switch is tried again until the busy timeout has passed.
"""

from __future__ import annotations

import sqlite3
import time

RETRY_SECONDS = 0.005


def use_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Put the file of ``conn`` in WAL mode, trying again for up to ``timeout`` seconds while
    another connection holds it; sqlite3.OperationalError as SQLite says after that."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() >= deadline:
                raise
        time.sleep(RETRY_SECONDS)
