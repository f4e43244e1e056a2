"""The batch reads of ``read_many`` on eventsourcing's PostgreSQL recorder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import PersistenceError, Recorder, StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder
from psycopg.sql import SQL, Identifier

from adapters.persistence.stored_rows import stored_event


def events_after_on_postgres(
    recorder: Recorder, after: Mapping[UUID, int]
) -> dict[UUID, list[StoredEvent]] | None:
    """Each id's events above its version, in one query; None if the store keeps ids as text
    or the query failed (a pooled connection broken by a server restart): the caller then
    reads one by one, through the event store's own retrying reads."""
    rows = _rows(
        recorder,
        "SELECT e.originator_id, e.originator_version, e.topic, e.state"
        " FROM unnest(%s::uuid[], %s::bigint[]) AS wanted(id, after)"
        " JOIN {schema}.{table} e"
        " ON e.originator_id = wanted.id AND e.originator_version > wanted.after"
        " ORDER BY e.originator_id, e.originator_version",
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
        "SELECT DISTINCT ON (originator_id) originator_id, originator_version, topic, state"
        " FROM {schema}.{table} WHERE originator_id = ANY(%s::uuid[])"
        " ORDER BY originator_id, originator_version DESC",
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
    statement = SQL(query).format(
        schema=Identifier(recorder.datastore.schema),
        table=Identifier(recorder.events_table_name),
    )
    try:
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(statement, params, prepare=True)
            return cursor.fetchall()
    except (psycopg.Error, PersistenceError):
        return None
