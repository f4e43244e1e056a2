"""After the match, through the application: support started, evaluation, reopening."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from domain.after_match import NeedResult, NextStep, add_months
from domain.errors import ConsentRequiredError, IllegalTransitionError, InvalidValueError
from domain.lifecycle import State
from domain.values import Actor, ActorRole, Need, Outcome
from ks_engine import commands as c
from ks_engine.application import Referrals
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.referral_builders import (
    BSN_A,
    DEBTS,
    JGZ,
    coordinator_ctx,
    make_signal,
    partner_ctx,
    scores,
)

CTX = coordinator_ctx()


@pytest.fixture
def app(tmp_path: Path, clock: FixedClock) -> Iterator[Referrals]:
    engine: Engine = bootstrap(
        Settings(store="memory", data_dir=tmp_path), clock=clock, configure_logs=False
    )
    yield engine.referrals
    engine.close()


def matched_case(app: Referrals) -> UUID:
    """A case whose support is matched, with consent for JGZ and debt counselling."""
    signal = make_signal(BSN_A)
    case_id = app.receive_signal(signal, partner_ctx(signal)).case_id
    assert case_id is not None
    today = app.clock().date()
    app.request_consent(c.RequestConsent(case_id=case_id), CTX)
    app.record_consent(c.RecordConsent(case_id=case_id, given=True, scope=[JGZ, DEBTS]), CTX)
    app.record_discussion(
        c.RecordDiscussion(
            case_id=case_id,
            on=today,
            participants=[JGZ],
            scores=scores(),
            needs=[Need.FINANCIAL, Need.HOUSING],
        ),
        CTX,
    )
    app.match_support(
        c.MatchSupport(
            case_id=case_id,
            offer_ids=["schuldhulpverlening"],
            lead_professional="JGZ",
            planned_start=today,
        ),
        CTX,
    )
    return case_id


def partner(organisation: str) -> c.Context:
    actor = Actor(organisation=organisation, role=ActorRole.PARTNER, user_ref="p-1")
    return c.Context(actor=actor, causation_id="partner-1")


def start(app: Referrals, case_id: UUID, ctx: c.Context = CTX) -> None:
    cmd = c.StartSupport(case_id=case_id, on=app.clock().date(), lead_professional="Els")
    app.start_support(cmd, ctx)


def test_the_provider_in_the_consent_confirms_the_start(app: Referrals) -> None:
    case_id = matched_case(app)

    start(app, case_id, partner(DEBTS))

    case = app.get_case(case_id)
    assert case.state is State.SUPPORT_STARTED
    assert case.support_started is not None
    assert (case.support_started["by"], case.support_started["on"]) == (DEBTS, app.clock().date())


def test_a_partner_outside_the_consent_cannot_confirm_a_start(app: Referrals) -> None:
    case_id = matched_case(app)

    with pytest.raises(ConsentRequiredError, match="does not cover woonconsulent"):
        start(app, case_id, partner("woonconsulent-regio"))
    assert app.get_case(case_id).state is State.SUPPORT_MATCHED


def test_a_start_in_the_future_is_refused(app: Referrals) -> None:
    case_id = matched_case(app)
    later = app.clock().date() + timedelta(days=1)

    with pytest.raises(InvalidValueError, match="start date lies in the future"):
        app.start_support(c.StartSupport(case_id=case_id, on=later, lead_professional="Els"), CTX)


def test_an_evaluation_records_needs_scores_and_what_next(
    app: Referrals, clock: FixedClock
) -> None:
    case_id = matched_case(app)
    start(app, case_id)
    clock.advance(days=90)
    today = clock().date()

    app.record_evaluation(
        c.RecordEvaluation(
            case_id=case_id,
            on=today,
            needs={Need.FINANCIAL: NeedResult.MET, Need.HOUSING: NeedResult.NOT_MET},
            scores=scores(6, 8),
            next_step=NextStep.DISCUSS_AGAIN,
        ),
        CTX,
    )

    case = app.get_case(case_id)
    assert case.state is State.EVALUATED
    assert case.evaluations[-1]["needs"] == {"financial": "met", "housing": "not_met"}
    assert case.evaluations[-1]["next_step"] == "discuss_again"
    # Re-discussion after the evaluation: back to discussed, new matches possible.
    app.record_discussion(
        c.RecordDiscussion(
            case_id=case_id, on=today, participants=[JGZ], scores=scores(), needs=[Need.HOUSING]
        ),
        CTX,
    )
    assert app.get_case(case_id).state is State.DISCUSSED


def test_an_evaluation_of_a_need_not_found_or_before_the_start_is_refused(
    app: Referrals, clock: FixedClock
) -> None:
    case_id = matched_case(app)
    start(app, case_id)
    today = clock().date()
    unknown = c.RecordEvaluation(
        case_id=case_id,
        on=today,
        needs={Need.ADDICTION: NeedResult.MET},
        scores=scores(),
        next_step=NextStep.CLOSE,
    )
    early = unknown.model_copy(
        update={"on": today - timedelta(days=1), "needs": {Need.FINANCIAL: NeedResult.MET}}
    )

    with pytest.raises(InvalidValueError, match="addiction was not a need found"):
        app.record_evaluation(unknown, CTX)
    with pytest.raises(InvalidValueError, match="before the support started"):
        app.record_evaluation(early, CTX)
    assert app.get_case(case_id).state is State.SUPPORT_STARTED


def test_an_evaluation_before_the_start_is_refused_by_the_lifecycle(app: Referrals) -> None:
    case_id = matched_case(app)
    cmd = c.RecordEvaluation(
        case_id=case_id,
        on=app.clock().date(),
        needs={Need.FINANCIAL: NeedResult.MET},
        scores=scores(),
        next_step=NextStep.CLOSE,
    )

    with pytest.raises(IllegalTransitionError, match="not allowed in state support_matched"):
        app.record_evaluation(cmd, CTX)


def close(app: Referrals, case_id: UUID) -> None:
    app.close_case(
        c.Close(case_id=case_id, outcome=Outcome.SUPPORT_COMPLETED, reason="afgerond"), CTX
    )


def test_reopening_opens_a_linked_follow_up_that_new_signals_join(
    app: Referrals, clock: FixedClock
) -> None:
    case_id = matched_case(app)
    close(app, case_id)
    clock.advance(days=40)

    follow_up = app.reopen_case(c.Reopen(case_id=case_id), CTX).case_id

    earlier, new = app.get_case(case_id), app.get_case(follow_up)
    assert (earlier.state, earlier.followed_by) == (State.CLOSED, str(follow_up))
    assert (new.state, new.follows) == (State.SIGNALLED, str(case_id))
    assert app.member_pseudonyms(new) == app.member_pseudonyms(earlier)  # each sealed anew
    assert app.earlier_case(new) == case_id
    # A further signal about the person joins the follow-up case.
    signal = make_signal(BSN_A)
    joined = app.receive_signal(signal, partner_ctx(signal))
    assert (joined.case_id, joined.matched_existing) == (follow_up, True)
    # Reopening twice is refused.
    with pytest.raises(InvalidValueError, match="already reopened"):
        app.reopen_case(c.Reopen(case_id=case_id), CTX)


def test_reopening_after_the_period_or_with_another_open_case_is_refused(
    app: Referrals, clock: FixedClock
) -> None:
    case_id = matched_case(app)
    close(app, case_id)
    signal = make_signal(BSN_A)
    newer = app.receive_signal(signal, partner_ctx(signal)).case_id
    assert newer is not None
    assert newer != case_id

    with pytest.raises(InvalidValueError, match="already has an open case"):
        app.reopen_case(c.Reopen(case_id=case_id), CTX)
    # The new case shows the earlier one, closed within the reopening period.
    assert app.earlier_case(app.get_case(newer)) == case_id
    close(app, newer)
    closed_on = clock().date()
    clock.now = clock.now + (add_months(closed_on, 6) - closed_on) + timedelta(days=1)
    with pytest.raises(InvalidValueError, match="more than 6 months ago"):
        app.reopen_case(c.Reopen(case_id=newer), CTX)


def test_a_new_signal_long_after_closing_shows_no_earlier_case(
    app: Referrals, clock: FixedClock
) -> None:
    case_id = matched_case(app)
    close(app, case_id)
    clock.advance(days=200)
    signal = make_signal(BSN_A)
    newer = app.receive_signal(signal, partner_ctx(signal)).case_id
    assert newer is not None

    assert app.earlier_case(app.get_case(newer)) is None


def test_add_months_keeps_the_day_or_takes_the_months_last() -> None:
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2026, 1, 15), 12) == date(2027, 1, 15)
