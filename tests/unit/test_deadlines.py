"""Service levels: working days, each state's next deadline, and when it is overdue."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.deadlines import (
    Deadline,
    ServiceLevels,
    add_working_days,
    is_working_day,
    next_deadline,
)
from domain.lifecycle import State
from domain.working_days import _public_holidays, load_calendar
from ks_engine.clock import AMSTERDAM
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.referral_builders import (
    close,
    decline,
    discuss,
    escalate,
    evaluate,
    give,
    match,
    new_case,
    request,
    start,
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
        (date(2026, 12, 31), 2, date(2027, 1, 5)),  # New Year's Day and a weekend skipped
        (date(2027, 4, 26), 1, date(2027, 4, 28)),  # King's Day (Tuesday 27 April 2027)
        (date(2027, 3, 25), 1, date(2027, 3, 30)),  # Good Friday, the weekend, Easter Monday
        (date(2027, 12, 24), 1, date(2027, 12, 27)),  # Christmas on a weekend in 2027
        (date(2026, 12, 24), 1, date(2026, 12, 28)),  # Christmas (Friday), the weekend
        (date(2026, 5, 13), 1, date(2026, 5, 15)),  # Ascension Day, Thursday 14 May 2026
        (date(2026, 5, 22), 1, date(2026, 5, 26)),  # Whit Monday, 25 May 2026
    ],
)
def test_working_days_skip_weekends_and_dutch_public_holidays(
    start: date, days: int, expected: date
) -> None:
    assert add_working_days(start, days) == expected
    assert is_working_day(add_working_days(start, days)) or days == 0


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

    # Support matched: its start is due 20 days later.
    match(case, clock())
    assert case.state is State.SUPPORT_MATCHED
    assert next_deadline(case, LEVELS) == Deadline("support_start", date(2026, 11, 29))

    # Support started (on the day it was recorded): evaluation due three months later.
    start(case, clock())
    assert next_deadline(case, LEVELS) == Deadline("evaluation", date(2027, 2, 9))

    # Evaluated: the case is to be closed, or discussed again, within 20 days.
    clock.advance(days=90)
    evaluate(case, clock())
    assert next_deadline(case, LEVELS) == Deadline("closing", clock().date() + timedelta(20))


def test_an_escalated_case_is_due_for_discussion(clock: FixedClock) -> None:
    case = new_case(clock())
    clock.advance(days=3)
    escalate(case, clock())

    assert next_deadline(case, LEVELS) == Deadline("discussion", date(2026, 11, 15))


def test_a_new_consent_request_restarts_the_answer_deadline(clock: FixedClock) -> None:
    case = new_case(clock())
    request(case, clock())
    decline(case, clock())
    assert next_deadline(case, LEVELS) == Deadline("closing", clock().date() + timedelta(20))

    clock.advance(days=20)
    request(case, clock())

    assert next_deadline(case, LEVELS) == Deadline(
        "consent_answer", clock().date() + timedelta(days=7)
    )


def test_a_withdrawn_case_is_due_for_closing_and_a_closed_case_has_no_deadline(
    clock: FixedClock,
) -> None:
    case = new_case(clock())
    request(case, clock())
    give(case, clock())
    withdraw(case, clock())
    assert next_deadline(case, LEVELS) == Deadline("closing", clock().date() + timedelta(20))

    close(case, clock())
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


@given(start=st.dates(date(2024, 1, 1), date(2030, 12, 31)), days=st.integers(1, 40))
def test_n_working_days_later_lie_exactly_n_working_days_ahead(start: date, days: int) -> None:
    due = add_working_days(start, days)
    between = [start + timedelta(d) for d in range(1, (due - start).days + 1)]
    assert sum(is_working_day(d) for d in between) == days
    assert is_working_day(due)


def test_the_calendar_loaded_at_start_serves_this_year_and_the_next_without_reading_again() -> (
    None
):
    _public_holidays.cache_clear()
    load_calendar(date(2031, 12, 30))
    loaded = _public_holidays.cache_info()
    assert loaded.currsize == 2

    assert not is_working_day(date(2032, 1, 1))  # New Year's Day, of the next year
    assert not is_working_day(date(2031, 12, 25))
    assert is_working_day(date(2031, 12, 30))

    after = _public_holidays.cache_info()
    assert (after.misses, after.hits) == (loaded.misses, loaded.hits + 3)
