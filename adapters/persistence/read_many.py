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
from uuid import UUID

from eventsourcing.persistence import Recorder, StoredEvent
from eventsourcing.sqlite import SQLiteAggregateRecorder

from adapters.persistence.stored_rows import on_postgres, stored_event

SQLITE_PAIRS = 400  # (id, version) pairs per statement: SQLite binds at most 999 values
SQLITE_IDS = 800

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
    pairs = list(after.items())
    table = recorder.events_table_name
    with recorder.datastore.transaction(commit=False) as cursor:
        for start in range(0, len(pairs), SQLITE_PAIRS):
            chunk = pairs[start : start + SQLITE_PAIRS]
            values = ",".join("(?,?)" for _ in chunk)
            cursor.execute(
                f"WITH wanted(id, after) AS (VALUES {values})"  # noqa: S608 - table name from the recorder, values bound
                " SELECT e.originator_id, e.originator_version, e.topic, e.state"
                f" FROM wanted JOIN {table} e"
                " ON e.originator_id = wanted.id AND e.originator_version > wanted.after"
                " ORDER BY e.originator_id, e.originator_version",
                [v for aggregate_id, version in chunk for v in (aggregate_id.hex, version)],
            )
            for row in cursor.fetchall():
                event = stored_event(row)
                found.setdefault(event.originator_id, []).append(event)  # type: ignore[arg-type]
    return found


def _sqlite_latest(
    recorder: SQLiteAggregateRecorder, ids: Sequence[UUID]
) -> dict[UUID, StoredEvent]:
    found: dict[UUID, StoredEvent] = {}
    unique = list(dict.fromkeys(ids))
    table = recorder.events_table_name
    with recorder.datastore.transaction(commit=False) as cursor:
        for start in range(0, len(unique), SQLITE_IDS):
            chunk = unique[start : start + SQLITE_IDS]
            values = ",".join("(?)" for _ in chunk)
            cursor.execute(
                f"WITH wanted(id) AS (VALUES {values})"  # noqa: S608 - table name from the recorder, values bound
                " SELECT e.originator_id, e.originator_version, e.topic, e.state"
                f" FROM wanted JOIN {table} e ON e.originator_id = wanted.id"
                " AND e.originator_version ="
                f" (SELECT MAX(originator_version) FROM {table} WHERE originator_id = wanted.id)",
                [i.hex for i in chunk],
            )
            for row in cursor.fetchall():
                event = stored_event(row)
                found[event.originator_id] = event  # type: ignore[index]
    return found
