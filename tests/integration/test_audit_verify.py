"""`ks audit verify` on a real SQLite file: an intact history verifies; every kind of edit made
directly to the file (altered, removed, reordered, inserted, truncated, seals rewritten,
checkpoint forged) is found, and the first broken event is named in an auditor's words."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from adapters.persistence.audit_chain import SqlChainStore
from adapters.persistence.audit_scan import SqliteLogRows
from entrypoints.cli import app as cli
from ks_engine.audit import link_checks
from ks_engine.audit.chain import Link
from ks_engine.audit.findings import Report
from ks_engine.audit.verify import Verifier
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.clock import AMSTERDAM
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.integration.audit_files import edit, events_db, reseal_from
from tests.unit.test_projection_scenario import play


@pytest.fixture(scope="module")
def sealed_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with many cases, every event sealed and the head signed (built once)."""
    data = tmp_path_factory.mktemp("sealed") / "data"
    clock = FixedClock(datetime(2026, 11, 2, 9, 30, tzinfo=AMSTERDAM))
    engine = bootstrap(Settings(data_dir=data), clock=clock, configure_logs=False)
    play(engine.referrals, clock, seed=3, steps=60)
    engine.audit.sealer.seal_pending()
    assert engine.audit.sealer.checkpoint() is not None
    engine.close()
    with sqlite3.connect(data / "events.sqlite") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return data


@pytest.fixture
def data_dir(sealed_store: Path, tmp_path: Path) -> Path:
    """This test's own copy of the sealed store."""
    return Path(shutil.copytree(sealed_store, tmp_path / "data"))


def rows(data_dir: Path, sql: str) -> list[tuple[object, ...]]:
    with events_db(data_dir) as db:
        return list(db.execute(sql))


def case_events(data_dir: Path) -> list[tuple[int, str, int]]:
    """(position, case id as stored, version) of every case event, in log order."""
    found = rows(
        data_dir,
        "SELECT rowid, originator_id, originator_version FROM stored_events"
        " WHERE topic LIKE 'domain.referral:Referral.%' ORDER BY rowid",
    )
    return [(int(p), str(a), int(v)) for p, a, v in found]  # type: ignore[call-overload]


def verify(data_dir: Path) -> Report:
    engine = bootstrap(Settings(data_dir=data_dir), configure_logs=False)
    try:
        key = engine.audit.signing_key.public_key()
        return Verifier(engine.referrals, engine.audit.chain, [key], grace_seconds=0).verify()
    finally:
        engine.close()


def run_verify(data_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["audit", "verify", "--grace", "0", *args], env={"KS_DATA_DIR": str(data_dir)}
    )
    return result.exit_code, result.output


def uuid_text(stored: str) -> str:
    """A stored (hex) case id as the verifier prints it."""
    return f"{stored[:8]}-{stored[8:12]}-{stored[12:16]}-{stored[16:20]}-{stored[20:]}"


def test_an_intact_store_verifies_with_the_count_of_events(data_dir: Path) -> None:
    total = rows(data_dir, "SELECT COUNT(*) FROM stored_events")[0][0]
    kept = data_dir.parent / "checkpoints.jsonl"
    exported = CliRunner().invoke(
        cli,
        ["audit", "checkpoints", "export", "--out", str(kept)],
        env={"KS_DATA_DIR": str(data_dir)},
    )
    assert exported.exit_code == 0, exported.output
    code, out = run_verify(data_dir, "--checkpoints", str(kept))
    assert code == 0, out
    assert f"Audit trail intact: {total} events verified" in out
    assert "1 signed checkpoints valid" in out
    assert f"1 checkpoints in checkpoints file {kept} match the store" in out


def test_an_altered_event_is_named_by_case_version_and_position(data_dir: Path) -> None:
    # Given a case event whose stored bytes are replaced by another event's valid ciphertext
    events = case_events(data_dir)
    position, case, version = events[len(events) // 2]
    other = events[len(events) // 2 + 1][0]
    edit(
        data_dir,
        f"UPDATE stored_events SET state = (SELECT state FROM stored_events WHERE rowid = {other})"
        f" WHERE rowid = {position}",
    )
    # Then verify fails and its first finding names that event
    code, out = run_verify(data_dir)
    assert code == 1
    first = out.splitlines()[0]
    assert f"Event {version} of case {uuid_text(case)} (position {position})" in first
    assert "was altered after it was sealed" in first


def test_a_single_flipped_byte_is_found(data_dir: Path) -> None:
    position = case_events(data_dir)[3][0]
    with events_db(data_dir) as db:
        state = bytearray(
            db.execute("SELECT state FROM stored_events WHERE rowid = ?", (position,)).fetchone()[0]
        )
        state[40] ^= 0x01
        db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (bytes(state), position))
    report = verify(data_dir)
    assert [(p.position, p.kind) for p in report.problems][:1] == [(position, "altered")]


def test_a_removed_event_is_named(data_dir: Path) -> None:
    position, case, version = case_events(data_dir)[5]
    edit(data_dir, f"DELETE FROM stored_events WHERE rowid = {position}")
    code, out = run_verify(data_dir)
    assert code == 1
    first = out.splitlines()[0]
    assert f"Event {version} of case {uuid_text(case)} (position {position})" in first
    assert "it was removed" in first


def test_a_removed_event_with_its_seal_breaks_the_chain(data_dir: Path) -> None:
    position = case_events(data_dir)[5][0]
    edit(
        data_dir,
        f"DELETE FROM stored_events WHERE rowid = {position}",
        f"DELETE FROM audit_chain WHERE position = {position}",
    )
    report = verify(data_dir)
    assert not report.intact
    first = report.problems[0]
    assert (first.position, first.kind) == (position + 1, "chain_broken")
    assert "An event was removed" in first.message


def test_reordered_events_are_named(data_dir: Path) -> None:
    # Given two case events that swapped places in the log
    (a, case_a, version_a), (b, case_b, version_b) = case_events(data_dir)[2:4]
    edit(
        data_dir,
        f"UPDATE stored_events SET rowid = -1 WHERE rowid = {a}",
        f"UPDATE stored_events SET rowid = {a} WHERE rowid = {b}",
        f"UPDATE stored_events SET rowid = {b} WHERE rowid = -1",
    )
    code, out = run_verify(data_dir)
    assert code == 1
    first = out.splitlines()[0]
    assert f"Position {a} was sealed as event {version_a} of case {uuid_text(case_a)}" in first
    assert f"now holds event {version_b} of case {uuid_text(case_b)}" in first
    assert "reordered" in first


def test_an_event_inserted_in_the_middle_is_found(data_dir: Path) -> None:
    # Given a forged event slipped in at position k: the later events move one place up
    k, case, version = case_events(data_dir)[4]
    latest = rows(
        data_dir,
        f"SELECT MAX(originator_version) FROM stored_events WHERE originator_id = '{case}'",
    )[0][0]
    edit(
        data_dir,
        f"UPDATE stored_events SET rowid = rowid + 1000000 WHERE rowid >= {k}",
        "UPDATE stored_events SET rowid = rowid - 999999 WHERE rowid >= 1000000",
        "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state)"
        f" SELECT {k}, originator_id, {latest} + 1, topic, state FROM stored_events"
        f" WHERE rowid = {k + 1}",
    )
    code, out = run_verify(data_dir)
    assert code == 1
    # The forged row reuses the bytes of the event sealed at k: that position names the
    # column that no longer agrees; the next one holds another event than the one sealed.
    first = out.splitlines()[0]
    assert f"Event {version} of case {uuid_text(case)} (position {k}) was altered" in first
    assert f"version (originator_version) is now {latest + 1}, sealed as {version}" in first
    assert f"Position {k + 1} was sealed as event" in out


def test_an_event_appended_behind_the_engines_back_is_found(data_dir: Path) -> None:
    _, case, _ = case_events(data_dir)[0]
    latest = rows(
        data_dir,
        f"SELECT MAX(originator_version) FROM stored_events WHERE originator_id = '{case}'",
    )[0][0]
    edit(
        data_dir,
        "INSERT INTO stored_events (originator_id, originator_version, topic, state)"
        f" SELECT originator_id, {latest} + 1, topic, state FROM stored_events"
        f" WHERE originator_id = '{case}' AND originator_version = {latest}",
    )
    report = verify(data_dir)
    assert [p.kind for p in report.problems] == ["unsealed"]
    assert f"event {latest + 1} of case {uuid_text(case)}" in report.problems[0].message.lower()


def test_truncating_the_newest_events_and_their_seals_is_found(data_dir: Path) -> None:
    # Given the three newest events removed together with their links
    top = rows(data_dir, "SELECT MAX(rowid) FROM stored_events")[0][0]
    edit(
        data_dir,
        f"DELETE FROM stored_events WHERE rowid > {top} - 3",
        f"DELETE FROM audit_chain WHERE position > {top} - 3",
    )
    code, out = run_verify(data_dir)
    assert code == 1
    assert f"up to position {top}" in out.splitlines()[0]
    assert f"the chain now ends at position {top - 3}" in out.splitlines()[0]
    assert "truncated" in out.splitlines()[0]


def test_an_altered_event_with_recomputed_seals_fails_the_signed_checkpoint(
    data_dir: Path,
) -> None:
    # Given an event altered and every link from it on recomputed (without the signing key)
    events = case_events(data_dir)
    position = events[6][0]
    edit(
        data_dir,
        "UPDATE stored_events SET state = (SELECT state FROM stored_events WHERE rowid ="
        f" {events[7][0]}) WHERE rowid = {position}",
    )
    with events_db(data_dir) as db:
        reseal_from(db, position)
    report = verify(data_dir)
    # Then every link is consistent, but the checkpoint no longer matches the chain
    kinds = {p.kind for p in report.problems}
    assert "checkpoint_mismatch" in kinds
    assert not kinds & {"seal_altered", "chain_broken", "history_gap"}


def test_a_forged_checkpoint_is_found(data_dir: Path) -> None:
    edit(data_dir, "UPDATE audit_checkpoints SET events = events + 1")
    code, out = run_verify(data_dir)
    assert code == 1
    assert "does not carry a valid signature" in out.splitlines()[0]


class EngineWritesDuringVerification(SqlChainStore):
    """The engine's real chain store; the first time verification reads links, the engine
    stores, seals and signs more events (as a running `ks run` would meanwhile)."""

    def __init__(self, engine: Engine, clock: FixedClock) -> None:
        super().__init__(engine.audit.db)
        self.engine, self.clock, self.wrote = engine, clock, False

    def links(self, start: int, limit: int) -> list[Link]:
        if not self.wrote:
            self.wrote = True
            play(self.engine.referrals, self.clock, seed=31, steps=10)
            assert self.engine.audit.sealer.checkpoint() is not None
        return super().links(start, limit)


@pytest.mark.parametrize("quick", [False, True], ids=["walk", "scan"])
@pytest.mark.parametrize("when", ["first read", "after the first row"])
def test_events_stored_while_verifying_are_left_to_the_next_verification(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, quick: bool, when: str
) -> None:
    clock = FixedClock(datetime(2027, 1, 4, 9, 0, tzinfo=AMSTERDAM))
    engine = bootstrap(Settings(data_dir=data_dir), clock=clock, configure_logs=False)
    try:
        before = engine.referrals.recorder.max_notification_id()
        store = EngineWritesDuringVerification(engine, clock)
        if quick:  # the quick scan reads plain rows: the engine writes when it reads links
            real = SqliteLogRows.links

            def links(rows: SqliteLogRows, first: int, last: int | None) -> Iterator[Any]:
                if when == "first read":
                    store.links(1, 0)
                found = real(rows, first, last)
                yield next(found)
                store.links(1, 0)
                yield from found

            monkeypatch.setattr(SqliteLogRows, "links", links)
        key = engine.audit.signing_key.public_key()
        verifier = Verifier(engine.referrals, store, [key], grace_seconds=0)
        report = verifier._verify(ranged=False, grace=False, quick=quick)
        assert store.wrote
        assert engine.referrals.recorder.max_notification_id() > before
        assert report.problems == []
        assert (report.verified, report.last_position) == (before, before)
    finally:
        engine.close()
    assert verify(data_dir).verified > before  # the next verification covers them


def test_with_little_memory_the_walk_looks_earlier_versions_up_and_finds_the_same(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    total = rows(data_dir, "SELECT COUNT(*) FROM stored_events")[0][0]
    monkeypatch.setattr(link_checks, "REMEMBERED", 1)  # every later version is looked up
    intact = verify(data_dir)
    assert intact.intact, intact.problems[:1]
    assert intact.verified == total
    # A case's middle event removed together with its seal: its next event no longer
    # continues the case's history, whether the walk remembered the case or looked it up.
    events = case_events(data_dir)
    versions = {(case, version): position for position, case, version in events}
    position, case, version = next(
        (p, c, v) for p, c, v in events if v >= 2 and (c, v + 1) in versions
    )
    edit(
        data_dir,
        f"DELETE FROM stored_events WHERE rowid = {position}",
        f"DELETE FROM audit_chain WHERE position = {position}",
    )
    found = {(p.position, p.kind) for p in verify(data_dir).problems}
    assert (versions[(case, version + 1)], "history_gap") in found
    monkeypatch.setattr(link_checks, "REMEMBERED", 100_000)
    assert {(p.position, p.kind) for p in verify(data_dir).problems} == found
