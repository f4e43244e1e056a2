"""The audit trail as an operator and an auditor meet it: `ks run` seals and signs while it
takes signals, `ks audit verify` and `ks privacy erase` as separate processes afterwards."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
from pathlib import Path
from uuid import UUID

from adapters.nats.embedded import EmbeddedNatsServer, free_port
from ks_engine.bootstrap import bootstrap, event_store_env
from ks_engine.demo import demo_bsn
from ks_engine.settings import Settings
from ks_engine.signal_contract import example_signal
from tests.conftest import FixedClock
from tests.e2e.engine_process import (
    KS,
    output,
    signals_and_receipts,
    start,
    wait_for_work_queue,
)
from tests.unit.test_projection_scenario import play, referrals


def ks(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, KS_DATA_DIR=str(data_dir), KS_LOG_FORMAT="json")
    return subprocess.run([KS, *args], env=env, capture_output=True, text=True, check=False)


async def test_ks_run_seals_and_publishes_a_checkpoint_that_verify_accepts(
    tmp_path: Path,
) -> None:
    # Given `ks run` took two signals and was stopped
    port = free_port()
    proc = start(["run"], tmp_path, KS_EMBEDDED_NATS_PORT=str(port))
    try:
        bsns = [demo_bsn(random.Random(seed)) for seed in (3, 4)]
        got = await signals_and_receipts(f"nats://127.0.0.1:{port}", bsns, "audit")
        # ... and its projectors showed both cases (the views exist)
        shown = await wait_for_work_queue(tmp_path, {r["case_id"] for r in got}, signals=1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0, output(tmp_path, "run")[-2000:]
    assert [r["status"] for r in got] == ["accepted"] * 2
    assert len(shown) == 2
    # Then its last checkpoint covers every stored event and was published to KS_EVENTS
    db = sqlite3.connect(tmp_path / "events.sqlite")
    try:
        top = db.execute("SELECT MAX(rowid) FROM stored_events").fetchone()[0]
        newest = db.execute(
            "SELECT position, published FROM audit_checkpoints ORDER BY position DESC LIMIT 1"
        ).fetchone()
    finally:
        db.close()
    assert newest == (top, 1)
    # And no database file of the run holds a BSN or the partner's note in clear, although
    # the note is kept (sealed) for the Knooppunt
    note = example_signal(bsns[0])["data"]["note"]
    engine = bootstrap(Settings(data_dir=tmp_path), configure_logs=False)
    try:
        kept = engine.referrals.personal_details(UUID(got[0]["case_id"])).details
    finally:
        engine.close()
    assert kept is not None
    assert kept.note == note
    databases = list(tmp_path.glob("*.sqlite*"))
    assert {p.name for p in databases} >= {"events.sqlite", "views.sqlite"}
    for path in databases:
        raw = path.read_bytes()
        assert note.encode() not in raw, path.name
        for bsn in bsns:
            assert bsn.encode() not in raw, path.name
    # And an auditor's `ks audit verify` finds the history intact; without NATS and without
    # an exported checkpoints file it says it compared with nothing kept elsewhere (exit 3)
    verified = ks(tmp_path, "audit", "verify", "--grace", "0")
    assert verified.returncode == 3, verified.stdout + verified.stderr
    assert f"Audit trail intact: {top} events verified" in verified.stdout
    kept = tmp_path / "kept" / "checkpoints.jsonl"
    kept.parent.mkdir()
    exported = ks(tmp_path, "audit", "checkpoints", "export", "--out", str(kept))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    verified = ks(tmp_path, "audit", "verify", "--grace", "0", "--checkpoints", str(kept))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"Newest checkpoint kept outside the database: position {top}" in verified.stdout
    # And after an erasure (recorded by a separate process) the history still verifies
    erased = ks(tmp_path, "privacy", "erase", "--case", got[0]["case_id"])
    assert erased.returncode == 0, erased.stdout + erased.stderr
    verified = ks(tmp_path, "audit", "verify", "--grace", "0", "--checkpoints", str(kept))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "events verified" in verified.stdout
    for bsn in bsns:
        assert bsn not in verified.stdout + erased.stdout + output(tmp_path, "run")


async def test_ks_sealer_alone_seals_another_process_events_and_signs_on_stop(
    tmp_path: Path, nats_server: EmbeddedNatsServer, clock: FixedClock
) -> None:
    # Given events written by a process whose saves were not sealed
    writer = referrals(clock, event_store_env(Settings(data_dir=tmp_path)))
    play(writer, clock, seed=41, steps=15)
    top = writer.recorder.max_notification_id()
    writer.close()
    # When `ks sealer` runs beside the NATS server until it has sealed them, and is stopped
    proc = start(["sealer"], tmp_path, KS_NATS_URL=nats_server.url)
    try:
        for _ in range(300):
            if _sealed(tmp_path) == top:
                break
            await asyncio.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0, output(tmp_path, "sealer")[-2000:]
    # Then every event is sealed, and its last checkpoint covers them and was published
    assert _sealed(tmp_path) == top
    db = sqlite3.connect(tmp_path / "events.sqlite")
    try:
        newest = db.execute(
            "SELECT position, events, published FROM audit_checkpoints"
            " ORDER BY position DESC LIMIT 1"
        ).fetchone()
    finally:
        db.close()
    assert newest == (top, top, 1)


def _sealed(data_dir: Path) -> int:
    db = sqlite3.connect(data_dir / "events.sqlite")
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "audit_chain" not in tables:
            return 0
        return int(db.execute("SELECT COUNT(*) FROM audit_chain").fetchone()[0])
    finally:
        db.close()
