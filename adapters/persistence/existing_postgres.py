"""The batch existence query of ``existing`` on eventsourcing's PostgreSQL recorder."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import psycopg
from eventsourcing.persistence import PersistenceError, Recorder
from eventsourcing.postgres import PostgresAggregateRecorder

from adapters.persistence.read_many_postgres import on_events_table
from domain.case_lookup import id_range

# One search of the primary key per id, whatever the table's statistics say (see
# ``read_many_postgres``: as ``= ANY`` a table not yet analysed was read whole).
EXISTING = (
    "SELECT wanted.id AS originator_id FROM unnest(%s::uuid[]) AS wanted(id)"
    " CROSS JOIN LATERAL (SELECT 1 FROM {schema}.{table}"
    "  WHERE originator_id = wanted.id LIMIT 1) e"
)


def existing_on_postgres(recorder: Recorder, ids: Sequence[UUID]) -> set[UUID] | None:
    """The ids among ``ids`` with stored events, in one query; None if the query failed (a
    pooled connection broken by a server restart): the caller then asks id by id, through
    the event store's own retrying reads."""
    assert isinstance(recorder, PostgresAggregateRecorder)
    try:
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(on_events_table(recorder, EXISTING), [list(dict.fromkeys(ids))])
            return {UUID(str(row["originator_id"])) for row in cursor.fetchall()}
    except (psycopg.Error, PersistenceError):
        return None


def numbered_on_postgres(recorder: Recorder, number: str) -> list[UUID]:
    """The ids of aggregates created in the store whose id begins with ``number``, in one
    query on the primary key. A failed query raises: a search must not quietly miss cases."""
    assert isinstance(recorder, PostgresAggregateRecorder)
    statement = on_events_table(
        recorder,
        "SELECT originator_id FROM {schema}.{table}"
        " WHERE originator_id BETWEEN %s AND %s AND originator_version = 1",
    )
    with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
        cursor.execute(statement, list(id_range(number)))
        return [UUID(str(row["originator_id"])) for row in cursor.fetchall()]
