"""Which of many aggregates exist, asked of the event store in one query; which aggregates a
case number (the first characters of an id) may name.

The intake looks up the matching index of every signal in a batch; most signals are about people
not seen before. One query for the whole batch replaces a query per signal. The answer may be
out of date the moment it is given: a record created meanwhile by another worker makes the
batch's save conflict, and the batch is then processed again with a fresh read per signal.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.persistence import Recorder
from eventsourcing.popo import POPOAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder

from adapters.persistence.stored_rows import on_postgres
from domain.case_lookup import id_range

SQLITE_MAX_PARAMETERS = 500


def existing_originators(recorder: Recorder, ids: Sequence[UUID]) -> set[UUID] | None:
    """The ids among ``ids`` with stored events; None when this store cannot be asked so."""
    if isinstance(recorder, SQLiteAggregateRecorder):
        return _sqlite(recorder, ids)
    if on_postgres(recorder):  # psycopg is an optional install
        from adapters.persistence.existing_postgres import existing_on_postgres

        return existing_on_postgres(recorder, ids)
    return None


def _sqlite(recorder: SQLiteAggregateRecorder, ids: Sequence[UUID]) -> set[UUID]:
    found: set[UUID] = set()
    unique = list(dict.fromkeys(ids))
    with recorder.datastore.transaction(commit=False) as cursor:
        for start in range(0, len(unique), SQLITE_MAX_PARAMETERS):
            chunk = unique[start : start + SQLITE_MAX_PARAMETERS]
            marks = ",".join("?" * len(chunk))
            cursor.execute(
                f"SELECT DISTINCT originator_id FROM {recorder.events_table_name}"  # noqa: S608 - table name from the recorder, values bound
                f" WHERE originator_id IN ({marks})",
                [i.hex for i in chunk],
            )
            found.update(UUID(row["originator_id"]) for row in cursor.fetchall())
    return found


def originators_numbered(recorder: Recorder, number: str) -> list[UUID] | None:
    """The ids of aggregates created in the store whose id begins with ``number`` (lowercase
    hex digits, as the dashboard shows a case number), in one query on the primary key; None
    when this store cannot be asked so."""
    if isinstance(recorder, SQLiteAggregateRecorder):
        return _sqlite_numbered(recorder, number)
    if isinstance(recorder, POPOAggregateRecorder):
        return sorted(
            UUID(i) for i in recorder._stored_events_index if UUID(i).hex.startswith(number)
        )
    if on_postgres(recorder):
        from adapters.persistence.existing_postgres import numbered_on_postgres

        return numbered_on_postgres(recorder, number)
    return None


def _sqlite_numbered(recorder: SQLiteAggregateRecorder, number: str) -> list[UUID]:
    low, high = id_range(number)
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(
            f"SELECT originator_id FROM {recorder.events_table_name}"  # noqa: S608 - table name from the recorder, values bound
            " WHERE originator_id BETWEEN ? AND ? AND originator_version = 1",
            [low.hex, high.hex],
        )
        return [UUID(row["originator_id"]) for row in cursor.fetchall()]
