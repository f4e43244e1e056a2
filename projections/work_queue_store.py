"""The work queue's table, its projection and the read API the HTTP adapter calls.

Read API::

    queue = WorkQueue(db)
    page = queue.page(now=clock(), municipalities=["GM0928"], states=None, urgencies=None,
                      overdue=None, limit=50, cursor=None)      # -> WorkQueuePage
    page.items                # list[WorkQueueEntry], most urgent first
    page.next_cursor          # opaque string for the next page, None on the last page
    queue.get(case_id, now=clock())                              # -> WorkQueueEntry | None

Order: urgency (urgent first), then overdue before on time, then the earliest deadline
(cases without a deadline last), then the oldest signal. Overdue and age are computed at query
time from ``now``; a cursor keeps the day of its first page, so paging never skips or repeats
a case when midnight passes. ``municipalities=[]`` returns nothing; ``None`` every municipality.
"""

from __future__ import annotations

import base64
import heapq
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import islice
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict

from domain.deadlines import ServiceLevels
from domain.expiry import ExpiryRule
from domain.values import Urgency
from projections import transfer_requests, work_queue
from projections.errors import InvalidCursorError
from projections.event import ReferralEvent
from projections.store import (
    Folded,
    Transaction,
    ViewDatabase,
    add_columns,
    apply_folded,
    plain,
)
from projections.work_queue import Row, WorkItem, overdue

NAME = "work_queue"
NO_DEADLINE = "9999-12-31"
MAX_LIMIT = 500
# Overdue cases (due before today) come first within an urgency simply by ordering on the due
# date, so the page is read along the index, however many cases the view holds.
_ORDER = "urgency_rank, deadline_due, signalled_at, case_id"
_PAGE = (
    "SELECT doc, urgency_rank, deadline_due, signalled_at, case_id FROM work_queue{where}"
    " ORDER BY urgency_rank, deadline_due, signalled_at, case_id LIMIT ?"
)

_DDL = (
    "CREATE TABLE IF NOT EXISTS work_queue ("
    " case_id TEXT PRIMARY KEY,"
    " municipality TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " urgency TEXT NOT NULL,"
    " urgency_rank INTEGER NOT NULL,"
    " deadline_due TEXT NOT NULL,"
    " signalled_at TEXT NOT NULL,"
    " doc TEXT NOT NULL)",
    # (columns added later are in _ADDED: a table made before them gets them on start)
    "CREATE INDEX IF NOT EXISTS work_queue_order"
    " ON work_queue (urgency_rank, deadline_due, signalled_at, case_id)",
    # A coordinator's page is read along this one, however many cases other municipalities
    # hold (along work_queue_order alone, a municipality with few cases scans all the others).
    "CREATE INDEX IF NOT EXISTS work_queue_municipality_order"
    " ON work_queue (municipality, urgency_rank, deadline_due, signalled_at, case_id)",
)
# Columns added after the table was first made. ``suspended_until``: while a deadline is
# suspended (*opgeschort*) its clock stands still, so the case is not overdue, whatever its date.
# ``assignee``: the coordinator who owns the case, for "mijn casussen" and "niet toegewezen".
_ADDED = {"suspended_until": "TEXT", "assignee": "TEXT"}
# "Te laat": past the due date with the clock running; "op tijd": the rest.
_OVERDUE = "(deadline_due < ? AND suspended_until IS NULL)"
_ON_TIME = "(deadline_due >= ? OR suspended_until IS NOT NULL)"


def overdue_filter(overdue: bool, today: date) -> tuple[str, str]:
    """The WHERE clause (and its parameter) of the overdue filter on ``today``."""
    return (_OVERDUE if overdue else _ON_TIME), today.isoformat()


def assignee_filter(assigned_to: str | None, unassigned: bool) -> tuple[list[str], list[str]]:
    """WHERE clauses (and their parameters) of the owner filters: one coordinator's cases
    ("mijn casussen"), cases nobody owns ("niet toegewezen"), or both: nothing matches."""
    clauses, params = [], []
    if assigned_to is not None:
        clauses.append("assignee = ?")
        params.append(assigned_to)
    if unassigned:
        clauses.append("assignee IS NULL")
    return clauses, params


def utc_text(moment: datetime) -> str:
    """A moment as UTC ISO text of fixed width, so that text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class WorkQueueProjection:
    """Keeps one row per open case."""

    name = NAME

    def __init__(self, levels: ServiceLevels) -> None:
        self.levels = levels

    def create_tables(self, tx: Transaction) -> None:
        for statement in (*_DDL, *transfer_requests.DDL):
            tx.execute(statement)
        if add_columns(tx, NAME, _ADDED):  # fill them from the rows' documents
            docs = tx.fetchall("SELECT doc FROM work_queue")
            tx.executemany(_UPSERT, [_row(plain(WorkItem, d[0])) for d in docs])

    def clear(self, tx: Transaction) -> None:
        tx.execute("DELETE FROM work_queue")
        tx.execute("DELETE FROM transfer_requests")

    select = "SELECT case_id, doc FROM work_queue WHERE case_id IN ({})"

    def apply_all(self, tx: Transaction, events: Sequence[ReferralEvent]) -> None:
        apply_folded(tx, self, events)

    def fold(self, stored: Mapping[str, str], events: Sequence[ReferralEvent]) -> Folded:
        rows: dict[str, Row | None] = {
            case_id: plain(WorkItem, doc) for case_id, doc in stored.items()
        }
        for event in events:
            rows[event.case_id] = work_queue.fold(rows.get(event.case_id), event, self.levels)
        # Only a case that had a row has one to delete (not one opened and closed here).
        gone = [(case_id,) for case_id, row in rows.items() if row is None and case_id in stored]
        kept = [_row(row) for row in rows.values() if row is not None]
        writes = [
            ("DELETE FROM work_queue WHERE case_id = ?", gone),
            (_UPSERT, kept),
            *transfer_requests.writes(rows.items(), queued_before=stored),
        ]
        docs: dict[str, str | None] = dict.fromkeys(rows)
        docs.update((row[0], row[7]) for row in kept)
        return Folded(writes, docs)


_UPSERT = (
    "INSERT INTO work_queue (case_id, municipality, state, urgency, urgency_rank,"
    " deadline_due, signalled_at, doc, suspended_until, assignee)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (case_id) DO UPDATE SET municipality = excluded.municipality,"
    " state = excluded.state, urgency = excluded.urgency,"
    " urgency_rank = excluded.urgency_rank, deadline_due = excluded.deadline_due,"
    " signalled_at = excluded.signalled_at, doc = excluded.doc,"
    " suspended_until = excluded.suspended_until, assignee = excluded.assignee"
)


def _row(row: Row) -> tuple[Any, ...]:
    return (
        row["case_id"],
        row["municipality"],
        row["state"],
        row["urgency"],
        Urgency(row["urgency"]).rank,
        row["deadline_due"] or NO_DEADLINE,
        utc_text(datetime.fromisoformat(row["signalled_at"])),
        orjson.dumps(row).decode(),
        row["suspended_until"],
        row["assignee"],
    )


class Deadline(BaseModel):
    """The next step a case waits for and its due date."""

    step: str
    due: date
    suspended_until: date | None = None  # *opgeschort tot*: the clock stands still until then


class WorkQueueEntry(BaseModel):
    """One open case in the work queue, as a coordinator sees it."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    municipality: str
    state: str
    signalled_at: datetime
    age_days: int
    risk_factors: list[str]
    urgency: str
    signal_count: int
    next_deadline: Deadline | None
    overdue: bool
    last_activity_at: datetime
    version: int
    # Inactivity expiry (domain/expiry.py): the day the case lapses, and whether it is flagged.
    expires_on: date
    expiring: bool
    restricted: bool = False  # AVG art. 18: no processing until the privacy officer lifts it
    transfer_to: str | None = None  # a transfer asked of this municipality's Knooppunt
    assignee: str | None = None  # the coordinator who owns the case; None: nobody yet

    @classmethod
    def from_doc(
        cls, doc: str | bytes, today: date, expiry: ExpiryRule | None = None
    ) -> WorkQueueEntry:
        """The entry of a stored row (the table's ``doc``, a WorkItem's JSON values), built in
        one validation: a page reads 50 rows per request, and reading each row as a WorkItem
        first, then building the entry field by field, cost twice the CPU (the property test
        keeps that longer way as its reference)."""
        return cls.model_validate(entry_values(orjson.loads(doc), today, expiry or ExpiryRule()))


def entry_values(row: Mapping[str, Any], today: date, rule: ExpiryRule) -> dict[str, Any]:
    """A WorkQueueEntry's fields, in its order, computed from a stored row on ``today``."""
    signalled_at = datetime.fromisoformat(row["signalled_at"])
    last_activity_at = datetime.fromisoformat(row["last_activity_at"])
    last = last_activity_at.date()
    due = _day(row.get("deadline_due"))
    suspended_until = _day(row.get("suspended_until"))
    transfer = row.get("transfer")
    deadline = None
    if due:
        step = row.get("deadline_step") or ""
        deadline = {"step": step, "due": due, "suspended_until": suspended_until}
    return {
        "case_id": row["case_id"],
        "municipality": row["municipality"],
        "state": row["state"],
        "signalled_at": signalled_at,
        "age_days": (today - signalled_at.date()).days,
        "risk_factors": row["risk_factors"],
        "urgency": row["urgency"],
        "signal_count": row["signal_count"],
        "next_deadline": deadline,
        "overdue": overdue(due, suspended_until, today),
        "last_activity_at": last_activity_at,
        "version": row["version"],
        "expires_on": rule.expires_on(last),
        "expiring": rule.is_expiring(last, today),
        "restricted": row.get("restricted", False),
        "transfer_to": transfer["to_municipality"] if transfer else None,
        "assignee": row.get("assignee"),
    }


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


class WorkQueuePage(BaseModel):
    """A page of the work queue and the cursor of the next one."""

    items: list[WorkQueueEntry]
    next_cursor: str | None


@dataclass(frozen=True)
class StoredPage:
    """A page of the work queue as its stored rows, read on ``today``."""

    docs: list[str]
    today: date
    next_cursor: str | None
    expiry: ExpiryRule

    def entries(self) -> WorkQueuePage:
        items = [WorkQueueEntry.from_doc(doc, self.today, self.expiry) for doc in self.docs]
        return WorkQueuePage(items=items, next_cursor=self.next_cursor)

    def json(self) -> bytes:
        """``entries()`` as pydantic writes it in JSON, byte for byte (a property test holds
        them equal), without building the models: for a page of 50 the models' validation
        and dump took about a third of the API's CPU per request (bench/NOTES.md)."""
        items = [entry_values(orjson.loads(doc), self.today, self.expiry) for doc in self.docs]
        body = {"items": items, "next_cursor": self.next_cursor}
        return orjson.dumps(body, option=orjson.OPT_UTC_Z)


def _encode_cursor(today: date, key: Sequence[Any]) -> str:
    raw = json.dumps({"d": today.isoformat(), "k": list(key)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[date, list[Any]]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key = raw["k"]
        if not (isinstance(key, list) and len(key) == 4):
            raise ValueError("bad key")
        return date.fromisoformat(raw["d"]), key
    except (ValueError, KeyError, TypeError) as e:
        raise InvalidCursorError(
            "the page cursor is not valid: ask for the first page again"
        ) from e


def _rows(tx: Transaction, where: list[str], params: list[Any], limit: int) -> list[Any]:
    """Rows of the work queue matching ``where`` in the queue's order, at most ``limit``."""
    sql = _PAGE.format(where=" WHERE " + " AND ".join(where) if where else "")
    return list(tx.fetchall(sql, [*params, limit]))


def _key(row: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(row[1:5])


def _in(column: str, values: Sequence[str], where: list[str], params: list[Any]) -> None:
    where.append(f"{column} IN ({', '.join('?' for _ in values)})" if values else "1 = 0")
    params.extend(values)


class WorkQueue:
    """Read API of the work queue (see the module docstring)."""

    def __init__(self, db: ViewDatabase, expiry: ExpiryRule | None = None) -> None:
        self.db = db
        self.expiry = expiry or ExpiryRule()

    def page(self, *, now: datetime, **filters: Any) -> WorkQueuePage:
        """One page of open cases matching the filters (``stored_page``'s), most urgent first."""
        return self.stored_page(now=now, **filters).entries()

    def stored_page(
        self,
        *,
        now: datetime,
        municipalities: Sequence[str] | None = None,
        states: Sequence[str] | None = None,
        urgencies: Sequence[str] | None = None,
        overdue: bool | None = None,
        limit: int = 50,
        cursor: str | None = None,
        assigned_to: str | None = None,
        unassigned: bool = False,
    ) -> StoredPage:
        """The stored rows of one page of open cases matching the filters, most urgent first."""
        today, after = _decode_cursor(cursor) if cursor else (now.date(), None)
        where: list[str] = []
        params: list[Any] = []
        for column, values in (("state", states), ("urgency", urgencies)):
            if values is not None:
                _in(column, values, where, params)
        if overdue is not None:
            clause, param = overdue_filter(overdue, today)
            where.append(clause)
            params.append(param)
        owner_clauses, owner_params = assignee_filter(assigned_to, unassigned)
        where += owner_clauses
        params += owner_params
        if after is not None:
            where.append(f"({_ORDER}) > (?, ?, ?, ?)")
            params.extend(after)
        size = max(1, min(limit, MAX_LIMIT))
        with self.db.read() as tx:
            if municipalities is None:
                rows = _rows(tx, where, params, size + 1)
            else:
                # One read per municipality along its index, merged in the queue's order.
                per_municipality = [
                    _rows(tx, ["municipality = ?", *where], [m, *params], size + 1)
                    for m in dict.fromkeys(municipalities)
                ]
                rows = list(islice(heapq.merge(*per_municipality, key=_key), size + 1))
        more = len(rows) > size
        next_cursor = _encode_cursor(today, rows[size - 1][1:]) if more else None
        return StoredPage([r[0] for r in rows[:size]], today, next_cursor, self.expiry)

    def get(self, case_id: str, *, now: datetime) -> WorkQueueEntry | None:
        """The queue entry of one open case, or None (closed or unknown)."""
        with self.db.read() as tx:
            row = tx.fetchone("SELECT doc FROM work_queue WHERE case_id = ?", (str(case_id),))
        if row is None:
            return None
        return WorkQueueEntry.from_doc(row[0], now.date(), self.expiry)
