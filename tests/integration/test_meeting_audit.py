"""Meetings in a sealed store: the audit trail still verifies and every case still replays to
the state the application serves (real SQLite files, the CLI as an auditor runs it)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from typer.testing import CliRunner

from domain.meeting import Decision, FollowUp
from entrypoints.cli import app as cli
from ks_engine import commands as c
from ks_engine.bootstrap import bootstrap
from ks_engine.clock import AMSTERDAM
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.referral_builders import (
    BSN_A,
    BSN_B,
    DEBTS,
    JGZ,
    KERKRADE,
    coordinator_ctx,
    make_signal,
    partner_ctx,
    scores,
)


def test_a_store_with_meetings_verifies_and_replays(tmp_path: Path) -> None:
    data = tmp_path / "data"
    clock = FixedClock(datetime(2026, 11, 2, 9, 30, tzinfo=AMSTERDAM))
    engine = bootstrap(Settings(data_dir=data), clock=clock, configure_logs=False)
    app, ctx = engine.referrals, coordinator_ctx()
    # Given two consented cases, a meeting that discussed one and postponed the other
    cases = []
    for bsn in (BSN_A, BSN_B):
        signal = make_signal(bsn)
        case_id = app.receive_signal(signal, partner_ctx(signal)).case_id
        assert case_id is not None
        app.request_consent(c.RequestConsent(case_id=case_id), ctx)
        app.record_consent(c.RecordConsent(case_id=case_id, given=True, scope=[JGZ, DEBTS]), ctx)
        cases.append(case_id)
    planned = c.PlanMeeting(
        municipality=KERKRADE, on=clock().date(), organisations=[JGZ, DEBTS], case_ids=cases
    )
    meeting_id = app.plan_meeting(planned, ctx).meeting_id
    discussion = c.MeetingDiscussion(participants=[JGZ], scores=scores(), needs=[])
    app.record_meeting_decision(
        c.RecordMeetingDecision(
            meeting_id=meeting_id,
            case_id=cases[0],
            decision=Decision.DISCUSSED,
            follow_up=FollowUp.DISCUSS_AGAIN,
            discussion=discussion,
        ),
        ctx,
    )
    app.record_meeting_decision(
        c.RecordMeetingDecision(
            meeting_id=meeting_id, case_id=cases[1], decision=Decision.POSTPONED
        ),
        ctx,
    )
    app.conclude_meeting(c.ConcludeMeeting(meeting_id=meeting_id), ctx)
    engine.audit.sealer.seal_pending()
    assert engine.audit.sealer.checkpoint() is not None
    stored = app.recorder.max_notification_id()
    engine.close()
    env = {"KS_DATA_DIR": str(data)}
    kept = tmp_path / "checkpoints.jsonl"
    exported = CliRunner().invoke(
        cli, ["audit", "checkpoints", "export", "--out", str(kept)], env=env
    )
    assert exported.exit_code == 0, exported.output
    # Then the auditor's verification finds the trail intact, meetings' events included
    verified = CliRunner().invoke(
        cli, ["audit", "verify", "--grace", "0", "--checkpoints", str(kept)], env=env
    )
    assert verified.exit_code == 0, verified.output
    assert f"Audit trail intact: {stored} events verified" in verified.output  # every one
    # And the discussed case, replayed from its events alone, stood discussed
    replayed = CliRunner().invoke(cli, ["audit", "replay", "--case", str(cases[0])], env=env)
    assert replayed.exit_code == 0, replayed.output
    assert "state: discussed" in replayed.output
