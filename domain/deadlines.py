"""Service levels per step (*doorlooptijden*) and a case's next deadline.

Every open state waits for a step with a due date, also after the match (the support's start,
its evaluation some months after the start, the closing or a new discussion). Working days
skip Saturdays, Sundays and Dutch public holidays (``domain/working_days.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from domain.after_match import add_months
from domain.deadline_holds import held_deadline
from domain.lifecycle import State
from domain.working_days import add_working_days as add_working_days
from domain.working_days import is_working_day as is_working_day  # re-exported

if TYPE_CHECKING:
    from domain.referral import Referral


@dataclass(frozen=True)
class ServiceLevels:
    """Targets for each step of the Knooppunt, configurable per coalition."""

    consent_request_working_days: int = 5
    consent_answer_days: int = 10
    discussion_days: int = 10
    support_days: int = 10
    # After the match: support that starts, its evaluation, a closing, a reopening.
    support_start_days: int = 20
    evaluation_months: int = 3
    closing_days: int = 20
    reopen_months: int = 6
    # Other days for some municipalities (a region's configuration), by CBS code.
    per_municipality: tuple[tuple[str, ServiceLevels], ...] = ()

    def for_municipality(self, code: str) -> ServiceLevels:
        """The levels that hold in ``code``: its own when the region sets them, else these."""
        return next((levels for c, levels in self.per_municipality if c == code), self)


@dataclass(frozen=True)
class Deadline:
    """The next step a case is waiting for and the date it is due."""

    step: str
    due: date
    suspended_until: date | None = None  # while suspended (*opgeschort*) the clock stops

    def is_overdue(self, at: datetime) -> bool:
        return self.suspended_until is None and at.date() > self.due


def deadline_of(
    state: State,
    signalled_at: datetime,
    milestones: dict[str, datetime],
    levels: ServiceLevels,
) -> tuple[str, date] | None:
    """The step a case in ``state`` waits for and its due date, from its milestones.

    One rule for the aggregate and the work queue (which keeps the milestones its events
    carry). ``support_started`` is the day the support began, not the day it was recorded.
    """
    m = milestones
    if state is State.SIGNALLED:
        due = add_working_days(signalled_at.date(), levels.consent_request_working_days)
        return "request_consent", due
    days: dict[State, tuple[str, str, int]] = {
        State.CONSENT_REQUESTED: (
            "consent_answer",
            "consent_requested",
            levels.consent_answer_days,
        ),
        State.CONSENTED: ("discussion", "consented", levels.discussion_days),
        State.ESCALATED: ("discussion", "escalated", levels.discussion_days),
        State.DISCUSSED: ("support", "discussed", levels.support_days),
        State.SUPPORT_MATCHED: ("support_start", "support_matched", levels.support_start_days),
        State.EVALUATED: ("closing", "evaluated", levels.closing_days),
        State.CONSENT_DECLINED: ("closing", "consent_declined", levels.closing_days),
        State.WITHDRAWN: ("closing", "consent_withdrawn", levels.closing_days),
    }
    if state is State.SUPPORT_STARTED and "support_started" in m:
        return "evaluation", add_months(m["support_started"].date(), levels.evaluation_months)
    if state in days and days[state][1] in m:
        step, milestone, n = days[state]
        return step, m[milestone].date() + timedelta(days=n)
    return None


def next_deadline(case: Referral, levels: ServiceLevels) -> Deadline | None:
    """The deadline the case is working towards in its current state, if any (holds applied)."""
    held = held_deadline(step_deadline(case, levels), case.deadline_hold)
    return Deadline(*held) if held else None


def step_deadline(case: Referral, levels: ServiceLevels) -> tuple[str, date] | None:
    """The current step and its due date from the service levels alone (no holds)."""
    return deadline_of(
        case.state,
        case.signalled_at,
        case.milestones,
        levels.for_municipality(case.municipality),
    )
