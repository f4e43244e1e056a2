"""The case view's table, its projection and the read API the HTTP adapter calls.

Read API::

    views = CaseViews(db)
    views.get(case_id)                  # -> CaseView | None (see projections.case_view)
    views.version_of(case_id)           # -> int | None, cheap, for read-your-writes by version

A closed case keeps its view. The view holds no personal details; the HTTP adapter still
decides per reader which parts to show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

import orjson

from projections import case_doc
from projections.case_doc import Doc
from projections.case_view import CaseView
from projections.event import ReferralEvent
from projections.store import Folded, Transaction, ViewDatabase, apply_folded, plain

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

    select = "SELECT case_id, doc FROM case_view WHERE case_id IN ({})"

    def apply_all(self, tx: Transaction, events: Sequence[ReferralEvent]) -> None:
        apply_folded(tx, self, events)

    def fold(self, stored: Mapping[str, str], events: Sequence[ReferralEvent]) -> Folded:
        docs: dict[str, Doc] = {case_id: plain(CaseView, doc) for case_id, doc in stored.items()}
        changed: set[str] = set()
        for event in events:
            after = case_doc.fold(docs.get(event.case_id), event)
            if after is not None:
                docs[event.case_id] = after
                changed.add(event.case_id)
        texts = {case_id: orjson.dumps(docs[case_id]).decode() for case_id in changed}
        rows = [
            (d["case_id"], d["municipality"], d["state"], d["version"], texts[case_id])
            for case_id, d in docs.items()
            if case_id in changed
        ]
        return Folded([(_UPSERT, rows)], dict(texts))


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
