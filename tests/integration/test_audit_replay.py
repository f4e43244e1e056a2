"""Replay as of a moment, checked against what the application served live at that moment,
on each event store; ``replay --all`` compares with the projections and reports differences."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from typer.testing import CliRunner

from domain.errors import CaseNotFoundError, DomainError
from domain.lifecycle import Action
from domain.referral import Referral
from entrypoints.cli import app as cli
from ks_engine.audit.replay import case_ids, replay_all, replay_case
from ks_engine.audit.verify import Verifier
from ks_engine.bootstrap import Engine
from tests.conftest import FixedClock
from tests.unit.test_projection_scenario import CTX, perform, signal_for


def snapshot(case: Referral) -> dict[str, Any]:
    """What a coordinator saw of a case."""
    return {
        "version": case.version,
        "state": case.state.value,
        "urgency": case.urgency,
        "risk_factors": list(case.risk_factors),
        "consent": dict(case.consent) if case.consent else None,
        "discussions": len(case.discussions),
        "support": len(case.support),
        "escalations": len(case.escalations),
        "outcome": dict(case.outcome) if case.outcome else None,
        "signals": len(case.signals),
        "erased": case.personal_erased is not None,
    }


def live_scenario(
    engine: Engine, clock: FixedClock, steps: int
) -> list[tuple[datetime, UUID, dict[str, Any]]]:
    """Random traffic; after each step, the touched case as the application served it then."""
    rng = random.Random(17)
    app = engine.referrals
    people: list[str] = []
    cases: list[UUID] = []
    observed: list[tuple[datetime, UUID, dict[str, Any]]] = []
    for _ in range(steps):
        clock.advance(hours=rng.choice([1, 5, 30]))
        if not cases or rng.random() < 0.3:
            if not people or rng.random() < 0.7:
                people.append(f"{rng.getrandbits(128):032x}")
            outcome = app.receive_signal(*signal_for("GM0928", rng.choice(people)))
            if outcome.case_id is None:
                continue
            case_id = outcome.case_id
            cases += [case_id] if case_id not in cases else []
        else:
            case_id = rng.choice(cases)
            case = app.get_case(case_id)
            if case.personal_erased is None and rng.random() < 0.05:
                app.erase_personal_data(case_id, CTX)
            else:
                actions = [a for a in case.allowed_actions() if a is not Action.ADD_SIGNAL]
                if not actions:
                    continue
                try:
                    perform(app, case_id, rng.choice(actions), rng)
                except DomainError:
                    continue
        observed.append((clock.now, case_id, snapshot(app.get_case(case_id))))
    return observed


def test_replay_as_of_matches_what_was_served_live(engine: Engine, clock: FixedClock) -> None:
    # Given a scenario in which each case's state was observed live after every change
    start = clock.now
    observed = live_scenario(engine, clock, steps=120)
    assert len({case for _, case, _ in observed}) > 10
    # Then replaying each case as of each of those moments (and just before the next change)
    # gives exactly what was served then
    for moment, case_id, seen in observed:
        for at in (moment, moment + timedelta(minutes=59)):
            replayed = replay_case(engine.referrals, case_id, at)
            later = [s for m, c, s in observed if c == case_id and moment < m <= at]
            assert snapshot(replayed.case) == (later[-1] if later else seen)
            assert len(replayed.timeline) == replayed.case.version
            assert [e["version"] for e in replayed.timeline] == list(
                range(1, replayed.case.version + 1)
            )
    # And before a case existed there is nothing to replay
    with pytest.raises(CaseNotFoundError, match="did not exist yet"):
        replay_case(engine.referrals, observed[0][1], start)


def test_replay_all_reports_a_view_that_differs(engine: Engine, clock: FixedClock) -> None:
    live_scenario(engine, clock, steps=40)
    app = engine.referrals
    views = {cid: snapshot(app.get_case(cid)) for cid in _ids(engine)}

    def case_view(case_id: UUID) -> dict[str, Any] | None:
        seen = views[case_id]
        doc = {**seen, "consent": seen["consent"] and {**seen["consent"]}}
        doc["discussions"] = [{}] * seen["discussions"]
        doc["support"] = [{}] * seen["support"]
        doc["escalations"] = [{}] * seen["escalations"]
        doc["outcome"] = seen["outcome"]["code"] if seen["outcome"] else None
        doc["municipality"] = "GM0928"
        return doc

    rebuilt, differing = replay_all(app, current=app.get_case, case_view=case_view)
    assert (rebuilt, differing) == (len(views), [])
    # When one case's view differs from its history (it counts a discussion the history lacks;
    # the random traffic need not have reached a discussion in any case)
    wrong = next(iter(views))
    views[wrong] = {**views[wrong], "discussions": views[wrong]["discussions"] + 1}
    rebuilt, differing = replay_all(app, current=app.get_case, case_view=case_view)
    # Then exactly that case is reported, with the field and both values
    assert [d.case_id for d in differing] == [wrong]
    assert differing[0].differences[0].startswith("discussions: the history gives")


def test_replay_command_prints_state_and_timeline(engine: Engine, clock: FixedClock) -> None:
    if engine.settings.store != "sqlite":
        pytest.skip("the command line is pointed at the SQLite store of the data directory")
    signal, ctx = signal_for("GM0928", "ab" * 16)
    case_id = engine.referrals.receive_signal(signal, ctx).case_id
    result = CliRunner().invoke(
        cli,
        ["audit", "replay", "--case", str(case_id)],
        env={"KS_DATA_DIR": str(engine.settings.data_dir)},
    )
    assert result.exit_code == 0, result.output
    assert f"Case {case_id} as of now" in result.output
    assert "state: signalled (version 1)" in result.output
    assert "name: present" in result.output
    assert "v1 " in result.output
    assert "Signalled by org-midwife (partner)" in result.output
    assert signal.personal.name not in result.output  # type: ignore[operator]


def _ids(engine: Engine) -> list[UUID]:
    return list(case_ids(engine.referrals))


def test_the_chain_verifies_on_each_store(engine: Engine, clock: FixedClock) -> None:
    # Given a scenario with erasures, every save sealed by the writer itself
    live_scenario(engine, clock, steps=40)
    assert engine.audit.sealer.checkpoint() is not None
    # Then the store's chain and checkpoint verify, over every stored event
    key = engine.audit.signing_key.public_key()
    report = Verifier(engine.referrals, engine.audit.chain, [key], grace_seconds=0).verify()
    assert report.problems == []
    assert report.verified == engine.referrals.recorder.max_notification_id()
    assert report.checkpoints == 1
