"""One SQLite transaction on a connection in autocommit mode, always ended.

SQLite keeps a transaction open when its COMMIT fails (a deferred constraint, a busy or full
file): the connection then refuses every later ``BEGIN`` ("cannot start a transaction within a
transaction") and, after a write, keeps the file's write lock, so every other writer of the
file, in any process, waits out its busy timeout and fails. A connection kept per thread would
stay broken for the life of the process. A transaction begun here therefore always ends:
committed, rolled back, or, if even the rollback fails, with its connection closed and dropped
so that the next transaction opens a new one.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def ended_transaction(
    conn: sqlite3.Connection, begin: str, drop: Callable[[], None]
) -> Iterator[sqlite3.Connection]:
    """``begin`` on ``conn``, COMMIT when the block ends, ROLLBACK when it or the COMMIT
    fails; ``drop`` gives ``conn`` up (closes and forgets it) when it cannot be rolled back."""
    conn.execute(begin)
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        roll_back(conn, drop)
        raise


def roll_back(conn: sqlite3.Connection, drop: Callable[[], None]) -> None:
    """End the open transaction of ``conn`` without keeping anything of it."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
    if conn.in_transaction:
        drop()


def close_quietly(conn: sqlite3.Connection) -> None:
    """Close ``conn``, which is given up: an error closing it changes nothing."""
    with contextlib.suppress(sqlite3.Error):
        conn.close()
