"""The dashboard's listing of cases: sorted pages of open and of closed cases.

Read API::

    listing = QueueListing(db)
    listing.open_cases(now=..., municipalities=[...], sort="deadline", descending=False,
                       offset=0, limit=25, states=None, urgencies=None, overdue=None)
    listing.closed_cases(now=..., municipalities=[...], sort="deadline", offset=0, limit=25)

Every page says how many cases match in all (``ListingPage.total``), so a coordinator can
page through every case, however many. Open cases come from the work queue's table, closed
ones from the case view (which keeps closed cases); both are written only by their tracked
projections. A sort always ends on the case id, so pages never skip or repeat a case. The
SQL is built only from fixed column names and ``?`` placeholders (hence ``noqa: S608``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from domain.expiry import ExpiryRule
from domain.lifecycle import State
from projections.case_view import CaseView
from projections.store import ViewDatabase
from projections.work_queue_store import WorkQueueEntry, assignee_filter, overdue_filter

SORTS = ("deadline", "age", "urgency", "state")
MAX_LIMIT = 200

# Lifecycle order, so "state" sorts the way a case moves (not alphabetically).
_STATE_ORDER = "CASE state " + " ".join(f"WHEN '{s.value}' THEN {i}" for i, s in enumerate(State))
_OPEN_ORDER = {
    "deadline": "deadline_due {d}, urgency_rank, signalled_at",
    "age": "signalled_at {r}, urgency_rank",
    "urgency": "urgency_rank {d}, deadline_due, signalled_at",
    "state": _STATE_ORDER + " END {d}, urgency_rank, deadline_due",
}


class ClosedEntry(BaseModel):
    """One closed case as the listing shows it (no personal data)."""

    case_id: str
    municipality: str
    state: str
    signalled_at: datetime
    age_days: int
    urgency: str
    risk_factors: list[str]
    outcome: str | None
    closed_at: datetime | None


class ListingPage(BaseModel):
    """One page of a listing and how many cases match in all."""

    items: list[WorkQueueEntry] | list[ClosedEntry]
    total: int


def _where(
    municipalities: Sequence[str], extra: dict[str, Sequence[str] | None]
) -> tuple[str, list[Any]]:
    """A WHERE clause for ``column IN (...)`` filters; None means no filter, [] nothing."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, values in {"municipality": municipalities, **extra}.items():
        if values is not None:
            marks = ", ".join("?" for _ in values)
            clauses.append(f"{column} IN ({marks})" if values else "1 = 0")
            params.extend(values)
    return " WHERE " + " AND ".join(clauses), params


class QueueListing:
    """Read API of the dashboard's case listing (see the module docstring)."""

    def __init__(self, db: ViewDatabase, expiry: ExpiryRule | None = None) -> None:
        self.db = db
        self.expiry = expiry or ExpiryRule()

    def open_cases(
        self,
        *,
        now: datetime,
        municipalities: Sequence[str],
        sort: str = "urgency",
        descending: bool = False,
        offset: int = 0,
        limit: int = 25,
        states: Sequence[str] | None = None,
        urgencies: Sequence[str] | None = None,
        overdue: bool | None = None,
        assigned_to: str | None = None,
        unassigned: bool = False,
    ) -> ListingPage:
        """Open cases in the chosen order, ``limit`` of them from ``offset``."""
        where, params = _where(municipalities, {"state": states, "urgency": urgencies})
        if overdue is not None:
            clause, param = overdue_filter(overdue, now.date())
            where += f" AND {clause}"
            params.append(param)
        owner_clauses, owner_params = assignee_filter(assigned_to, unassigned)
        where += "".join(f" AND {clause}" for clause in owner_clauses)
        params += owner_params
        order = _OPEN_ORDER[sort if sort in SORTS else "urgency"].format(
            d="DESC" if descending else "ASC", r="ASC" if descending else "DESC"
        )
        size = max(1, min(limit, MAX_LIMIT))
        with self.db.read() as tx:
            counted = tx.fetchone(f"SELECT COUNT(*) FROM work_queue{where}", params)  # noqa: S608
            rows = tx.fetchall(
                f"SELECT doc FROM work_queue{where} ORDER BY {order}, case_id"  # noqa: S608
                " LIMIT ? OFFSET ?",
                [*params, size, max(0, offset)],
            )
        items = [WorkQueueEntry.from_doc(r[0], now.date(), self.expiry) for r in rows]
        return ListingPage(items=items, total=int(counted[0]) if counted else 0)

    def closed_cases(
        self,
        *,
        now: datetime,
        municipalities: Sequence[str],
        sort: str = "deadline",
        descending: bool = False,
        offset: int = 0,
        limit: int = 25,
        urgencies: Sequence[str] | None = None,
    ) -> ListingPage:
        """Closed cases, most recently closed first for "deadline" (the closing day)."""
        where, params = _where(municipalities, {"state": [State.CLOSED.value]})
        with self.db.read() as tx:
            rows = tx.fetchall(f"SELECT doc FROM case_view{where}", params)  # noqa: S608
        entries = [_closed(CaseView.model_validate_json(r[0]), now) for r in rows]
        if urgencies is not None:
            entries = [e for e in entries if e.urgency in urgencies]
        entries.sort(key=lambda e: e.case_id)
        entries.sort(key=_CLOSED_KEYS.get(sort, _CLOSED_KEYS["deadline"]), reverse=descending)
        size = max(1, min(limit, MAX_LIMIT))
        start = max(0, offset)
        return ListingPage(items=entries[start : start + size], total=len(entries))


def _closed(view: CaseView, now: datetime) -> ClosedEntry:
    return ClosedEntry(
        case_id=view.case_id,
        municipality=view.municipality,
        state=view.state,
        signalled_at=view.signalled_at,
        age_days=(now.date() - view.signalled_at.date()).days,
        urgency=view.urgency,
        risk_factors=view.risk_factors,
        outcome=view.outcome,
        closed_at=view.closed_at,
    )


_URGENCY_RANK = {"urgent": 0, "soon": 1, "routine": 2}
# Ascending "deadline" shows the most recently closed first: a closed case has no deadline
# left, and the coordinator looks for what was closed lately.
_CLOSED_KEYS: dict[str, Any] = {
    "deadline": lambda e: -(e.closed_at or e.signalled_at).timestamp(),
    "age": lambda e: -e.age_days,
    "urgency": lambda e: _URGENCY_RANK.get(e.urgency, 9),
    "state": lambda e: e.outcome or "",
}
