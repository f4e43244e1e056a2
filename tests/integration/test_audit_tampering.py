"""Every column `ks audit verify` relies on is covered: changing any column of any row of the
event store or the audit tables, in a real SQLite file, is reported, and the finding names
the column that changed. The columns are read from the file's own schema, so a column added
later without a decision (covered, or not relied on) fails here."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from entrypoints.cli import app as cli
from ks_engine.audit import chain
from ks_engine.audit.findings import Report
from ks_engine.audit.independent import read_checkpoint_file
from ks_engine.audit.verify import Verifier
from ks_engine.bootstrap import bootstrap
from ks_engine.clock import AMSTERDAM
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.integration.audit_files import events_db
from tests.unit.test_projection_scenario import play

KEPT = "checkpoints.jsonl"
Db = sqlite3.Connection
# (table, column) -> change that row's column: f(db, key, variant) with key the row's position
Change = Callable[[Db, int, int], None]

# Columns verify reads but does not rely on: changing them changes no verdict (docs/audit.md).
NOT_RELIED_ON = {("audit_checkpoints", "published")}


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with many cases, sealed, two signed checkpoints, both exported to a file."""
    data = tmp_path_factory.mktemp("tampering") / "data"
    clock = FixedClock(datetime(2026, 11, 2, 9, 30, tzinfo=AMSTERDAM))
    engine = bootstrap(Settings(data_dir=data), clock=clock, configure_logs=False)
    play(engine.referrals, clock, seed=5, steps=30)
    engine.audit.sealer.seal_pending()
    assert engine.audit.sealer.checkpoint() is not None
    play(engine.referrals, clock, seed=6, steps=30)
    engine.audit.sealer.seal_pending()
    assert engine.audit.sealer.checkpoint() is not None
    engine.close()
    exported = CliRunner().invoke(
        cli,
        ["audit", "checkpoints", "export", "--out", str(data / KEPT)],
        env={"KS_DATA_DIR": str(data)},
    )
    assert exported.exit_code == 0, exported.output
    with sqlite3.connect(data / "events.sqlite") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return data


@contextmanager
def copy_of(sealed: Path) -> Iterator[Path]:
    """A fresh copy of the sealed store for one example."""
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(shutil.copytree(sealed, Path(tmp) / "data"))


def sql(data: Path, statement: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with events_db(data) as db:
        return list(db.execute(statement, params))


def verify(data: Path, *, kept: bool) -> Report:
    engine = bootstrap(Settings(data_dir=data), configure_logs=False)
    try:
        sources = [read_checkpoint_file(data / KEPT)] if kept else []
        key = engine.audit.signing_key.public_key()
        return Verifier(
            engine.referrals, engine.audit.chain, [key], grace_seconds=0, sources=sources
        ).verify()
    finally:
        engine.close()


def schema_columns(data: Path) -> list[tuple[str, str]]:
    """Every column of the tables verify reads, from the file's schema (the rowid too: it is
    the event's position in the log)."""
    found = [("stored_events", "rowid")]
    for table in ("stored_events", "audit_chain", "audit_checkpoints"):
        found += [(table, str(row[1])) for row in sql(data, f"PRAGMA table_info({table})")]
    return found


def other_hash(variant: int) -> str:
    return chain.sha256(f"forged {variant}".encode())


def _odd(table: str, column: str) -> object:
    """A value of another type than the column's (SQLite stores what it is given)."""
    if table == "stored_events":
        return None
    number = column in ("position", "version", "chain_format", "events", "published")
    return "not a number" if number else 12345


def _set(table: str, key: str, column: str, value: Callable[[Db, int, int], object]) -> Change:
    def change(db: Db, row: int, variant: int) -> None:
        odd = variant % 7 == 6 and column not in ("rowid", "published")
        new = _odd(table, column) if odd else value(db, row, variant)
        db.execute(f"UPDATE {table} SET {column} = ? WHERE {key} = ?", (new, row))

    return change


def _free_position(db: Db, row: int, variant: int) -> int:
    top = db.execute("SELECT MAX(rowid) FROM stored_events").fetchone()[0]
    return int(top) + 5 + variant


def _other_topic(db: Db, row: int, variant: int) -> str:
    topic = str(db.execute("SELECT topic FROM stored_events WHERE rowid = ?", (row,)).fetchone()[0])
    topics = [
        str(t)
        for (t,) in db.execute("SELECT DISTINCT topic FROM stored_events ORDER BY topic")
        if t != topic
    ]
    return ([*topics, "domain.referral:Referral.Forged"])[variant % (len(topics) + 1)]


def _flipped_state(db: Db, row: int, variant: int) -> bytes:
    state = bytearray(
        db.execute("SELECT state FROM stored_events WHERE rowid = ?", (row,)).fetchone()[0]
    )
    state[variant % len(state)] ^= 1 << (variant % 8)
    return bytes(state)


def _other_time(column: str, table: str, key: str) -> Callable[[Db, int, int], str]:
    def value(db: Db, row: int, variant: int) -> str:
        was = str(db.execute(f"SELECT {column} FROM {table} WHERE {key} = ?", (row,)).fetchone()[0])
        return was[:-6] + f"+0{variant % 10}:00" if variant % 2 else "2025-01-01T00:00:00+00:00"

    return value


CHANGES: dict[tuple[str, str], Change] = {
    ("stored_events", "rowid"): _set("stored_events", "rowid", "rowid", _free_position),
    ("stored_events", "originator_id"): _set(
        "stored_events", "rowid", "originator_id", lambda db, row, v: f"{v:032x}"
    ),
    ("stored_events", "originator_version"): _set(
        "stored_events", "rowid", "originator_version", lambda db, row, v: 1000 + v
    ),
    ("stored_events", "topic"): _set("stored_events", "rowid", "topic", _other_topic),
    ("stored_events", "state"): _set("stored_events", "rowid", "state", _flipped_state),
    ("audit_chain", "position"): _set("audit_chain", "position", "position", _free_position),
    ("audit_chain", "aggregate"): _set(
        "audit_chain",
        "position",
        "aggregate",
        lambda db, row, v: f"00000000-0000-4000-8000-{v:012x}",
    ),
    ("audit_chain", "version"): _set(
        "audit_chain", "position", "version", lambda db, r, v: 1000 + v
    ),
    ("audit_chain", "topic"): _set(
        "audit_chain", "position", "topic", lambda db, r, v: f"domain.referral:Referral.X{v}"
    ),
    **{
        ("audit_chain", column): _set(
            "audit_chain", "position", column, lambda db, r, v: other_hash(v)
        )
        for column in ("state_hash", "summary_hash", "prev_in_aggregate", "prev", "link_hash")
    },
    ("audit_chain", "sealed_at"): _set(
        "audit_chain", "position", "sealed_at", _other_time("sealed_at", "audit_chain", "position")
    ),
    ("audit_chain", "chain_format"): _set(
        "audit_chain", "position", "chain_format", lambda db, r, v: 1 if v % 2 else 3 + v
    ),
    ("audit_checkpoints", "position"): _set(
        "audit_checkpoints", "position", "position", lambda db, row, v: row - 1 - v % 3
    ),
    ("audit_checkpoints", "head"): _set(
        "audit_checkpoints", "position", "head", lambda db, r, v: other_hash(v)
    ),
    ("audit_checkpoints", "events"): _set(
        "audit_checkpoints", "position", "events", lambda db, r, v: v if v else 1_000
    ),
    ("audit_checkpoints", "signed_at"): _set(
        "audit_checkpoints",
        "position",
        "signed_at",
        _other_time("signed_at", "audit_checkpoints", "position"),
    ),
    ("audit_checkpoints", "key_fingerprint"): _set(
        "audit_checkpoints", "position", "key_fingerprint", lambda db, r, v: other_hash(v)[:16]
    ),
    ("audit_checkpoints", "signature"): _set(
        "audit_checkpoints",
        "position",
        "signature",
        lambda db, r, v: str(
            db.execute(
                "SELECT signature FROM audit_checkpoints WHERE position <> ? LIMIT 1", (r,)
            ).fetchone()[0]
        ),
    ),
    ("audit_checkpoints", "published"): _set(
        "audit_checkpoints", "position", "published", lambda db, r, v: v % 2
    ),
}

# The column as a finding names it (the field in words comes before it).
NAMED = {
    ("stored_events", "rowid"): "(the notification id)",
    ("audit_chain", "position"): "(position)",
}


def test_every_column_verify_reads_has_a_change_here(sealed: Path) -> None:
    assert sorted(schema_columns(sealed)) == sorted(CHANGES)


def rows_of(data: Path, table: str) -> list[int]:
    key = "rowid" if table == "stored_events" else "position"
    return [int(r[0]) for r in sql(data, f"SELECT {key} FROM {table} ORDER BY {key}")]  # type: ignore[call-overload]


def change_one_row(data: Path, column: tuple[str, str], pick: int, variant: int) -> int:
    """Change the ``pick``-th row of the column's table (counted round) in that column,
    directly in the file; the row's key."""
    rows = rows_of(data, column[0])
    row = rows[pick % len(rows)]
    with events_db(data) as db:
        CHANGES[column](db, row, variant)
    return row


@pytest.mark.parametrize("column", sorted(CHANGES), ids="{0[0]}.{0[1]}".format)
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pick=st.integers(min_value=0), variant=st.integers(min_value=0, max_value=41))
@example(pick=0, variant=0)  # the first row (the first event, the oldest checkpoint)
@example(pick=-1, variant=6)  # the last row, a value of another type
def test_a_change_to_any_column_is_reported_naming_the_column(
    sealed: Path, column: tuple[str, str], pick: int, variant: int
) -> None:
    table, name = column
    with copy_of(sealed) as data:
        # Given one row of the table changed in that column, directly in the file
        row = change_one_row(data, column, pick, variant)
        # When the store is verified (with and without the exported checkpoints)
        reports = {kept: verify(data, kept=kept) for kept in (False, True)}
    if column in NOT_RELIED_ON:
        # Then nothing verify relies on changed
        assert all(r.intact for r in reports.values()), reports
        return
    # Then both verifications report it, and a finding names the column that changed
    assert not reports[False].intact
    assert not reports[True].intact
    token = NAMED.get(column, f"({name})")
    kept = reports[True] if table == "audit_checkpoints" else reports[False]
    messages = [p.message for p in kept.problems]
    assert any(token in m for m in messages), (column, row, variant, messages)
    if table != "audit_checkpoints":  # the first finding is about that row or the one after
        assert kept.problems[0].position in (row, row + 1), messages
