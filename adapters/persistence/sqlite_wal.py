"""Write-ahead logging on ks-engine's SQLite files: switching a file to it when several
connections open it at once, and how often the event store's log is copied back into the file.

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

# Pages the event store's write-ahead log may hold before the commit that passes them copies
# them into the file (SQLite's default is 1,000). Each copy writes every page the log holds
# once, and the event store's indexes keep many pages that the next commits change again;
# copied less often, fewer writes serve more signals. The log's file stays at about this many
# pages (40 MB), and a crash replays no more than that on the next open.
EVENT_STORE_CHECKPOINT_PAGES = 10_000


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


def checkpoint_event_store_less_often(conn: sqlite3.Connection) -> None:
    """Let the write-ahead log of the event store's file on ``conn`` grow to
    ``EVENT_STORE_CHECKPOINT_PAGES`` before one of its commits copies it into the file."""
    conn.execute(f"PRAGMA wal_autocheckpoint={EVENT_STORE_CHECKPOINT_PAGES}")
