"""The batch existence query of ``existing`` on eventsourcing's PostgreSQL recorder."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import psycopg
from eventsourcing.persistence import PersistenceError, Recorder
from eventsourcing.postgres import PostgresAggregateRecorder
from psycopg.sql import SQL, Identifier

from domain.case_lookup import id_range


def existing_on_postgres(recorder: Recorder, ids: Sequence[UUID]) -> set[UUID] | None:
    """The ids among ``ids`` with stored events, in one query; None if the query failed (a
    pooled connection broken by a server restart): the caller then asks id by id, through
    the event store's own retrying reads."""
    assert isinstance(recorder, PostgresAggregateRecorder)
    statement = SQL(
        "SELECT DISTINCT originator_id FROM {schema}.{table} WHERE originator_id = ANY(%s)"
    ).format(
        schema=Identifier(recorder.datastore.schema),
        table=Identifier(recorder.events_table_name),
    )
    try:
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(statement, [list(dict.fromkeys(ids))])
            return {UUID(str(row["originator_id"])) for row in cursor.fetchall()}
    except (psycopg.Error, PersistenceError):
        return None


def numbered_on_postgres(recorder: Recorder, number: str) -> list[UUID]:
    """The ids of aggregates created in the store whose id begins with ``number``, in one
    query on the primary key. A failed query raises: a search must not quietly miss cases."""
    assert isinstance(recorder, PostgresAggregateRecorder)
    statement = SQL(
        "SELECT originator_id FROM {schema}.{table}"
        " WHERE originator_id BETWEEN %s AND %s AND originator_version = 1"
    ).format(
        schema=Identifier(recorder.datastore.schema),
        table=Identifier(recorder.events_table_name),
    )
    with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
        cursor.execute(statement, list(id_range(number)))
        return [UUID(str(row["originator_id"])) for row in cursor.fetchall()]
