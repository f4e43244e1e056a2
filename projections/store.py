"""The read models' database interface and their tracking table (checkpoints).

A projection applies a batch of events and stores its checkpoint (the last applied stream
sequence, and the highest notification-log position it has seen through) in one
transaction; an event at or below the checkpoint is skipped, so a redelivery never doubles
an update, and an event after a gap is refused, so none is ever lost.

SQL here and in the view modules uses ``?`` placeholders and portable statements
(``INSERT ... ON CONFLICT ... DO UPDATE``, row-value comparisons), so a PostgreSQL
implementation of :class:`ViewDatabase` only has to translate the placeholders.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol, runtime_checkable

import orjson
from pydantic import BaseModel

from projections.errors import ProjectionError
from projections.event import OtherMessage, ReferralEvent

Row = tuple[Any, ...]
Writes = list[tuple[str, list[Row]]]  # statements and their rows, in order: a folded batch


class Folded(NamedTuple):
    """A batch folded for one view: the statements that write it, and the document each case
    of the batch has once they ran (None: the view holds no row for it), which is what a
    later batch folds from."""

    writes: Writes
    docs: dict[str, str | None]


class Transaction(Protocol):
    """Statements inside one database transaction."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """One statement for each row, in order."""
        ...

    def columns(self, table: str) -> set[str]:
        """The names of ``table``'s columns (empty when there is no such table)."""
        ...


class ViewDatabase(Protocol):
    """Where the read models live. Implementations raise ViewDatabaseError on failure."""

    def transaction(
        self, scope: str | Sequence[str] | None = None
    ) -> AbstractContextManager[Transaction]:
        """A write transaction: committed when the block ends, rolled back on an error.

        Writers of one ``scope`` (a projection's name: its tables and checkpoint row) queue
        behind each other; a writer of several scopes behind the writers of each; an
        unscoped writer (creating tables, emptying a view) behind all.
        """
        ...

    def read(self) -> AbstractContextManager[Transaction]:
        """A read-only snapshot for queries."""
        ...


class Projection(Protocol):
    """Pure event -> row logic of one read model, applied inside a transaction."""

    name: str

    def create_tables(self, tx: Transaction) -> None: ...

    def clear(self, tx: Transaction) -> None: ...

    def apply_all(self, tx: Transaction, events: Sequence[ReferralEvent]) -> None:
        """Apply consecutive events (stream order) as if one by one: each case's row is read
        once, folded in memory and written once."""
        ...


_KEYS_PER_QUERY = 500


@runtime_checkable
class FoldingProjection(Projection, Protocol):
    """A projection whose batch can be folded apart from its database (in another process):
    from the stored documents of the batch's cases to the statements that write the result."""

    select: str  # ``SELECT key, doc FROM table WHERE key IN ({})``

    def fold(self, stored: Mapping[str, str], events: Sequence[ReferralEvent]) -> Folded: ...


def write(tx: Transaction, writes: Writes) -> None:
    """Run a folded batch's statements in order."""
    for sql, rows in writes:
        if rows:
            tx.executemany(sql, rows)


def apply_folded(
    tx: Transaction, projection: FoldingProjection, events: Sequence[ReferralEvent]
) -> None:
    """``apply_all`` of a folding projection: read, fold and write in this transaction."""
    stored = documents_by_key(tx, projection.select, stored_before(events))
    write(tx, projection.fold(stored, events).writes)


def stored_before(events: Sequence[ReferralEvent]) -> list[str]:
    """The cases of ``events`` that a view may hold a row of before them: every case but those
    whose first event here is the case's first (version 1, the event that opens it). A view's
    rows are written only from its case's own events, so an opened case has none yet, and its
    document is not asked for (most new signals open a case)."""
    return cases_held_before((e.case_id, e.version) for e in events)


def cases_held_before(versions: Iterable[tuple[str, int]]) -> list[str]:
    """``stored_before`` of the events with these (case, version) pairs, in stream order."""
    first: dict[str, int] = {}
    for case_id, version in versions:
        first.setdefault(case_id, version)
    return [case_id for case_id, version in first.items() if version != 1]


def add_columns(tx: Transaction, table: str, added: Mapping[str, str]) -> list[str]:
    """Add the columns of ``added`` (name -> type) that ``table`` lacks, made before they
    existed; returns the names added, so the caller can fill them from its documents."""
    present = tx.columns(table)
    missing = [name for name in added if name not in present]
    for name in missing:
        tx.execute(f"ALTER TABLE {table} ADD COLUMN {name} {added[name]}")  # fixed names
    return missing


def documents_by_key(tx: Transaction, select: str, keys: Iterable[str]) -> dict[str, str]:
    """``select`` is ``SELECT key, doc FROM table WHERE key IN ({})``: the stored document of
    each of ``keys`` that has one, asked for a few hundred keys at a time."""
    wanted = list(dict.fromkeys(keys))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), _KEYS_PER_QUERY):
        chunk = wanted[start : start + _KEYS_PER_QUERY]
        found.update(tx.fetchall(select.format(",".join("?" * len(chunk))), chunk))
    return found


def plain(model: type[BaseModel], doc: str | bytes) -> dict[str, Any]:
    """A stored document as the plain JSON values a projection folds. One written before a
    field of ``model`` existed is read through the model, which fills in that field."""
    values: dict[str, Any] = orjson.loads(doc)
    if len(values) != len(model.model_fields):
        values = model.model_validate(values).model_dump(mode="json")
    return values


@dataclass(frozen=True)
class Checkpoint:
    """How far a projection has applied the stream."""

    name: str
    seq: int = 0
    position: int = 0
    updated_at: str | None = None


@dataclass(frozen=True)
class BatchOutcome:
    """What one batch did: applied, skipped as already applied, and where a gap stopped it."""

    applied: int
    skipped: int
    checkpoint: Checkpoint
    gap_after: int | None = None


_DDL = (
    "CREATE TABLE IF NOT EXISTS projection_checkpoint ("
    " name TEXT PRIMARY KEY,"
    " stream_seq BIGINT NOT NULL,"
    " position BIGINT NOT NULL,"
    " updated_at TEXT NOT NULL)"
)


def install(db: ViewDatabase, projections: Iterable[Projection]) -> None:
    """Create the tracking table and every projection's tables (idempotent)."""
    with db.transaction() as tx:
        tx.execute(_DDL)
        for p in projections:
            p.create_tables(tx)


def read_checkpoint(tx: Transaction, name: str) -> Checkpoint:
    row = tx.fetchone(
        "SELECT stream_seq, position, updated_at FROM projection_checkpoint WHERE name = ?",
        (name,),
    )
    return Checkpoint(name) if row is None else Checkpoint(name, int(row[0]), int(row[1]), row[2])


def checkpoints(db: ViewDatabase, names: Iterable[str]) -> list[Checkpoint]:
    """The checkpoint of each named projection (zero when it has applied nothing)."""
    with db.read() as tx:
        return [read_checkpoint(tx, n) for n in names]


def _write_checkpoint(tx: Transaction, cp: Checkpoint) -> None:
    tx.execute(
        "INSERT INTO projection_checkpoint (name, stream_seq, position, updated_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
        " stream_seq = excluded.stream_seq, position = excluded.position,"
        " updated_at = excluded.updated_at",
        (cp.name, cp.seq, cp.position, cp.updated_at),
    )


def apply_batch(
    db: ViewDatabase, projection: Projection, events: Sequence[ReferralEvent | OtherMessage]
) -> BatchOutcome:
    """Apply the events after the checkpoint, in stream order, with the new checkpoint.

    Other messages (audit checkpoints) are passed by: the checkpoint moves past them. Only
    this projection's writers queue behind it: it writes its own tables and checkpoint row."""
    with db.transaction(scope=projection.name) as tx:
        return _apply(tx, projection, sorted(events, key=lambda e: e.seq))


def apply_batches(
    db: ViewDatabase,
    projections: Sequence[Projection],
    events: Sequence[ReferralEvent | OtherMessage],
) -> list[BatchOutcome]:
    """:func:`apply_batch` for each projection (each from its own checkpoint), all in one
    transaction: the writers of any of these projections queue behind it."""
    ordered = sorted(events, key=lambda e: e.seq)
    with db.transaction(scope=[p.name for p in projections]) as tx:
        return [_apply(tx, projection, ordered) for projection in projections]


def _apply(
    tx: Transaction, projection: Projection, events: Sequence[ReferralEvent | OtherMessage]
) -> BatchOutcome:
    """Apply ``events`` (in stream order) after the projection's checkpoint, and store it."""
    start = read_checkpoint(tx, projection.name)
    seq, position = start.seq, start.position
    skipped = 0
    gap_after: int | None = None
    todo: list[ReferralEvent] = []
    for event in events:
        if event.seq <= seq:
            skipped += 1
            continue
        if event.seq != seq + 1:
            gap_after = seq
            break
        seq = event.seq
        if isinstance(event, ReferralEvent):
            todo.append(event)
            position = max(position, event.through)
    applied = len(todo)
    if todo:
        projection.apply_all(tx, todo)
    if seq == start.seq:
        return BatchOutcome(0, skipped, start, gap_after)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    done = Checkpoint(projection.name, seq, position, stamp)
    _write_checkpoint(tx, done)
    return BatchOutcome(applied, skipped, done, gap_after)


def apply_writes(
    db: ViewDatabase, name: str, seqs: range, through: int, writes: Iterable[Writes]
) -> Checkpoint:
    """Write a batch folded elsewhere (stream messages ``seqs``, the log seen ``through``) with
    its checkpoint, in one transaction; ProjectionError unless it follows the checkpoint."""
    with db.transaction(scope=name) as tx:
        start = read_checkpoint(tx, name)
        if seqs.start != start.seq + 1:
            raise ProjectionError(
                f"read model {name} stands at stream message {start.seq}; a batch from "
                f"{seqs.start} does not follow it"
            )
        for part in writes:
            write(tx, part)
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        done = Checkpoint(name, seqs[-1], max(start.position, through), stamp)
        _write_checkpoint(tx, done)
    return done


def reset(db: ViewDatabase, projection: Projection) -> None:
    """Empty the view and its checkpoint together, for a rebuild from the stream's start."""
    with db.transaction() as tx:
        tx.execute(_DDL)
        projection.create_tables(tx)
        projection.clear(tx)
        tx.execute("DELETE FROM projection_checkpoint WHERE name = ?", (projection.name,))


def reached(db: ViewDatabase, position: int, names: Iterable[str]) -> bool:
    """Whether every named projection has applied the log up to ``position``."""
    return all(cp.position >= position for cp in checkpoints(db, names))


def wait_for_position(
    db: ViewDatabase, position: int, names: Iterable[str], *, timeout: float, poll: float = 0.05
) -> bool:
    """Block until the projections reached ``position`` or ``timeout`` seconds passed."""
    wanted = list(names)
    deadline = time.monotonic() + max(0.0, timeout)
    while not reached(db, position, wanted):
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll)
    return True


async def wait_for_position_async(
    db: ViewDatabase, position: int, names: Iterable[str], *, timeout: float, poll: float = 0.05
) -> bool:
    """The same as :func:`wait_for_position`, for async callers."""
    wanted = list(names)
    deadline = time.monotonic() + max(0.0, timeout)
    while not await asyncio.to_thread(reached, db, position, wanted):
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(poll)
    return True
