"""The batch reads of ``read_many`` on eventsourcing's PostgreSQL recorder.

Each asks the events' primary key once per wanted id: the ids are unnested and each one's
rows are read in a ``LATERAL`` subquery that a ``LIMIT`` or ``OFFSET 0`` keeps as it is (the
planner does not fold it into a join of the two lists). Written as one join (or as
``= ANY``), the plan depended on the table's statistics: a young or fast-growing table, not yet
analysed, was read whole for every batch (a sequential scan of 40,000 events, 7 ms, in each of
the intake's batches during the bench's end-to-end run). Per id the plan is the same at any
size and with or without statistics (``tests/integration/test_batch_read_plans.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import PersistenceError, Recorder, StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder
from psycopg.sql import SQL, Composed, Identifier

from adapters.persistence.stored_rows import stored_event

EVENTS_AFTER = (
    "SELECT e.originator_id, e.originator_version, e.topic, e.state"
    " FROM unnest(%s::uuid[], %s::bigint[]) AS wanted(id, after)"
    " CROSS JOIN LATERAL (SELECT originator_id, originator_version, topic, state"
    "  FROM {schema}.{table}"
    "  WHERE originator_id = wanted.id AND originator_version > wanted.after"
    "  OFFSET 0) e"
    " ORDER BY e.originator_id, e.originator_version"
)
LATEST = (
    "SELECT e.originator_id, e.originator_version, e.topic, e.state"
    " FROM unnest(%s::uuid[]) AS wanted(id)"
    " CROSS JOIN LATERAL (SELECT originator_id, originator_version, topic, state"
    "  FROM {schema}.{table} WHERE originator_id = wanted.id"
    "  ORDER BY originator_version DESC LIMIT 1) e"
)


def events_after_on_postgres(
    recorder: Recorder, after: Mapping[UUID, int]
) -> dict[UUID, list[StoredEvent]] | None:
    """Each id's events above its version, in one query; None if the store keeps ids as text
    or the query failed (a pooled connection broken by a server restart): the caller then
    reads one by one, through the event store's own retrying reads."""
    rows = _rows(
        recorder,
        EVENTS_AFTER,
        [list(after), list(after.values())],
    )
    if rows is None:
        return None
    found: dict[UUID, list[StoredEvent]] = {}
    for row in rows:
        event = stored_event(row)
        found.setdefault(event.originator_id, []).append(event)  # type: ignore[arg-type]
    return found


def latest_on_postgres(recorder: Recorder, ids: Sequence[UUID]) -> dict[UUID, StoredEvent] | None:
    """Each id's event of the highest version, in one query; None as ``events_after``."""
    rows = _rows(
        recorder,
        LATEST,
        [list(dict.fromkeys(ids))],
    )
    if rows is None:
        return None
    return {UUID(str(row["originator_id"])): stored_event(row) for row in rows}


def _rows(recorder: Recorder, query: str, params: list[Any]) -> list[Any] | None:
    """The rows of ``query`` on the recorder's events table (``{schema}.{table}``), prepared;
    None where ids are kept as text or the query failed."""
    assert isinstance(recorder, PostgresAggregateRecorder)
    if recorder.datastore.originator_id_type != "uuid":
        return None
    try:
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(on_events_table(recorder, query), params, prepare=True)
            return cursor.fetchall()
    except (psycopg.Error, PersistenceError):
        return None


def on_events_table(recorder: PostgresAggregateRecorder, query: str) -> Composed:
    """``query`` with ``{schema}.{table}`` naming the recorder's events table."""
    return SQL(query).format(
        schema=Identifier(recorder.datastore.schema),
        table=Identifier(recorder.events_table_name),
    )
