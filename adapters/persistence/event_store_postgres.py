"""eventsourcing's PostgreSQL event store, with stored events sent to the server in binary.

eventsourcing inserts a batch of stored events as one array of its composite type
``stored_event_<id type>`` (originator id, version, topic, state). psycopg writes such an
array as text, in Python: each event's state (encrypted bytes) as hex, quoted, then every
backslash of it doubled by a regular expression, twice (for the composite, then for the
array). In a profile of the intake on PostgreSQL that was about a third of storing a batch;
the server then parsed it all back. Here the array is written in PostgreSQL's binary array
format instead (the event's bytes as they are), with what eventsourcing inserts, locks and
notifies unchanged. ``tests/integration/test_event_store_postgres.py`` reads back, through
eventsourcing's own reads, exactly what was written, for any topic, state and version.

``event_store_env`` names ``Factory`` as the persistence module on PostgreSQL.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresFactory,
)
from psycopg.adapt import Dumper
from psycopg.pq import Format
from psycopg.types.composite import CompositeInfo

FIELDS = ["originator_id", "originator_version", "topic", "state"]  # eventsourcing's type
_ARRAY_HEAD = struct.Struct("!iiIii")  # dimensions, has nulls, element type, length, lower bound
_EVENT_HEAD = struct.Struct("!iiIi16sIiqIi")  # size, fields, id (uuid), version (int8), topic
_FIELD_HEAD = struct.Struct("!Ii")  # type, length (-1: NULL)


class StoredEventsArray:
    """Stored events to be sent as one binary array parameter (``stored_events_dumper``)."""

    def __init__(self, events: Sequence[StoredEvent]) -> None:
        self.events = events


def stored_events_dumper(info: CompositeInfo) -> type[Dumper]:
    """A psycopg dumper writing ``StoredEventsArray`` as an array of the composite ``info``
    (PostgreSQL's ``array_send`` of ``record_send`` layout)."""
    uuid_oid, version_oid, topic_oid, state_oid = info.field_types

    class StoredEventsDumper(Dumper):
        format = Format.BINARY
        oid = info.array_oid

        def dump(self, obj: Any) -> bytes:
            events: Sequence[StoredEvent] = obj.events
            parts: list[bytes] = [_ARRAY_HEAD.pack(1, 0, info.oid, len(events), 1)]
            for event in events:
                topic = event.topic.encode()
                state = event.state
                size = _EVENT_HEAD.size - 4 + len(topic) + _FIELD_HEAD.size + len(state)
                parts.append(
                    _EVENT_HEAD.pack(
                        size,
                        4,
                        uuid_oid,
                        16,
                        event.originator_id.bytes,  # type: ignore[union-attr]
                        version_oid,
                        8,
                        event.originator_version,
                        topic_oid,
                        len(topic),
                    )
                )
                parts += (topic, _FIELD_HEAD.pack(state_oid, len(state)), state)
            return b"".join(parts)

    return StoredEventsDumper


class BinaryInsertRecorder(PostgresAggregateRecorder):
    """Inserts stored events as a binary array; everything else as eventsourcing does."""

    def _insert_stored_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        info = self.datastore.psycopg_type_adapters.get(self.stored_event_type_name)
        if not _binary_ready(info, self.datastore.originator_id_type):
            super()._insert_stored_events(curs, stored_events, **kwargs)
            return
        assert info is not None
        curs.adapters.register_dumper(StoredEventsArray, _dumper(info))
        curs.execute(
            query=self.insert_events_statement, params=(StoredEventsArray(stored_events),)
        )


class BinaryInsertApplicationRecorder(PostgresApplicationRecorder, BinaryInsertRecorder):
    """The application recorder (notification log): it locks and notifies, then inserts as
    ``BinaryInsertRecorder`` does."""


# The event store's statements are short lookups and inserts by key. PostgreSQL compiles a
# statement whose estimated cost passes ``jit_above_cost``, and before a table's first analysis
# its estimates can be far off: the intake's batch read of 500 ids on a table of 200,000
# events not yet analysed was estimated at 1,354,000 rows (150 came back) and took 111-203 ms,
# 65 ms of it compiling, against 1.6 ms without. Its connections run without JIT compilation.
SESSION_OPTIONS = "-c jit=off"


class Factory(PostgresFactory):
    """eventsourcing's PostgreSQL persistence with the binary insert, its connections without
    JIT compilation."""

    aggregate_recorder_class = BinaryInsertRecorder
    application_recorder_class = BinaryInsertApplicationRecorder

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        pool = self.datastore.pool  # opened at the first connection, after this
        assert isinstance(pool.kwargs, dict)  # eventsourcing gives its connection parameters
        pool.kwargs = {**pool.kwargs, "options": SESSION_OPTIONS}


_DUMPERS: dict[tuple[int, int, tuple[int, ...]], type[Dumper]] = {}


def _dumper(info: CompositeInfo) -> type[Dumper]:
    key = (info.oid, info.array_oid, tuple(info.field_types))
    if key not in _DUMPERS:
        _DUMPERS[key] = stored_events_dumper(info)
    return _DUMPERS[key]


def _binary_ready(info: CompositeInfo | None, id_type: str) -> bool:
    """Whether the composite is eventsourcing's, with UUID ids, as this dumper writes it."""
    return info is not None and id_type == "uuid" and list(info.field_names) == FIELDS
