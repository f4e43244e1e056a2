"""The relay's read of the notification log: the Referral events of a span of positions.

The log holds five stored events per signal and only one of them (the case's) is published, so
the event store is asked for the case events alone (by topic prefix, in SQL) and for how far the
span reaches; the index and idempotency records are never read into Python. Stores without a
reader of their own (the in-memory one) are read through ``select_notifications`` and filtered.

A span is read in one snapshot on SQLite. On PostgreSQL eventsourcing commits notification ids
in order (the insert locks the table), so every id at or below the highest one seen is final and
later statements in other snapshots cannot add one below it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from eventsourcing.persistence import ApplicationRecorder, Notification

from ks_engine.audit.summary import CASE_TOPIC_PREFIXES, is_case_event


@dataclass(frozen=True)
class Span:
    """The case events stored at positions ``start..end`` and, for each, ``through``: the
    last position up to which no later case event exists (see ``projections.event``)."""

    events: list[Notification]
    through: list[int]
    end: int


class LogReader(Protocol):
    """Reads spans of the notification log."""

    def read(self, start: int, span: int, peek: int) -> Span | None:
        """The case events from ``start`` over at most ``span`` positions; None when the log
        holds nothing at or after ``start``. ``peek`` positions past the span are looked at to
        tell how far the last event's reader has seen."""
        ...


def _through(positions: list[int], next_event: int | None, peek_end: int) -> list[int]:
    """Each event's coverage: up to just before the next case event, the last up to the
    next one after the span (or as far as was looked)."""
    if not positions:
        return []
    after = [p - 1 for p in positions[1:]]
    after.append(next_event - 1 if next_event is not None else peek_end)
    return [max(a, p) for a, p in zip(after, positions, strict=True)]


def _case_filter(placeholder: str) -> tuple[str, list[Any]]:
    """A SQL condition true for case-event topics, and its parameters."""
    parts = []
    params: list[Any] = []
    for prefix in CASE_TOPIC_PREFIXES:
        parts.append(f"substr(topic, 1, {placeholder}) = {placeholder}")
        params += [len(prefix), prefix]
    return "(" + " OR ".join(parts) + ")", params


class SqliteLogReader:
    """Reads spans from eventsourcing's SQLite application recorder."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder
        table = recorder.events_table_name
        condition, self._params = _case_filter("?")
        # The table's name comes from the recorder and the condition holds placeholders only.
        columns = "rowid, originator_id, originator_version, topic, state"
        self._max = f"SELECT MAX(rowid) FROM {table}"  # noqa: S608
        self._events = f"SELECT {columns} FROM {table} WHERE rowid BETWEEN ? AND ? AND {condition}"  # noqa: S608
        self._events += " ORDER BY rowid"
        self._next = (
            f"SELECT MIN(rowid) FROM {table} WHERE rowid > ? AND rowid <= ? AND {condition}"  # noqa: S608
        )

    def read(self, start: int, span: int, peek: int) -> Span | None:
        convert = self.recorder.convert_originator_id
        with self.recorder.datastore.transaction(commit=False) as c:
            c.execute(self._max)
            highest = c.fetchone()[0]
            if highest is None or highest < start:
                return None
            end = min(start + span - 1, highest)
            c.execute(self._events, [start, end, *self._params])
            rows = c.fetchall()
            peek_end = min(end + peek, highest)
            c.execute(self._next, [end, peek_end, *self._params])
            next_event = c.fetchone()[0]
        events = [
            Notification(
                id=r[0],
                originator_id=convert(r[1]),
                originator_version=r[2],
                topic=r[3],
                state=r[4],
            )
            for r in rows
        ]
        positions = [n.id for n in events]
        return Span(events, _through(positions, next_event, peek_end), end)


class PostgresLogReader:
    """Reads spans from eventsourcing's PostgreSQL application recorder."""

    def __init__(self, recorder: Any) -> None:
        from psycopg.sql import SQL, Identifier  # only when PostgreSQL is configured

        self.recorder = recorder
        table = SQL("{}.{}").format(
            Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name)
        )
        condition, self._params = _case_filter("%s")
        self._max = SQL("SELECT MAX(notification_id) AS max FROM {}").format(table)
        # The condition holds placeholders only; the table is composed as identifiers.
        columns = "notification_id, originator_id, originator_version, topic, state"
        within = "notification_id BETWEEN %s AND %s AND " + condition
        events = SQL(f"SELECT {columns} FROM {{}} WHERE {within} ORDER BY notification_id")  # noqa: S608
        self._events = events.format(table)
        after = "notification_id > %s AND notification_id <= %s AND " + condition
        following = SQL(f"SELECT MIN(notification_id) AS min FROM {{}} WHERE {after}")  # noqa: S608
        self._next = following.format(table)

    def read(self, start: int, span: int, peek: int) -> Span | None:
        with self.recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._max, prepare=True)
            highest = curs.fetchone()["max"]
            if highest is None or highest < start:
                return None
            end = min(start + span - 1, highest)
            curs.execute(self._events, [start, end, *self._params], prepare=True)
            rows = curs.fetchall()
            peek_end = min(end + peek, highest)
            curs.execute(self._next, [end, peek_end, *self._params], prepare=True)
            next_event = curs.fetchone()["min"]
        events = [
            Notification(
                id=r["notification_id"],
                originator_id=r["originator_id"],
                originator_version=r["originator_version"],
                topic=r["topic"],
                state=bytes(r["state"]),
            )
            for r in rows
        ]
        positions = [n.id for n in events]
        return Span(events, _through(positions, next_event, peek_end), end)


class GenericLogReader:
    """Reads spans through ``select_notifications`` (every stored event) and keeps the case
    events: for stores without a reader of their own."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.recorder = recorder

    def read(self, start: int, span: int, peek: int) -> Span | None:
        select = self.recorder.select_notifications
        window = select(start=start, limit=span)
        if not window:
            return None
        end = window[-1].id
        events = [n for n in window if is_case_event(n.topic)]
        after: Sequence[Notification] = select(start=end + 1, limit=peek) if peek else ()
        next_event = next((n.id for n in after if is_case_event(n.topic)), None)
        peek_end = after[-1].id if after else end
        positions = [n.id for n in events]
        return Span(events, _through(positions, next_event, peek_end), end)


def log_reader(recorder: ApplicationRecorder) -> LogReader:
    """The fastest reader for ``recorder``'s store."""
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    if isinstance(recorder, SQLiteApplicationRecorder):
        return SqliteLogReader(recorder)
    try:
        from eventsourcing.postgres import PostgresApplicationRecorder
    except ImportError:  # psycopg is not installed: PostgreSQL is not configured
        return GenericLogReader(recorder)
    if isinstance(recorder, PostgresApplicationRecorder):
        return PostgresLogReader(recorder)
    return GenericLogReader(recorder)
