"""Deadlines that can wait: suspending, resuming and extending, across weekends and holidays."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.deadline_holds import resumed_due, working_days_between
from domain.deadlines import add_working_days, is_working_day, next_deadline
from domain.errors import IllegalTransitionError, InvalidValueError
from domain.lifecycle import Action, State, next_state
from ks_engine import commands as c
from ks_engine.application import Referrals
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.referral_builders import BSN_A, coordinator_ctx, make_signal, partner_ctx

CTX = coordinator_ctx()


def test_working_days_between_skips_weekends_and_dutch_holidays() -> None:
    # Christmas 2026: Friday 25 and Saturday 26 December; New Year's Day a Friday.
    assert working_days_between(date(2026, 12, 23), date(2026, 12, 30)) == 4  # 24, 28, 29, 30
    assert working_days_between(date(2026, 12, 23), date(2026, 12, 23)) == 0
    assert working_days_between(date(2026, 12, 30), date(2026, 12, 23)) == 0
    # King's Day 2026 is Monday 27 April.
    assert working_days_between(date(2026, 4, 24), date(2026, 4, 28)) == 1


def test_a_suspension_over_christmas_continues_with_the_days_that_were_left() -> None:
    # Suspended on 21 December with the deadline on 23 December: two working days left.
    due = resumed_due(date(2026, 12, 21), date(2026, 12, 23), date(2026, 12, 24))
    assert due == date(2026, 12, 29)  # 28 and 29 December; 25 and 26 are holidays


working_days = st.dates(date(2025, 1, 1), date(2030, 12, 31)).filter(is_working_day)


@given(start=working_days, left=st.integers(0, 40), paused=st.integers(0, 60))
def test_suspending_for_n_working_days_moves_the_deadline_by_n_working_days(
    start: date, left: int, paused: int
) -> None:
    due = add_working_days(start, left)
    resumed_on = add_working_days(start, paused)
    assert resumed_due(start, due, resumed_on) == add_working_days(due, paused)
    assert working_days_between(resumed_on, resumed_due(start, due, resumed_on)) == left


def test_the_holds_are_reflexive_actions_of_every_open_state() -> None:
    for action in (Action.SUSPEND_DEADLINE, Action.RESUME_DEADLINE, Action.EXTEND_DEADLINE):
        for state in State:
            expected = None if state is State.CLOSED else state
            assert next_state(state, action) is expected


@pytest.fixture
def app(tmp_path: Path, clock: FixedClock) -> Iterator[Referrals]:
    engine: Engine = bootstrap(
        Settings(store="memory", data_dir=tmp_path), clock=clock, configure_logs=False
    )
    yield engine.referrals
    engine.close()


def signalled(app: Referrals) -> UUID:
    signal = make_signal(BSN_A)
    case_id = app.receive_signal(signal, partner_ctx(signal)).case_id
    assert case_id is not None
    return case_id


def suspend(app: Referrals, case_id: UUID, until: date, reason: str = "moeder opgenomen") -> None:
    app.suspend_deadline(c.SuspendDeadline(case_id=case_id, reason=reason, until=until), CTX)


def test_suspension_stops_the_clock_and_resumption_continues_it(
    app: Referrals, clock: FixedClock
) -> None:
    case_id = signalled(app)  # Monday 2 November 2026: consent asked within 5 working days
    levels = app.service_levels
    assert next_deadline(app.get_case(case_id), levels).due == date(2026, 11, 9)  # type: ignore[union-attr]
    clock.advance(days=2)  # Wednesday: 3 working days left
    suspend(app, case_id, date(2026, 11, 20), reason="BSN 111222333 in het ziekenhuis")
    case = app.get_case(case_id)
    held = next_deadline(case, levels)
    assert held is not None
    assert held.suspended_until == date(2026, 11, 20)
    assert case.state is State.SIGNALLED  # not a state change
    stored = list(app.events.get(case_id))[-1]
    assert type(stored).__name__ == "DeadlineSuspended"
    assert stored.reason == "BSN [BSN] in het ziekenhuis"  # type: ignore[attr-defined]
    clock.advance(days=14)  # far past the original deadline: not overdue while suspended
    assert not held.is_overdue(clock())
    app.resume_deadline(c.ResumeDeadline(case_id=case_id), CTX)  # Wednesday 18 November
    resumed = next_deadline(app.get_case(case_id), levels)
    assert resumed is not None
    assert resumed.suspended_until is None
    assert resumed.due == date(2026, 11, 23)  # 19, 20, 23: the three days that were left


def test_refusals_in_words_a_coordinator_understands(app: Referrals, clock: FixedClock) -> None:
    case_id = signalled(app)
    with pytest.raises(IllegalTransitionError, match="not suspended"):
        app.resume_deadline(c.ResumeDeadline(case_id=case_id), CTX)
    with pytest.raises(InvalidValueError, match="resume date must lie after today"):
        suspend(app, case_id, clock().date() - timedelta(days=1))
    with pytest.raises(InvalidValueError, match="after the current deadline, 2026-11-09"):
        app.extend_deadline(
            c.ExtendDeadline(case_id=case_id, reason="meer tijd", due=date(2026, 11, 9)), CTX
        )
    suspend(app, case_id, date(2026, 11, 20))
    with pytest.raises(IllegalTransitionError, match="already suspended until 2026-11-20"):
        suspend(app, case_id, date(2026, 11, 27))
    with pytest.raises(IllegalTransitionError, match="resume it first"):
        app.extend_deadline(
            c.ExtendDeadline(case_id=case_id, reason="meer tijd", due=date(2026, 12, 1)), CTX
        )


def test_an_extension_is_allowed_once_per_step(app: Referrals, clock: FixedClock) -> None:
    case_id = signalled(app)
    extend = c.ExtendDeadline(case_id=case_id, reason="gezin op vakantie", due=date(2026, 11, 16))
    app.extend_deadline(extend, CTX)
    case = app.get_case(case_id)
    assert next_deadline(case, app.service_levels).due == date(2026, 11, 16)  # type: ignore[union-attr]
    again = extend.model_copy(update={"due": date(2026, 11, 20)})
    with pytest.raises(IllegalTransitionError, match="already extended once"):
        app.extend_deadline(again, CTX)
    # A suspension of the extended step keeps the extension counted.
    suspend(app, case_id, date(2026, 11, 5))
    app.resume_deadline(c.ResumeDeadline(case_id=case_id), CTX)
    with pytest.raises(IllegalTransitionError, match="already extended once"):
        app.extend_deadline(again, CTX)
    # The next step has its own deadline, and may be extended again.
    app.request_consent(c.RequestConsent(case_id=case_id), CTX)
    case = app.get_case(case_id)
    step = next_deadline(case, app.service_levels)
    assert step is not None
    assert step.step == "consent_answer"
    assert step.due == clock().date() + timedelta(days=10)
    app.extend_deadline(again.model_copy(update={"due": date(2026, 12, 1)}), CTX)
    assert next_deadline(app.get_case(case_id), app.service_levels).due == date(2026, 12, 1)  # type: ignore[union-attr]


def test_a_closed_case_has_no_deadline_to_suspend(app: Referrals) -> None:
    case_id = signalled(app)
    app.close_case(c.Close(case_id=case_id, outcome="no_longer_needed", reason="verhuisd"), CTX)  # type: ignore[arg-type]
    with pytest.raises(IllegalTransitionError, match="closed"):
        suspend(app, case_id, date(2026, 11, 20))
