"""Checkpoints kept outside the database, on a real SQLite store without NATS: `ks audit
checkpoints export` appends them to a file; `ks audit verify --checkpoints FILE` finds the
newest events removed together with their seals and checkpoints, and says with exit code 3
when it had nothing kept outside the database to compare with. And chains sealed before
chain formats keep verifying."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entrypoints.cli import app as cli
from ks_engine.audit import chain, signing
from ks_engine.bootstrap import bootstrap
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.integration.audit_files import edit, events_db
from tests.unit.test_projection_scenario import play


def ks(data: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={"KS_DATA_DIR": str(data), "KS_NATS_URL": ""})
    return result.exit_code, result.output


def grow(data: Path, clock: FixedClock, seed: int) -> int:
    """Store cases, seal them and sign a checkpoint, as `ks run` does; the newest position."""
    engine = bootstrap(Settings(data_dir=data), clock=clock, configure_logs=False)
    try:
        play(engine.referrals, clock, seed=seed, steps=20)
        engine.audit.sealer.seal_pending()
        assert engine.audit.sealer.checkpoint() is not None
        return int(engine.referrals.recorder.max_notification_id() or 0)
    finally:
        engine.close()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_truncation_without_nats_is_found_through_an_exported_checkpoints_file(
    data: Path, clock: FixedClock, tmp_path: Path
) -> None:
    kept = tmp_path / "elsewhere" / "checkpoints.jsonl"
    kept.parent.mkdir()
    # Given checkpoints exported to a file after each of two checkpoints
    grow(data, clock, seed=21)
    assert ks(data, "audit", "checkpoints", "export", "--out", str(kept))[0] == 0
    first_line = kept.read_text().splitlines()[0]
    top = grow(data, clock, seed=22)
    code, out = ks(data, "audit", "checkpoints", "export", "--out", str(kept))
    assert code == 0, out
    assert "1 checkpoints appended" in out
    assert "1 were there already" in out
    lines = kept.read_text().splitlines()
    assert len(lines) == 2
    assert lines[0] == first_line
    assert json.loads(lines[1])["position"] == top
    # When the newest events are removed with their seals and every stored checkpoint
    edit(
        data,
        f"DELETE FROM stored_events WHERE rowid > {top - 3}",
        f"DELETE FROM audit_chain WHERE position > {top - 3}",
        "DELETE FROM audit_checkpoints",
    )
    # Then the database alone cannot tell, and verify says it compared with nothing (exit 3)
    code, out = ks(data, "audit", "verify", "--grace", "0")
    assert code == 3, out
    assert "Audit trail intact" in out
    assert "NOT COMPARED with any checkpoint kept outside the database" in out
    # But the exported file shows what was removed
    code, out = ks(data, "audit", "verify", "--grace", "0", "--checkpoints", str(kept))
    assert code == 1, out
    assert f"kept in checkpoints file {kept}, is missing from the store: it was removed" in out
    assert f"covers {top} events up to position {top}" in out
    assert f"the chain now ends at position {top - 3}" in out


def test_verify_exits_3_when_no_checkpoint_kept_elsewhere_could_be_compared(
    data: Path, clock: FixedClock, tmp_path: Path
) -> None:
    top = grow(data, clock, seed=23)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    # No NATS and no file; or a file that holds no checkpoint: exit 3, said in words
    for args in ([], ["--checkpoints", str(empty)]):
        code, out = ks(data, "audit", "verify", "--grace", "0", *args)
        assert code == 3, out
        assert f"Audit trail intact: {top} events verified" in out
        assert "NOT COMPARED" in out
        assert "Exit code 3" in out
    # With the checkpoints exported: exit 0, and how far the kept copy reaches
    kept = tmp_path / "kept.jsonl"
    assert ks(data, "audit", "checkpoints", "export", "--out", str(kept))[0] == 0
    code, out = ks(data, "audit", "verify", "--grace", "0", "--checkpoints", str(kept))
    assert code == 0, out
    assert f"Newest checkpoint kept outside the database: position {top}" in out
    # A file that cannot be read is a usage error (exit 2), not a verdict
    code, out = ks(data, "audit", "verify", "--checkpoints", str(tmp_path / "nowhere.jsonl"))
    assert code == 2, out
    assert "cannot read checkpoints file" in out
    # The help documents every exit code
    code, out = ks(data, "audit", "verify", "--help")
    assert code == 0
    flat = " ".join(out.split())
    for meaning in (
        "0 intact, and compared with at least one checkpoint kept outside the database",
        "1 the history was altered",
        "2 a usage error",
        "3 intact as far as the database shows, but no checkpoint kept outside it",
    ):
        assert meaning in flat, flat


def test_export_refuses_to_append_a_checkpoint_that_differs_from_the_files(
    data: Path, clock: FixedClock, tmp_path: Path
) -> None:
    kept = tmp_path / "kept.jsonl"
    top = grow(data, clock, seed=24)
    assert ks(data, "audit", "checkpoints", "export", "--out", str(kept))[0] == 0
    before = kept.read_bytes()
    # Given the stored checkpoint replaced by one re-signed with another key
    forger = signing.load_signing_key("A" * 43 + "=")
    edit(
        data,
        f"UPDATE audit_checkpoints SET key_fingerprint = "
        f"'{signing.fingerprint(forger.public_key())}',"
        f" signature = '{signing.sign(forger, b'x')}' WHERE position = {top}",
    )
    # Then export appends nothing, says why, and exits 1
    code, out = ks(data, "audit", "checkpoints", "export", "--out", str(kept))
    assert code == 1, out
    assert f"NOT appended: the stored checkpoint for position {top} is not validly signed" in out
    assert kept.read_bytes() == before


def test_lines_of_a_checkpoints_file_that_are_no_checkpoints_are_reported(
    data: Path, clock: FixedClock, tmp_path: Path
) -> None:
    kept = tmp_path / "kept.jsonl"
    grow(data, clock, seed=25)
    assert ks(data, "audit", "checkpoints", "export", "--out", str(kept))[0] == 0
    with kept.open("a") as f:
        f.write('{"format": "something else"}\n[1, 2]\n')
    code, out = ks(data, "audit", "verify", "--grace", "0", "--checkpoints", str(kept))
    assert code == 1, out
    assert f"Line 2 of checkpoints file {kept} is not a checkpoint of ks-engine" in out
    assert f"line 3 of checkpoints file {kept} is not a checkpoint" in out.lower()
    # And export says so too (exit 1), still appending what is new
    code, out = ks(data, "audit", "checkpoints", "export", "--out", str(kept))
    assert code == 1, out
    assert f"Line 3 of checkpoints file {kept} is not a checkpoint of ks-engine" in out
    # And an export after a line cut off halfway starts a line of its own
    kept.write_text(kept.read_text().splitlines()[0][:-5])
    grow(data, clock, seed=26)
    code, out = ks(data, "audit", "checkpoints", "export", "--out", str(kept))
    assert code == 1, out  # the cut-off line is no checkpoint, and said so
    assert "2 checkpoints appended" in out
    assert json.loads(kept.read_text().splitlines()[-1])["format"] == chain.CHECKPOINT_FORMAT


def to_chain_format_1(data: Path) -> None:
    """Rewrite the chain as an engine sealed it before chain formats: links hashed without
    their time and format, no chain_format column, checkpoints signed over those hashes."""
    engine = bootstrap(Settings(data_dir=data), configure_logs=False)
    key = engine.audit.signing_key
    engine.close()
    with events_db(data) as db:
        links = db.execute(
            "SELECT position, aggregate, version, topic, state_hash, summary_hash"
            " FROM audit_chain ORDER BY position"
        ).fetchall()
        prev, latest = chain.GENESIS, {}
        for position, aggregate, version, topic, state_hash, summary_hash in links:
            in_aggregate = latest.get(aggregate, chain.GENESIS)
            body = chain.body_hash(
                aggregate=aggregate,
                version=version,
                topic=topic,
                state_hash=state_hash,
                summary_hash=summary_hash,
                prev_in_aggregate=in_aggregate,
                chain_format=1,
            )
            link_hash = chain.link_hash(position, prev, body)
            db.execute(
                "UPDATE audit_chain SET prev_in_aggregate = ?, prev = ?, link_hash = ?"
                " WHERE position = ?",
                (in_aggregate, prev, link_hash, position),
            )
            prev = latest[aggregate] = link_hash
        for position, events, signed_at in db.execute(
            "SELECT position, events, signed_at FROM audit_checkpoints"
        ).fetchall():
            head = db.execute(
                "SELECT link_hash FROM audit_chain WHERE position = ?", (position,)
            ).fetchone()[0]
            message = chain.checkpoint_message(position, head, events, signed_at)
            db.execute(
                "UPDATE audit_checkpoints SET head = ?, signature = ? WHERE position = ?",
                (head, signing.sign(key, message), position),
            )
        db.execute("ALTER TABLE audit_chain DROP COLUMN chain_format")


def test_a_chain_sealed_before_chain_formats_keeps_verifying_and_grows_in_format_2(
    data: Path, clock: FixedClock, tmp_path: Path
) -> None:
    # Given a store whose chain was sealed before chain formats existed
    old_top = grow(data, clock, seed=27)
    to_chain_format_1(data)
    kept = tmp_path / "kept.jsonl"
    # When the engine opens it and seals more events
    new_top = grow(data, clock, seed=28)
    formats = dict(
        sqlite3.connect(data / "events.sqlite")
        .execute("SELECT chain_format, MAX(position) FROM audit_chain GROUP BY chain_format")
        .fetchall()
    )
    # Then the old links are format 1, the new ones format 2, and the whole chain verifies
    assert formats == {1: old_top, 2: new_top}
    assert ks(data, "audit", "checkpoints", "export", "--out", str(kept))[0] == 0
    code, out = ks(data, "audit", "verify", "--grace", "0", "--checkpoints", str(kept))
    assert code == 0, out
    assert f"{new_top} events verified" in out
    # And an old seal's time, which its hash does not cover, is never quoted; a new one's is
    edit(
        data,
        "UPDATE audit_chain SET sealed_at = '1999-01-01T00:00:00+00:00' WHERE position = 2",
        "UPDATE audit_chain SET sealed_at = '1999-01-01T00:00:00+00:00'"
        f" WHERE position = {new_top}",
        "UPDATE stored_events SET state = X'00' WHERE rowid = 2",
    )
    code, out = ks(data, "audit", "verify", "--grace", "0", "--checkpoints", str(kept))
    assert code == 1
    assert "1999" not in out
    assert "(position 2) was altered after it was sealed: its stored bytes (state) changed" in out
    assert f"(position {new_top}) was altered" in out
    assert "the time it was sealed (sealed_at) was changed" in out


def test_a_nats_server_that_cannot_be_reached_leaves_verify_without_kept_checkpoints(
    data: Path, clock: FixedClock
) -> None:
    grow(data, clock, seed=29)
    code, out = ks(data, "audit", "verify", "--grace", "0", "--nats", "nats://127.0.0.1:9")
    assert code == 3, out
    assert "cannot reach the NATS server" in out
    assert "NOT COMPARED" in out
