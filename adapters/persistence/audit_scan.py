"""The stored events and the chain's links as plain rows, read in large batches, for the quick
scan of ``ks audit verify`` (``ks_engine.audit.scan``).

Rows are returned as the database holds them (no mapping, no decryption); the scan checks
their types itself. Both streams are read in one read transaction, so they show one state of
the file. Only an SQLite file is read this way: any other store is verified by the plain walk.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.sqlite import SQLiteAggregateRecorder

from adapters.persistence.audit_chain import FOLLOWED, SqlChainStore, events_table, quoted
from adapters.persistence.audit_tables import SqliteAuditDatabase

FETCH = 4096  # rows per fetch


def links_query(table: str) -> str:
    """Each link with ``"position hash"`` of the link sealing its aggregate's previous version
    (found through the events' primary key, as ``SqlChainStore.links_of`` finds it: the event's
    notification id is that link's position, and the link must name the same aggregate and
    version), in the same read."""
    return (
        "SELECT c.position, c.aggregate, c.version, c.topic, c.state_hash, c.summary_hash,"  # noqa: S608 - the table's name from the recorder
        " c.prev_in_aggregate, c.prev, c.link_hash, c.sealed_at, c.chain_format,"
        " CASE WHEN c.version > 1 THEN (SELECT p.position || ' ' || p.link_hash"
        f"  FROM {quoted(table)} e JOIN audit_chain p ON p.position = e.rowid"
        "  WHERE e.originator_id = replace(c.aggregate, '-', '')"
        "  AND e.originator_version = c.version - 1"
        f"  AND p.aggregate = c.aggregate AND p.version = c.version - 1 AND p.{FOLLOWED}) END"
        " FROM audit_chain c WHERE c.position >= ? AND c.position <= ? ORDER BY c.position"
    )


_NO_END = 2**63 - 1  # the largest position SQLite holds: "to the chain's end"


class SqliteLogRows:
    """The rows of one SQLite file, in one read transaction (``with`` it open)."""

    def __init__(self, path: Path, events_table: str) -> None:
        self.path, self.events_table = path, events_table
        self._conn: sqlite3.Connection | None = None

    def __enter__(self) -> SqliteLogRows:
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
        conn.execute("BEGIN")
        self._conn = conn
        return self

    def __exit__(self, *exc: object) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _stream(self, sql: str, params: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
        assert self._conn is not None
        cursor = self._conn.execute(sql, params)  # closed with the connection
        while batch := cursor.fetchmany(FETCH):
            yield from batch

    def events(self, first: int, last: int) -> Iterator[tuple[Any, ...]]:
        """(position, originator_id, originator_version, topic, state) from ``first`` to
        ``last``, in position order; the id as stored (32 hexadecimal digits)."""
        return self._stream(
            "SELECT rowid, originator_id, originator_version, topic, state"  # noqa: S608
            f" FROM {self.events_table} WHERE rowid >= ? AND rowid <= ? ORDER BY rowid",
            (first, last),
        )

    def links(self, first: int, last: int | None) -> Iterator[tuple[Any, ...]]:
        """Each link's columns (as ``SqlChainStore``) and ``"position hash"`` of its
        aggregate's previous version (None for a first version or none found), from
        ``first`` to ``last`` (the chain's end when None), in position order."""
        last = _NO_END if last is None else last
        return self._stream(links_query(self.events_table), (first, last))

    def stored(self, position: int) -> bool:
        """Whether the log holds an event at ``position`` now (not in this read)."""
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            row = conn.execute(
                f"SELECT 1 FROM {self.events_table} WHERE rowid = ?",  # noqa: S608
                (position,),
            ).fetchone()
        finally:
            conn.close()
        return row is not None


def log_rows(app: Application[UUID], store: object) -> SqliteLogRows | None:
    """Plain rows of ``app``'s log and ``store``'s chain when both are in one SQLite file."""
    if not isinstance(store, SqlChainStore) or store.db.dialect != "sqlite":
        return None
    if store.events is None or store.events != events_table(app.recorder, store.db):
        return None  # the chain beside an in-memory store, or another store's
    db, recorder = store.db, app.recorder
    assert isinstance(db, SqliteAuditDatabase)
    assert db.path is not None
    assert isinstance(recorder, SQLiteAggregateRecorder)
    return SqliteLogRows(Path(db.path), recorder.events_table_name)
