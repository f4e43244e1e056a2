"""Rows of an events table, as either store's driver gives them, as eventsourcing's events;
which store a recorder writes to."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from eventsourcing.persistence import Recorder, StoredEvent


def stored_event(row: Mapping[str, object]) -> StoredEvent:
    """A row of an events table (either store's) as eventsourcing's ``StoredEvent``."""
    return StoredEvent(
        originator_id=UUID(str(row["originator_id"])),
        originator_version=int(row["originator_version"]),  # type: ignore[call-overload]
        topic=str(row["topic"]),
        state=bytes(row["state"]),  # type: ignore[call-overload]
    )


def on_postgres(recorder: Recorder) -> bool:
    """Whether ``recorder`` is (or derives from) one of eventsourcing's PostgreSQL recorders,
    told without importing psycopg (an optional install)."""
    return any(c.__module__ == "eventsourcing.postgres" for c in type(recorder).__mro__)
