"""The sealer as `ks run` runs it, on a real SQLite store and a real nats-server: it seals
other writers' events, signs checkpoints, publishes them to KS_EVENTS; the relay and the
projectors pass them by. And retention: which closed cases are erased, dry run first."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import nats
import pytest
from nats.js import JetStreamContext
from typer.testing import CliRunner

from adapters.nats.embedded import EmbeddedNatsServer
from adapters.nats.events_stream import ensure_events_stream
from adapters.nats.relay import Relay, RelayPosition
from adapters.persistence.sqlite_views import SqliteViewDatabase
from domain.values import Outcome
from entrypoints.cli import app as cli
from entrypoints.processes.builds import components
from ks_engine import commands as c
from ks_engine.audit.retention import due_for_erasure
from ks_engine.audit.sealer import run_sealer
from ks_engine.bootstrap import Engine, bootstrap, event_store_env
from ks_engine.clock import now
from ks_engine.runtime import NatsLink
from ks_engine.settings import Settings
from ks_engine.supervision import StatusBoard
from projections.case_view_store import CaseViewProjection, CaseViews
from projections.event import CHECKPOINT_SUBJECT, STREAM, OtherMessage
from projections.store import apply_batch, install
from tests.conftest import FixedClock
from tests.unit.test_projection_scenario import (
    CTX,
    REASON,
    make_event,
    play,
    referrals,
    signal_for,
)


@pytest.fixture
def engine(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Engine]:
    built = bootstrap(Settings(data_dir=tmp_path / "data"), clock=clock, configure_logs=False)
    yield built  # type: ignore[misc]
    built.close()


async def test_the_sealer_runs_in_ks_run_and_publishes_checkpoints(
    engine: Engine, js: JetStreamContext, nats_server: EmbeddedNatsServer, clock: FixedClock
) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        link = NatsLink(nc=nc, js=js, url=nats_server.url, server=None)
        parts = components(engine, link, StatusBoard())
    finally:
        await nc.close()
    assert "sealer" in parts
    # Given events written by another process (its writes are not sealed by this one)
    other = referrals(clock, event_store_env(engine.settings))
    play(other, clock, seed=2, steps=30)
    other.close()
    assert engine.audit.chain.count() == 0
    # When the sealer runs and is stopped
    stop = asyncio.Event()
    task = asyncio.create_task(run_sealer(engine.audit.sealer, stop, js, poll_seconds=0.05))
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.wait_for(task, timeout=30)
    # Then every stored event is sealed, the head is signed, and the checkpoint is in KS_EVENTS
    top = engine.referrals.recorder.max_notification_id()
    assert engine.audit.chain.count() == top
    [checkpoint] = engine.audit.chain.checkpoints()
    assert (checkpoint.position, checkpoint.events) == (top, top)
    msg = await js.get_msg(STREAM, subject=CHECKPOINT_SUBJECT)
    published = json.loads(msg.data or b"{}")
    assert (published["position"], published["head"]) == (top, checkpoint.head)
    assert engine.audit.chain.unpublished_checkpoints() == []


async def test_saves_in_its_process_wake_the_running_sealer(
    engine: Engine, clock: FixedClock
) -> None:
    # Given a sealer running in this process that would poll only every 60 seconds
    stop = asyncio.Event()
    task = asyncio.create_task(run_sealer(engine.audit.sealer, stop, poll_seconds=60))
    await asyncio.sleep(0.1)
    # When a signal is saved (the saving thread does not seal it itself)
    signal, ctx = signal_for("GM0928", "cd" * 16)
    await asyncio.to_thread(engine.referrals.receive_signal, signal, ctx)
    # Then the sealer, woken by the save, seals it long before its next poll
    top = engine.referrals.recorder.max_notification_id()
    for _ in range(200):
        if engine.audit.chain.count() == top:
            break
        await asyncio.sleep(0.05)
    assert engine.audit.chain.count() == top
    stop.set()
    await asyncio.wait_for(task, timeout=30)
    assert engine.audit.sealer._wake is None


async def test_the_relay_resumes_after_its_last_event_not_after_a_checkpoint(
    engine: Engine, js: JetStreamContext, clock: FixedClock
) -> None:
    # Given the relay has published the log, then more events were stored and sealed, and a
    # checkpoint of them (a higher position) is the stream's newest message
    play(engine.referrals, clock, seed=6, steps=20)
    relay = Relay(engine.referrals, js, RelayPosition(None))
    await relay.start()
    while await relay.publish_pending():
        pass
    published_to = relay.position
    play(engine.referrals, clock, seed=7, steps=20)
    assert engine.audit.sealer.checkpoint() is not None
    await engine.audit.sealer.publish_checkpoints(js)
    # When a relay without a recorded position starts from the stream
    restarted = Relay(engine.referrals, js, RelayPosition(None))
    # Then it resumes after the last Referral event it published, and publishes the rest
    assert await restarted.start() == published_to
    while await restarted.publish_pending():
        pass
    info = await js.stream_info(STREAM)
    last = await js.get_msg(STREAM, seq=info.state.last_seq)
    assert json.loads(last.data or b"{}")["through"] >= published_to


async def test_retention_erases_only_cases_closed_longer_ago_dry_run_first(
    engine: Engine, clock: FixedClock
) -> None:
    app = engine.referrals
    # Given a case closed six years ago, one closed three years ago, and an open one
    clock.now = now() - timedelta(days=6 * 365 + 10)
    ids = []
    for n in range(3):
        signal, ctx = signal_for("GM0928", f"{n:032x}")
        ids.append(app.receive_signal(signal, ctx).case_id)
    old, recent, _open = ids
    app.close_case(c.Close(case_id=old, outcome=Outcome.NO_SUPPORT_NEEDED, reason=REASON), CTX)
    clock.advance(days=3 * 365)
    app.close_case(c.Close(case_id=recent, outcome=Outcome.NO_SUPPORT_NEEDED, reason=REASON), CTX)
    # Then only the case closed more than five years ago is due
    assert [case for case, _ in due_for_erasure(app, years=5, now=now())] == [old]
    env = {"KS_DATA_DIR": str(engine.settings.data_dir)}
    engine.close()
    # And the command reports it without erasing, and erases it with --apply
    dry = CliRunner().invoke(cli, ["privacy", "retention"], env=env)
    assert dry.exit_code == 0, dry.output
    assert f"would erase: case {old}" in dry.output
    assert "Dry run: 1 cases" in dry.output
    again = bootstrap(engine.settings, configure_logs=False)
    try:
        assert again.referrals.get_case(old).personal_erased is None
    finally:
        again.close()
    done = CliRunner().invoke(cli, ["privacy", "retention", "--apply"], env=env)
    assert done.exit_code == 0, done.output
    assert f"erased: case {old}" in done.output
    after = bootstrap(engine.settings, configure_logs=False)
    try:
        erased = after.referrals.get_case(old).personal_erased
        assert erased is not None
        assert erased["reason"] == "retention"
        assert after.referrals.get_case(recent).personal_erased is None
    finally:
        after.close()


def test_projections_pass_checkpoint_messages_by(tmp_path: Path) -> None:
    # Given a case view that applied stream messages 1 and 2 (a case opened and signalled on)
    db = SqliteViewDatabase(tmp_path / "views.sqlite")
    projection = CaseViewProjection()
    install(db, [projection])
    signal = {
        "signal": {
            "reporter": {"organisation": "org-midwife", "role": "midwife"},
            "phase": "pregnancy",
            "risk_factors": ["debts"],
            "urgency": "routine",
        }
    }
    opened = make_event("Signalled", {**signal, "municipality": "GM0928", "person_pseudonym": "x"})
    apply_batch(db, projection, [opened])
    # When the next messages are two audit checkpoints, alone in their batch
    outcome = apply_batch(db, projection, [OtherMessage(2), OtherMessage(3)])
    # Then nothing is applied but the checkpoint moves past them, and the next event applies
    assert (outcome.applied, outcome.checkpoint.seq, outcome.gap_after) == (0, 3, None)
    closed = make_event("Closed", {"outcome": "moved_away"}, seq=4, version=2, position=9)
    assert apply_batch(db, projection, [closed]).applied == 1
    view = CaseViews(db).get("c-1")
    assert view is not None
    assert (view.state, view.version) == ("closed", 2)


def test_verify_finds_truncation_hidden_in_the_store_through_the_published_checkpoints(
    engine: Engine, nats_server: EmbeddedNatsServer, clock: FixedClock
) -> None:
    # Given two checkpoints signed and published to KS_EVENTS while cases came in
    play(engine.referrals, clock, seed=12, steps=20)
    engine.audit.sealer.checkpoint()
    play(engine.referrals, clock, seed=13, steps=20)
    engine.audit.sealer.checkpoint()

    async def publish() -> int:
        nc = await nats.connect(nats_server.url)
        try:
            await ensure_events_stream(nc.jetstream())
            return await engine.audit.sealer.publish_checkpoints(nc.jetstream())
        finally:
            await nc.close()

    assert asyncio.run(publish()) == 2
    data = engine.settings.data_dir
    env = {"KS_DATA_DIR": str(data)}
    intact = CliRunner().invoke(
        cli, ["audit", "verify", "--grace", "0", "--nats", nats_server.url], env=env
    )
    assert intact.exit_code == 0, intact.output
    assert "2 checkpoints in KS_EVENTS match the store" in intact.output
    top = engine.referrals.recorder.max_notification_id()
    engine.close()
    # When the newest events are removed with their seals and every stored checkpoint
    with sqlite3.connect(data / "events.sqlite") as db:
        db.execute(f"DELETE FROM stored_events WHERE rowid > {top - 3}")
        db.execute(f"DELETE FROM audit_chain WHERE position > {top - 3}")
        db.execute("DELETE FROM audit_checkpoints")
    db.close()
    # Then the store alone cannot tell (and says KS_EVENTS was not consulted)
    alone = CliRunner().invoke(cli, ["audit", "verify", "--grace", "0"], env=env)
    assert alone.exit_code == 3, alone.output
    assert "KS_EVENTS not consulted" in alone.output
    assert "NOT COMPARED with any checkpoint kept outside the database" in alone.output
    # But with the checkpoints published to KS_EVENTS the truncation is found
    found = CliRunner().invoke(
        cli, ["audit", "verify", "--grace", "0", "--nats", nats_server.url], env=env
    )
    assert found.exit_code == 1
    assert "missing from the store: it was removed" in found.output
    assert f"covers {top} events up to position {top}" in found.output
    assert f"the chain now ends at position {top - 3}" in found.output


def test_ks_sealer_alone_needs_the_nats_server(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["sealer"], env={"KS_DATA_DIR": str(tmp_path / "data"), "KS_NATS_URL": ""}
    )
    assert result.exit_code == 2
    assert "KS_NATS_URL is not set" in result.output
