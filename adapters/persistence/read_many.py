"""The stored events of many aggregates, asked of the event store in one query.

The intake reads, for a batch of signals, the matching-index entries of the people it names
and the open cases they lead to; read one by one, that is two or three queries per signal that
joins a case (on PostgreSQL each a round trip). Here one query answers for the whole batch:
each aggregate's events after a given version (its latest snapshot's, or 0), or each
aggregate's latest snapshot. The answers are what eventsourcing's ``select_events`` gives for
each id alone, in version order (``tests/integration/test_read_many.py``, SQLite and
PostgreSQL). A store that cannot be asked so answers None, and the caller reads one by one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Recorder, StoredEvent
from eventsourcing.sqlite import SQLiteAggregateRecorder

from adapters.persistence.stored_rows import on_postgres, stored_event

SQLITE_VALUES = 800  # values bound per statement: SQLite binds at most 999

Found = dict[UUID, list[StoredEvent]]


def events_after(recorder: Recorder, after: Mapping[UUID, int]) -> Found | None:
    """For each id of ``after``, its stored events of versions above the given one, in version
    order (an id without any is left out); None when this store cannot be asked so."""
    if not after:
        return {}
    if isinstance(recorder, SQLiteAggregateRecorder) and _uuid_ids(recorder):
        return _sqlite_after(recorder, after)
    if on_postgres(recorder):  # psycopg is an optional install
        from adapters.persistence.read_many_postgres import events_after_on_postgres

        return events_after_on_postgres(recorder, after)
    return None


def latest_events(recorder: Recorder, ids: Sequence[UUID]) -> dict[UUID, StoredEvent] | None:
    """For each of ``ids``, its stored event of the highest version (for a snapshot store:
    the latest snapshot); None when this store cannot be asked so."""
    if not ids:
        return {}
    if isinstance(recorder, SQLiteAggregateRecorder) and _uuid_ids(recorder):
        return _sqlite_latest(recorder, ids)
    if on_postgres(recorder):
        from adapters.persistence.read_many_postgres import latest_on_postgres

        return latest_on_postgres(recorder, ids)
    return None


def _uuid_ids(recorder: SQLiteAggregateRecorder) -> bool:
    return recorder.datastore.originator_id_type == "uuid"


def _sqlite_after(recorder: SQLiteAggregateRecorder, after: Mapping[UUID, int]) -> Found:
    found: Found = {}
    rows = _sqlite_rows(
        recorder,
        "WITH wanted(id, after) AS (VALUES {values})"
        " SELECT e.originator_id, e.originator_version, e.topic, e.state"
        " FROM wanted JOIN {table} e"
        " ON e.originator_id = wanted.id AND e.originator_version > wanted.after"
        " ORDER BY e.originator_id, e.originator_version",
        [(aggregate_id.hex, version) for aggregate_id, version in after.items()],
    )
    for row in rows:
        event = stored_event(row)
        found.setdefault(event.originator_id, []).append(event)  # type: ignore[arg-type]
    return found


def _sqlite_latest(
    recorder: SQLiteAggregateRecorder, ids: Sequence[UUID]
) -> dict[UUID, StoredEvent]:
    rows = _sqlite_rows(
        recorder,
        "WITH wanted(id) AS (VALUES {values})"
        " SELECT e.originator_id, e.originator_version, e.topic, e.state"
        " FROM wanted JOIN {table} e ON e.originator_id = wanted.id"
        " AND e.originator_version ="
        " (SELECT MAX(originator_version) FROM {table} WHERE originator_id = wanted.id)",
        [(i.hex,) for i in dict.fromkeys(ids)],
    )
    found: dict[UUID, StoredEvent] = {}
    for row in rows:
        event = stored_event(row)
        found[event.originator_id] = event  # type: ignore[index]
    return found


def _sqlite_rows(
    recorder: SQLiteAggregateRecorder, query: str, wanted: list[tuple[Any, ...]]
) -> list[Any]:
    """The rows of ``query`` in one read transaction, asked for ``wanted`` in chunks: each
    chunk's tuples bound as ``{values}``, the recorder's events table as ``{table}``."""
    width = len(wanted[0]) if wanted else 1
    per_statement = SQLITE_VALUES // width
    mark = "(" + ",".join("?" * width) + ")"
    rows: list[Any] = []
    with recorder.datastore.transaction(commit=False) as cursor:
        for start in range(0, len(wanted), per_statement):
            chunk = wanted[start : start + per_statement]
            sql = query.format(
                values=",".join(mark for _ in chunk), table=recorder.events_table_name
            )
            cursor.execute(sql, [v for values in chunk for v in values])
            rows += cursor.fetchall()
    return rows
