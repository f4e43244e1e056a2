"""Erasure by crypto-shredding, end to end on a real SQLite store and a real nats-server:
before and after queries, replay, verify, the published events and views, a new signal, and
the bytes of the database files."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from uuid import UUID

from nats.js import JetStreamContext
from typer.testing import CliRunner

from adapters.nats.projectors import Projector
from adapters.nats.relay import Relay, RelayPosition
from adapters.persistence.views import open_views
from entrypoints.cli import app as cli
from ks_engine import commands as c
from ks_engine.audit.replay import replay_all
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.settings import Settings
from projections.event import CHECKPOINT_SUBJECT, STREAM
from projections.read_models import ReadModels, build_projections
from tests.conftest import FixedClock
from tests.referral_builders import BSN_A, coordinator_ctx, make_signal, partner_ctx, person
from tests.unit.test_projection_scenario import SECRET_MARKS, play, signal_for

NAME, NOTE = "Test Ouder", "vrije tekst"


def open_engine(data: Path, clock: FixedClock) -> Engine:
    return bootstrap(Settings(data_dir=data), clock=clock, configure_logs=False)


async def publish_and_project(engine: Engine, js: JetStreamContext) -> ReadModels:
    """Relay the whole log (with the sealer's checkpoints in between) and project it."""
    sealer = engine.audit.sealer
    sealer.checkpoint()
    await sealer.publish_checkpoints(js)
    relay = Relay(engine.referrals, js, RelayPosition(engine.settings.data_dir / "relay.sqlite"))
    await relay.start()
    while await relay.publish_pending():
        pass
    sealer.checkpoint()
    await sealer.publish_checkpoints(js)
    db = open_views(engine.settings)
    views = ReadModels(db)
    last = (await js.stream_info(STREAM)).state.last_seq
    projector = Projector(js, db, build_projections(engine.settings.service_levels))
    await asyncio.wait_for(projector.catch_up(last), timeout=30)
    return views


def cli_run(data: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={"KS_DATA_DIR": str(data)})
    return result.exit_code, result.output


async def test_erasure_end_to_end(tmp_path: Path, clock: FixedClock, js: JetStreamContext) -> None:
    data = tmp_path / "data"
    # Given a case with a name and a note, consent requested, published and projected
    engine = open_engine(data, clock)
    first = make_signal(BSN_A)
    case_id = engine.referrals.receive_signal(first, partner_ctx(first)).case_id
    assert case_id is not None
    clock.advance(hours=2)
    engine.referrals.request_consent(c.RequestConsent(case_id=case_id), coordinator_ctx())
    before = engine.referrals.personal_details(case_id)
    assert before.status == "present"
    assert before.details is not None
    assert before.details.name == NAME
    await publish_and_project(engine, js)
    engine.close()

    # When the person's details are erased on the command line
    clock.advance(days=1)
    code, out = cli_run(data, "privacy", "erase", "--case", str(case_id), "--user", "a-1")
    assert code == 0, out
    assert f"personal details of case {case_id} are erased" in out

    engine = open_engine(data, clock)
    try:
        # Then the application no longer returns them
        after = engine.referrals.personal_details(case_id)
        assert (after.status, after.details) == ("erased", None)
        # And replay shows the fields as erased, the history otherwise intact
        code, out = cli_run(data, "audit", "replay", "--case", str(case_id))
        assert code == 0, out
        assert "personal details: erased on" in out
        assert "PersonalDataErased by ks-engine-admin (admin)" in out
        assert "state: consent_requested" in out
        code, out = cli_run(
            data, "audit", "replay", "--case", str(case_id), "--as-of", "2026-11-02"
        )
        assert "personal details: erased" in out  # earlier moments too: the key is gone
        # And the chains and checkpoints still verify
        # (exit 3: intact, with no checkpoint kept outside the database to compare with)
        code, out = cli_run(data, "audit", "verify", "--grace", "0")
        assert code == 3, out
        assert "Audit trail intact" in out
        # And erasing again (finishing an interrupted erasure) records nothing new
        version = engine.referrals.get_case(case_id).version
        code, out = cli_run(data, "privacy", "erase", "--case", str(case_id))
        assert code == 0, out
        assert engine.referrals.get_case(case_id).version == version
        # And the erasure is published (basis only) and the views record it
        views = await publish_and_project(engine, js)
        view = views.cases.get(case_id)
        assert view is not None
        assert view.personal_data_erased_at is not None
        assert view.timeline[-1].event == "PersonalDataErased"
        erased_msgs = await _messages(js, "ks.events.GM0928.PersonalDataErased")
        assert [m["data"]["basis"] for m in erased_msgs] == ["request"]
        # And the rebuilt cases agree with the projections, checkpoints in the stream passed by
        assert await _messages(js, CHECKPOINT_SUBJECT)
        rebuilt, differing = replay_all(
            engine.referrals,
            current=engine.referrals.get_case,
            case_view=lambda cid: _doc(views, cid),
        )
        assert (rebuilt, differing) == (1, [])
        # And a new signal about the same person opens a new case
        again = make_signal(BSN_A)
        outcome = engine.referrals.receive_signal(again, partner_ctx(again))
        assert outcome.case_id not in (None, case_id)
        assert not outcome.matched_existing
        assert engine.referrals.personal_details(outcome.case_id).status == "present"  # type: ignore[arg-type]
    finally:
        engine.close()


async def test_no_bsn_name_or_note_is_in_the_database_files(
    tmp_path: Path, clock: FixedClock, js: JetStreamContext
) -> None:
    # Given a run with many cases whose signals carry names, birth dates and notes
    data = tmp_path / "data"
    engine = open_engine(data, clock)
    play(engine.referrals, clock, seed=13, steps=60)
    signal, ctx = signal_for("GM0928", person(BSN_A))
    engine.referrals.receive_signal(signal, ctx)
    await publish_and_project(engine, js)
    engine.close()
    # Then no file of the data directory nor of the NATS store holds any of them in clear
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "events.sqlite" for p in files)
    for path in files:
        raw = path.read_bytes()
        for mark in (*SECRET_MARKS, BSN_A):
            assert mark.encode() not in raw, f"{mark!r} in {path.name}"


async def _messages(js: JetStreamContext, subject: str) -> list[dict[str, object]]:
    last = (await js.stream_info(STREAM)).state.last_seq
    found = []
    for seq in range(1, last + 1):
        m = await js.get_msg(STREAM, seq=seq)
        if m.subject == subject:
            found.append(json.loads(m.data or b"{}"))
    return found


def _doc(views: ReadModels, case_id: UUID) -> dict[str, object] | None:
    view = views.cases.get(case_id)
    return None if view is None else view.model_dump(mode="json")
