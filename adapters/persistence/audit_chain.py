"""The audit chain's tables (``audit_chain``, ``audit_checkpoints``) beside the event store.

Positions are the event store's notification ids, so a link names exactly the stored event it
seals. Appending checks, in the same transaction, that the chain's head is still the one the
links were computed after: two sealers never fork the chain.

A link is looked up by its aggregate and version only to find the link an aggregate's next
version follows. Where the chain shares its database with the event store (an SQLite file,
PostgreSQL) that goes through the events' own primary key: the event's notification id is the
link's position (``EventsTable``). The chain then keeps no index by aggregate, whose random
entries cost each sealed event a page written of its own once the chain is large. The chain
beside an in-memory event store keeps that index (``FOLLOWED``).

``chain_format`` says which fields a link's hash covers (``ks_engine.audit.chain``). Tables
made before it existed get the column on opening, with format 1 for the links they hold:
those links keep verifying as they were sealed; new links are sealed in the current format.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from adapters.persistence.audit_tables import AuditDatabase, DuplicateRowError, Row, Transaction
from ks_engine.access_log import RECORDED_TOPIC
from ks_engine.audit.chain import Checkpoint, Head, Link

# An access-log entry is an aggregate of one event, never followed: no lookup by aggregate
# finds its link. The chain's own index by aggregate (beside an in-memory event store) leaves
# those links out, and every lookup through it says the same condition, word for word, so the
# database can use the index.
assert "'" not in RECORDED_TOPIC
FOLLOWED = f"topic <> '{RECORDED_TOPIC}'"

TABLES = (
    "CREATE TABLE IF NOT EXISTS audit_chain ("
    " position BIGINT PRIMARY KEY,"
    " aggregate TEXT NOT NULL,"
    " version BIGINT NOT NULL,"
    " topic TEXT NOT NULL,"
    " state_hash TEXT NOT NULL,"
    " summary_hash TEXT NOT NULL,"
    " prev_in_aggregate TEXT NOT NULL,"
    " prev TEXT NOT NULL,"
    " link_hash TEXT NOT NULL,"
    " sealed_at TEXT NOT NULL,"
    " chain_format BIGINT NOT NULL DEFAULT 1)",
    "CREATE TABLE IF NOT EXISTS audit_checkpoints ("
    " position BIGINT PRIMARY KEY,"
    " head TEXT NOT NULL,"
    " events BIGINT NOT NULL,"
    " signed_at TEXT NOT NULL,"
    " key_fingerprint TEXT NOT NULL,"
    " signature TEXT NOT NULL,"
    " published BIGINT NOT NULL DEFAULT 0)",
)
_OLD_INDEX = "DROP INDEX IF EXISTS audit_chain_aggregate"  # every link, before FOLLOWED
INDEX_BY_AGGREGATE = (
    _OLD_INDEX,
    "CREATE INDEX IF NOT EXISTS audit_chain_followed ON audit_chain (aggregate, version)"
    f" WHERE {FOLLOWED}",
)
NO_INDEX_BY_AGGREGATE = (_OLD_INDEX, "DROP INDEX IF EXISTS audit_chain_followed")
_LINK_COLUMNS = (
    "position, aggregate, version, topic, state_hash, summary_hash, prev_in_aggregate, prev,"
    " link_hash, sealed_at, chain_format"
)
_CHECKPOINT_COLUMNS = "position, head, events, signed_at, key_fingerprint, signature"
# Statements built once from the fixed column lists above (no outside input reaches them).
_INSERT_LINK = f"INSERT INTO audit_chain ({_LINK_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)"  # noqa: S608
_SELECT_LINKS = f"SELECT {_LINK_COLUMNS} FROM audit_chain"  # noqa: S608
LINK_OF = (
    f"{_SELECT_LINKS} WHERE aggregate = ? AND version = ? AND {FOLLOWED} ORDER BY position LIMIT 1"
)


def links_of_query(pairs: int) -> str:
    """The links of ``pairs`` (aggregate, version) pairs, FOLLOWED said in every alternative
    (SQLite searches the index for each only so)."""
    where = " OR ".join([f"(aggregate = ? AND version = ? AND {FOLLOWED})"] * pairs)
    return f"{_SELECT_LINKS} WHERE {where} ORDER BY position"


@dataclass(frozen=True)
class EventsTable:
    """The event store's table in the chain's own database, and how it names an event."""

    name: str  # as SQL names it: quoted (and qualified by its schema on PostgreSQL)
    dialect: str  # "sqlite" (ids as 32 hexadecimal digits, rowid) or "postgres" (uuid)

    def id_param(self, aggregate: str) -> object | None:
        """``aggregate`` as the table keeps originator ids; None when it is no UUID."""
        try:
            uuid = UUID(aggregate)
        except ValueError:
            return None
        return uuid.hex if self.dialect == "sqlite" else uuid

    def links_query(self, pairs: int) -> str:
        """The links of the events of ``pairs`` (originator id, version) pairs, joined on
        the event's notification id: a search of the events' primary key, then of the
        chain's, for each pair (FOLLOWED: an access-log entry is never followed).

        On PostgreSQL each event's link is read in a ``LATERAL`` subquery (kept by its
        ``LIMIT``): as a plain join, a chain not yet analysed was read whole and hashed
        (see ``read_many_postgres``)."""
        where = " OR ".join(["(e.originator_id = ? AND e.originator_version = ?)"] * pairs)
        if self.dialect == "sqlite":
            return (
                f"SELECT {_JOINED_COLUMNS}, e.originator_id, e.originator_version"  # noqa: S608
                f" FROM {self.name} e"  # the table's name from the recorder, values bound
                f" JOIN audit_chain c ON c.position = e.rowid"
                f" WHERE ({where}) AND c.{FOLLOWED}"
            )
        return (
            f"SELECT {_JOINED_COLUMNS}, e.originator_id, e.originator_version"  # noqa: S608
            f" FROM {self.name} e"  # the table's name from the recorder, values bound
            f" CROSS JOIN LATERAL ({_SELECT_LINKS} a"
            f"  WHERE a.position = e.notification_id AND a.{FOLLOWED} LIMIT 1) c"
            f" WHERE {where}"
        )


def quoted(*names: str) -> str:
    """An SQL name from its parts (schema, table), each quoted."""
    return ".".join('"' + name.replace('"', '""') + '"' for name in names)


_JOINED_COLUMNS = ", ".join("c." + column.strip() for column in _LINK_COLUMNS.split(","))
_PAIRS_PER_QUERY = 200  # two parameters each, well within SQLite's and PostgreSQL's limits
_INSERT_CHECKPOINT = f"INSERT INTO audit_checkpoints ({_CHECKPOINT_COLUMNS}) VALUES (?,?,?,?,?,?)"  # noqa: S608
_SELECT_CHECKPOINTS = f"SELECT {_CHECKPOINT_COLUMNS} FROM audit_checkpoints"  # noqa: S608


def _add_chain_format(tx: Transaction, dialect: str) -> None:
    """Give a chain made before chain formats its ``chain_format`` column (1 for its links)."""
    add = "ALTER TABLE audit_chain ADD COLUMN chain_format BIGINT NOT NULL DEFAULT 1"
    if dialect == "postgres":
        tx.execute(add.replace("ADD COLUMN", "ADD COLUMN IF NOT EXISTS"))
        return
    columns = {str(row[1]) for row in tx.fetchall("PRAGMA table_info(audit_chain)")}
    if "chain_format" not in columns:
        tx.execute(add)


def _int(value: object) -> int:
    """A number column's value; -1 when it holds something else (put there directly): never a
    valid value, so the seal's hash or the checkpoint's signature fails and says so."""
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        return -1


def _link(row: Row) -> Link:
    return Link(
        position=_int(row[0]),
        aggregate=str(row[1]),
        version=_int(row[2]),
        topic=str(row[3]),
        state_hash=str(row[4]),
        summary_hash=str(row[5]),
        prev_in_aggregate=str(row[6]),
        prev=str(row[7]),
        link_hash=str(row[8]),
        sealed_at=str(row[9]),
        chain_format=_int(row[10]),
    )


def _checkpoint(row: Row) -> Checkpoint:
    return Checkpoint(
        position=_int(row[0]),
        head=str(row[1]),
        events=_int(row[2]),
        signed_at=str(row[3]),
        key_fingerprint=str(row[4]),
        signature=str(row[5]),
    )


class SqlChainStore:
    """A ChainStore on the audit tables' database (SQLite file, memory or PostgreSQL)."""

    def __init__(self, db: AuditDatabase, events: EventsTable | None = None) -> None:
        """``events``: the event store's table when ``db`` holds it, so links are found
        through the events' index; None (an in-memory event store): the chain's own index."""
        self.db, self.events = db, events
        with db.transaction(write=True) as tx:
            for statement in TABLES:
                tx.execute(statement)
            for statement in INDEX_BY_AGGREGATE if events is None else NO_INDEX_BY_AGGREGATE:
                tx.execute(statement)
            _add_chain_format(tx, db.dialect)

    def head(self) -> Head | None:
        with self.db.transaction(write=False) as tx:
            row = self._newest(tx)
        return None if row is None else Head(_int(row[0]), str(row[1]))

    def count(self, upto: int | None = None) -> int:
        with self.db.transaction(write=False) as tx:
            if upto is None:
                row = tx.fetchone("SELECT COUNT(*) FROM audit_chain")
            else:
                row = tx.fetchone("SELECT COUNT(*) FROM audit_chain WHERE position <= ?", (upto,))
        return 0 if row is None else int(row[0])

    @staticmethod
    def _newest(tx: Transaction) -> Row | None:
        return tx.fetchone(
            "SELECT position, link_hash FROM audit_chain ORDER BY position DESC LIMIT 1"
        )

    def append(self, links: Sequence[Link], after: Head | None) -> None:
        with self.db.transaction(write=True) as tx:
            newest = self._newest(tx)
            if (None if newest is None else Head(_int(newest[0]), str(newest[1]))) != after:
                raise DuplicateRowError("the chain was extended by another sealer meanwhile")
            tx.executemany(
                _INSERT_LINK,
                [
                    (
                        link.position,
                        link.aggregate,
                        link.version,
                        link.topic,
                        link.state_hash,
                        link.summary_hash,
                        link.prev_in_aggregate,
                        link.prev,
                        link.link_hash,
                        link.sealed_at,
                        link.chain_format,
                    )
                    for link in links
                ],
            )

    def links(self, start: int, limit: int) -> list[Link]:
        with self.db.transaction(write=False) as tx:
            rows = tx.fetchall(
                _SELECT_LINKS + " WHERE position >= ? ORDER BY position LIMIT ?",
                (start, limit),
            )
        return [_link(r) for r in rows]

    def link_of(self, aggregate: str, version: int) -> Link | None:
        if self.events is not None:
            return self.links_of([(aggregate, version)]).get((aggregate, version))
        with self.db.transaction(write=False) as tx:
            row = tx.fetchone(LINK_OF, (aggregate, version))
        return None if row is None else _link(row)

    def links_of(self, wanted: Sequence[tuple[str, int]]) -> dict[tuple[str, int], Link]:
        found: dict[tuple[str, int], Link] = {}
        pairs = sorted(set(wanted))
        if not pairs:
            return found
        if self.events is not None:
            return self._links_by_events(self.events, pairs)
        with self.db.transaction(write=False) as tx:
            for start in range(0, len(pairs), _PAIRS_PER_QUERY):
                chunk = pairs[start : start + _PAIRS_PER_QUERY]
                rows = tx.fetchall(
                    links_of_query(len(chunk)), [value for pair in chunk for value in pair]
                )
                for row in rows:  # as link_of: the first by position, should a pair repeat
                    link = _link(row)
                    found.setdefault((link.aggregate, link.version), link)
        return found

    def _links_by_events(
        self, events: EventsTable, pairs: list[tuple[str, int]]
    ) -> dict[tuple[str, int], Link]:
        """The links sealing the events of ``pairs``, each of which must also name that very
        aggregate and version: a link that names another is no link of the pair."""
        by_event: dict[tuple[object, int], list[tuple[str, int]]] = {}
        for pair in pairs:  # two spellings of one UUID name one event
            by_event.setdefault((events.id_param(pair[0]), pair[1]), []).append(pair)
        keys = [key for key in by_event if key[0] is not None]
        found: dict[tuple[str, int], Link] = {}
        with self.db.transaction(write=False) as tx:
            for start in range(0, len(keys), _PAIRS_PER_QUERY):
                chunk = keys[start : start + _PAIRS_PER_QUERY]
                params = [value for key in chunk for value in key]
                for row in tx.fetchall(events.links_query(len(chunk)), params):
                    link = _link(row[:-2])
                    if (link.aggregate, link.version) in by_event.get((row[-2], row[-1]), []):
                        found[(link.aggregate, link.version)] = link
        return found

    def checkpoints(self) -> list[Checkpoint]:
        with self.db.transaction(write=False) as tx:
            rows = tx.fetchall(_SELECT_CHECKPOINTS + " ORDER BY position")
        return [_checkpoint(r) for r in rows]

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        with self.db.transaction(write=True) as tx:
            tx.execute(
                _INSERT_CHECKPOINT,
                (
                    checkpoint.position,
                    checkpoint.head,
                    checkpoint.events,
                    checkpoint.signed_at,
                    checkpoint.key_fingerprint,
                    checkpoint.signature,
                ),
            )

    def unpublished_checkpoints(self) -> list[Checkpoint]:
        with self.db.transaction(write=False) as tx:
            rows = tx.fetchall(_SELECT_CHECKPOINTS + " WHERE published = 0 ORDER BY position")
        return [_checkpoint(r) for r in rows]

    def mark_published(self, position: int) -> None:
        with self.db.transaction(write=True) as tx:
            tx.execute("UPDATE audit_checkpoints SET published = 1 WHERE position = ?", (position,))


def events_table(recorder: object, db: AuditDatabase) -> EventsTable | None:
    """The event store's table when ``recorder`` keeps it in ``db``'s database: an SQLite
    file's, or PostgreSQL (the audit tables are on the event store's server and schema).
    None otherwise: an in-memory event store."""
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    if isinstance(recorder, SQLiteApplicationRecorder):
        pool = recorder.datastore.pool
        path = getattr(db, "path", None)
        if pool.is_sqlite_memory_mode or path is None:
            return None
        if Path(pool.db_name).resolve() != Path(path).resolve():
            return None
        return EventsTable(quoted(recorder.events_table_name), "sqlite")
    if db.dialect != "postgres":
        return None
    from eventsourcing.postgres import PostgresApplicationRecorder  # PostgreSQL configured

    if isinstance(recorder, PostgresApplicationRecorder):
        table = quoted(recorder.datastore.schema, recorder.events_table_name)
        return EventsTable(table, "postgres")
    return None
