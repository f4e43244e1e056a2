"""The case view's table, its projection and the read API the HTTP adapter calls.

Read API::

    views = CaseViews(db)
    views.get(case_id)                  # -> CaseView | None (see projections.case_view)
    views.version_of(case_id)           # -> int | None, cheap, for read-your-writes by version

A closed case keeps its view. The view holds no personal details; the HTTP adapter still
decides per reader which parts to show.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from projections import case_view
from projections.case_view import CaseView
from projections.event import ReferralEvent
from projections.store import Transaction, ViewDatabase, documents_by_key

NAME = "case_view"

_DDL = (
    "CREATE TABLE IF NOT EXISTS case_view ("
    " case_id TEXT PRIMARY KEY,"
    " municipality TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " doc TEXT NOT NULL)"
)


class CaseViewProjection:
    """Keeps one document per case, closed cases included."""

    name = NAME

    def create_tables(self, tx: Transaction) -> None:
        tx.execute(_DDL)

    def clear(self, tx: Transaction) -> None:
        tx.execute("DELETE FROM case_view")

    def apply_all(self, tx: Transaction, events: Sequence[ReferralEvent]) -> None:
        stored = documents_by_key(tx, _SELECT_DOCS, (e.case_id for e in events))
        views: dict[str, CaseView | None] = {
            case_id: CaseView.model_validate_json(doc) for case_id, doc in stored.items()
        }
        changed: set[str] = set()
        for event in events:
            after = case_view.apply(views.get(event.case_id), event, owned=True)
            if after is not None:
                views[event.case_id] = after
                changed.add(event.case_id)
        rows = [
            (v.case_id, v.municipality, v.state, v.version, v.model_dump_json())
            for case_id, v in views.items()
            if v is not None and case_id in changed
        ]
        if rows:
            tx.executemany(_UPSERT, rows)


_SELECT_DOCS = "SELECT case_id, doc FROM case_view WHERE case_id IN ({})"
_UPSERT = (
    "INSERT INTO case_view (case_id, municipality, state, version, doc)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (case_id) DO UPDATE SET"
    " municipality = excluded.municipality, state = excluded.state, version = excluded.version,"
    " doc = excluded.doc"
)


class CaseViews:
    """Read API of the case view (see the module docstring)."""

    def __init__(self, db: ViewDatabase) -> None:
        self.db = db

    def get(self, case_id: UUID | str) -> CaseView | None:
        """The view of one case, or None when the projection has not seen it."""
        with self.db.read() as tx:
            row = tx.fetchone("SELECT doc FROM case_view WHERE case_id = ?", (str(case_id),))
        return CaseView.model_validate_json(row[0]) if row else None

    def version_of(self, case_id: UUID | str) -> int | None:
        """The case version the view reflects, or None when it has not seen the case."""
        with self.db.read() as tx:
            row = tx.fetchone("SELECT version FROM case_view WHERE case_id = ?", (str(case_id),))
        return int(row[0]) if row else None
