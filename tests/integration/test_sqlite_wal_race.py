"""Components that open the same new SQLite file at the same moment all get it, in WAL mode.

Switching a new file to WAL needs it alone for a moment; connections switching together used to
get "database is locked" at once (4 threads: 44 of 300 tries). Each opener of ks-engine's files
is opened from several threads at once, on many fresh files.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.nats.relay_position import RelayPosition
from adapters.persistence.audit_tables import SqliteAuditDatabase
from adapters.persistence.sqlite_views import SqliteViewDatabase
from adapters.persistence.sqlite_wal import use_wal


def _views(path: Path) -> None:
    with SqliteViewDatabase(path).read() as tx:
        tx.fetchall("SELECT 1")


def _audit(path: Path) -> None:
    with SqliteAuditDatabase(path).transaction(write=False) as tx:
        tx.fetchone("SELECT 1")


def _relay_position(path: Path) -> None:
    RelayPosition(path).get()


def _plain(path: Path) -> None:
    conn = sqlite3.connect(path, timeout=10, isolation_level=None)
    try:
        use_wal(conn, 10)
    finally:
        conn.close()


@pytest.mark.parametrize("open_file", [_views, _audit, _relay_position, _plain])
def test_a_new_file_opened_by_several_at_once_is_opened_by_all_in_wal_mode(
    open_file: Callable[[Path], None], tmp_path: Path
) -> None:
    for attempt in range(40):
        path = tmp_path / f"{attempt}.sqlite"
        start = threading.Barrier(4)
        failures: list[BaseException] = []

        def one(
            path: Path = path,
            start: threading.Barrier = start,
            failures: list[BaseException] = failures,
        ) -> None:
            start.wait()
            try:
                open_file(path)
            except BaseException as e:  # reported by the assertion below
                failures.append(e)

        threads = [threading.Thread(target=one) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        assert failures == []
        mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
