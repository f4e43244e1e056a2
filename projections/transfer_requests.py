"""Transfers waiting for the receiving Knooppunt's answer (*overdrachtsverzoeken*).

Kept beside the work queue, in its transaction: a row per case whose transfer was asked for
and not yet accepted or refused. The receiving coordinators see these rows, and nothing else
of the case, until they accept it.

Read API::

    IncomingTransfers(db).waiting(["GM0882"])   # -> list[IncomingTransfer], oldest first
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from projections.store import ViewDatabase, Writes
from projections.work_queue import Row

DDL = (
    "CREATE TABLE IF NOT EXISTS transfer_requests ("
    " case_id TEXT PRIMARY KEY,"
    " to_municipality TEXT NOT NULL,"
    " requested_at TEXT NOT NULL,"
    " doc TEXT NOT NULL)",
)
_UPSERT = (
    "INSERT INTO transfer_requests (case_id, to_municipality, requested_at, doc)"
    " VALUES (?, ?, ?, ?) ON CONFLICT (case_id) DO UPDATE SET"
    " to_municipality = excluded.to_municipality, requested_at = excluded.requested_at,"
    " doc = excluded.doc"
)

_WAITING = "SELECT doc FROM transfer_requests WHERE to_municipality IN"


class IncomingTransfer(BaseModel):
    """A transfer asked of a Knooppunt: which case, from where, on what basis, since when."""

    case_id: str
    from_municipality: str
    to_municipality: str
    basis: str
    requested_at: datetime
    version: int  # the case's version, for the answer's If-Match


def writes(items: Iterable[tuple[str, Row | None]], queued_before: Container[str]) -> Writes:
    """What brings the rows of these cases in line with their work-queue rows.
    ``queued_before``: the cases that had a work-queue row before; a row here is only ever
    written beside its case's work-queue row, so only those can have one to delete."""
    gone: list[tuple[str]] = []
    rows: list[tuple[Any, ...]] = []
    for case_id, item in items:
        asked = item["transfer"] if item is not None else None
        if item is None or asked is None:
            if case_id in queued_before:
                gone.append((case_id,))
            continue
        row = IncomingTransfer(
            case_id=case_id,
            from_municipality=item["municipality"],
            to_municipality=asked["to_municipality"],
            basis=asked["basis"],
            requested_at=asked["at"],
            version=item["version"],
        )
        at = row.requested_at.isoformat()
        rows.append((case_id, row.to_municipality, at, row.model_dump_json()))
    return [("DELETE FROM transfer_requests WHERE case_id = ?", gone), (_UPSERT, rows)]


class IncomingTransfers:
    """Read API: the transfers waiting for an answer from some municipalities."""

    def __init__(self, db: ViewDatabase) -> None:
        self.db = db

    def waiting(self, municipalities: Sequence[str]) -> list[IncomingTransfer]:
        """Transfers asked of these municipalities, oldest first."""
        if not municipalities:
            return []
        marks = ", ".join("?" for _ in municipalities)
        sql = f"{_WAITING} ({marks}) ORDER BY requested_at, case_id"
        with self.db.read() as tx:
            rows = tx.fetchall(sql, list(municipalities))
        return [IncomingTransfer.model_validate_json(r[0]) for r in rows]
