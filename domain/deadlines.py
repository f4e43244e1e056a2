"""Service levels per step (*doorlooptijden*) and a case's next deadline.

Working days skip Saturdays and Sundays; public holidays are not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.lifecycle import State
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

    def is_overdue(self, at: datetime) -> bool:
        return at.date() > self.due


def add_working_days(start: date, days: int) -> date:
    """``days`` working days (Monday-Friday) after ``start``."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def next_deadline(case: Referral, levels: ServiceLevels) -> Deadline | None:
    """The deadline the case is working towards in its current state, if any."""
    m = case.milestones
    state = case.state
    levels = levels.for_municipality(case.municipality)
    if state is State.SIGNALLED:
        due = add_working_days(case.signalled_at.date(), levels.consent_request_working_days)
        return Deadline("request_consent", due)
    if state is State.CONSENT_REQUESTED:
        start = m["consent_requested"].date()
        return Deadline("consent_answer", start + timedelta(days=levels.consent_answer_days))
    if state in (State.CONSENTED, State.ESCALATED):
        start = m["consented" if state is State.CONSENTED else "escalated"].date()
        return Deadline("discussion", start + timedelta(days=levels.discussion_days))
    if state is State.DISCUSSED:
        start = m["discussed"].date()
        return Deadline("support", start + timedelta(days=levels.support_days))
    return None
