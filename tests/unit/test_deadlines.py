"""Service levels: working days, each state's next deadline, and when it is overdue."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from domain.deadlines import Deadline, ServiceLevels, add_working_days, next_deadline
from domain.lifecycle import State
from domain.referral import Referral
from ks_engine.clock import AMSTERDAM
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.referral_builders import (
    close,
    decline,
    discuss,
    escalate,
    give,
    match,
    new_case,
    request,
    withdraw,
)

MON, FRI, SAT, SUN = date(2026, 11, 2), date(2026, 11, 6), date(2026, 11, 7), date(2026, 11, 8)


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (MON, 0, MON),
        (MON, 1, date(2026, 11, 3)),
        (MON, 5, date(2026, 11, 9)),  # a full week later
        (FRI, 1, date(2026, 11, 9)),  # over the weekend to Monday
        (FRI, 5, date(2026, 11, 13)),
        (SAT, 1, date(2026, 11, 9)),  # a weekend day counts from the next Monday
        (SUN, 5, date(2026, 11, 13)),
        (MON, 10, date(2026, 11, 16)),
        (date(2026, 12, 31), 2, date(2027, 1, 4)),  # across a year end and a weekend
    ],
)
def test_working_days_skip_weekends(start: date, days: int, expected: date) -> None:
    assert add_working_days(start, days) == expected
    assert add_working_days(start, days).weekday() < 5 or days == 0


LEVELS = ServiceLevels(
    consent_request_working_days=5, consent_answer_days=7, discussion_days=10, support_days=14
)


def test_each_state_has_its_next_deadline(clock: FixedClock) -> None:
    # Monday: signalled. Consent must be asked within 5 working days.
    case = new_case(clock())
    assert next_deadline(case, LEVELS) == Deadline("request_consent", date(2026, 11, 9))

    # Wednesday: consent asked. The family's answer is due 7 days later.
    clock.advance(days=2)
    request(case, clock())
    assert next_deadline(case, LEVELS) == Deadline("consent_answer", date(2026, 11, 11))

    # Thursday: consent given. The discussion is due 10 days later.
    clock.advance(days=1)
    give(case, clock())
    assert next_deadline(case, LEVELS) == Deadline("discussion", date(2026, 11, 15))

    # Next Monday: discussed. Support is due 14 days later.
    clock.advance(days=4)
    discuss(case, clock())
    assert next_deadline(case, LEVELS) == Deadline("support", date(2026, 11, 23))

    # Support matched: nothing more is due.
    match(case, clock())
    assert case.state is State.SUPPORT_MATCHED
    assert next_deadline(case, LEVELS) is None


def test_an_escalated_case_is_due_for_discussion(clock: FixedClock) -> None:
    case = new_case(clock())
    clock.advance(days=3)
    escalate(case, clock())

    assert next_deadline(case, LEVELS) == Deadline("discussion", date(2026, 11, 15))


def test_a_new_consent_request_restarts_the_answer_deadline(clock: FixedClock) -> None:
    case = new_case(clock())
    request(case, clock())
    decline(case, clock())
    assert next_deadline(case, LEVELS) is None

    clock.advance(days=20)
    request(case, clock())

    assert next_deadline(case, LEVELS) == Deadline(
        "consent_answer", clock().date() + timedelta(days=7)
    )


@pytest.mark.parametrize("last_step", [withdraw, close])
def test_withdrawn_and_closed_cases_have_no_deadline(
    clock: FixedClock, last_step: Callable[[Referral, datetime], None]
) -> None:
    case = new_case(clock())
    request(case, clock())
    give(case, clock())
    last_step(case, clock())

    assert next_deadline(case, LEVELS) is None


def test_a_deadline_is_overdue_only_after_its_day() -> None:
    deadline = Deadline("request_consent", date(2026, 11, 9))

    assert not deadline.is_overdue(datetime(2026, 11, 8, 12, 0, tzinfo=AMSTERDAM))
    assert not deadline.is_overdue(datetime(2026, 11, 9, 23, 59, tzinfo=AMSTERDAM))
    assert deadline.is_overdue(datetime(2026, 11, 10, 0, 0, tzinfo=AMSTERDAM))


def test_a_signal_before_the_weekend_is_overdue_after_five_working_days(
    clock: FixedClock,
) -> None:
    clock.now = datetime(2026, 11, 6, 16, 0, tzinfo=AMSTERDAM)  # Friday afternoon
    case = new_case(clock())
    deadline = next_deadline(case, ServiceLevels())
    assert deadline == Deadline("request_consent", date(2026, 11, 13))

    assert not deadline.is_overdue(datetime(2026, 11, 13, 17, 0, tzinfo=AMSTERDAM))
    assert deadline.is_overdue(datetime(2026, 11, 16, 9, 0, tzinfo=AMSTERDAM))


def test_service_levels_come_from_settings(tmp_path: Path) -> None:
    settings = Settings(
        store="memory", data_dir=tmp_path, consent_request_working_days=3, support_days=20
    )

    levels = settings.service_levels
    assert levels.for_municipality("GM0928") == replace(
        levels,
        consent_request_working_days=3,
        consent_answer_days=10,
        discussion_days=10,
        support_days=20,
    )
    # The demo region gives Vaals its own days for discussion and support; the rest holds.
    assert levels.for_municipality("GM0981") == replace(
        levels, discussion_days=15, support_days=15, per_municipality=()
    )
