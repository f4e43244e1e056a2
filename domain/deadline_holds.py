"""Deadlines that can wait: suspending (*opschorten*), resuming and extending (*verlengen*).

A hold belongs to one step: the step's name and the due date the service levels give it
(``base``). When the case moves on, the next step has another base and the hold no longer
applies. While suspended the clock does not run; on resumption the working days that were
left continue from the resume day. An extension sets a later date, once per step.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import event

from domain import guards
from domain.errors import IllegalTransitionError, InvalidValueError
from domain.household_changes import HouseholdChanges
from domain.lifecycle import Action, State, allowed_actions
from domain.redaction import redact_bsns
from domain.values import Actor
from domain.working_days import add_working_days, is_working_day

Json = dict[str, Any]


def working_days_between(start: date, end: date) -> int:
    """The working days after ``start`` up to and including ``end`` (0 when ``end`` <= start)."""
    days, current = 0, start
    while current < end:
        current += timedelta(days=1)
        days += is_working_day(current)
    return days


def resumed_due(suspended_on: date, due: date, resumed_on: date) -> date:
    """The new due date: the working days left at the suspension, counted from the resume day."""
    return add_working_days(resumed_on, working_days_between(suspended_on, due))


def hold_for(found: tuple[str, date] | None, hold: Json | None) -> Json | None:
    """The hold when it belongs to the step ``found`` (the unadjusted deadline), else None."""
    if found is None or hold is None:
        return None
    return hold if (hold["step"], hold["base"]) == (found[0], found[1].isoformat()) else None


def held_deadline(
    found: tuple[str, date] | None, hold: Json | None
) -> tuple[str, date, date | None] | None:
    """Step, due date and (while suspended) the expected resume date, holds applied."""
    if found is None:
        return None
    current = hold_for(found, hold)
    if current is None:
        return found[0], found[1], None
    until = current.get("until")
    return (
        found[0],
        date.fromisoformat(current["due"]),
        date.fromisoformat(until) if until else None,
    )


# How each event changes a hold: the same for the aggregate and the work queue.
def suspended(
    hold: Json | None, step: str, base: date, due: date, until: date, at: datetime
) -> Json:
    """The hold after a suspension on ``at``; an extension of the same step is remembered."""
    same = hold is not None and (hold["step"], hold["base"]) == (step, base.isoformat())
    kept: Json = dict(hold) if same and hold is not None else {"extended": False}
    kept.update(step=step, base=base.isoformat(), due=due.isoformat())
    kept.update(until=until.isoformat(), since=at.date().isoformat())
    return kept


def resumed(hold: Json | None, due: date) -> Json:
    """The hold after a resumption: running again towards ``due``."""
    return {**(hold or {}), "due": due.isoformat(), "until": None, "since": None}


def extended(hold: Json | None, step: str, base: date, due: date) -> Json:
    """The hold after an extension of the step to ``due``."""
    fields = {"step": step, "base": base.isoformat(), "due": due.isoformat()}
    return {**(hold or {}), **fields, "until": None, "since": None, "extended": True}


def _cause(actor: Actor, at: datetime, causation_id: str) -> Json:
    return {"actor": actor.model_dump(mode="json"), "occurred_at": at, "causation_id": causation_id}


class DeadlineHolds(HouseholdChanges):
    """The case's deadline holds; ``found`` is the unadjusted deadline of its current step."""

    if TYPE_CHECKING:
        last_activity_at: datetime
        deadline_hold: Json | None  # {"step", "base", "due", "until", "since", "extended"}

        @property
        def state(self) -> State: ...
    else:
        deadline_hold = None

    def _running(self, action: Action, found: tuple[str, date] | None) -> tuple[Json, str]:
        guards.check_transition(self.id, self.state, action)
        head = f"cannot {guards.PHRASES[action]} for case {self.id}"
        if found is None:
            raise IllegalTransitionError(
                f"{head}: no deadline is running in its current step",
                state=self.state.value,
                allowed=[a.value for a in allowed_actions(self.state)],
            )
        base = {"step": found[0], "base": found[1].isoformat(), "due": found[1].isoformat()}
        return hold_for(found, self.deadline_hold) or base, head

    def _refuse(self, message: str) -> IllegalTransitionError:
        allowed = [a.value for a in allowed_actions(self.state)]
        return IllegalTransitionError(message, state=self.state.value, allowed=allowed)

    def suspend_deadline(
        self,
        *,
        found: tuple[str, date] | None,
        reason: str,
        until: date,
        actor: Actor,
        at: datetime,
        causation_id: str,
    ) -> None:
        """Stop the clock of the current step until ``until`` (expected), with a reason."""
        hold, head = self._running(Action.SUSPEND_DEADLINE, found)
        if hold.get("until"):
            raise self._refuse(f"{head}: it is already suspended until {hold['until']}")
        if until <= at.date():
            raise InvalidValueError(f"{head}: the expected resume date must lie after today")
        if not reason.strip():
            raise InvalidValueError(f"{head}: give a reason")
        self._deadline_suspended(
            step=hold["step"],
            base=date.fromisoformat(hold["base"]),
            due=date.fromisoformat(hold["due"]),
            until=until,
            reason=redact_bsns(reason.strip()),
            **_cause(actor, at, causation_id),
        )

    @event("DeadlineSuspended")
    def _deadline_suspended(
        self,
        step: str,
        base: date,
        due: date,
        until: date,
        reason: str,
        actor: Json,
        occurred_at: datetime,
        causation_id: str,
    ) -> None:
        self.deadline_hold = suspended(self.deadline_hold, step, base, due, until, occurred_at)
        self.last_activity_at = occurred_at

    def resume_deadline(
        self, *, found: tuple[str, date] | None, actor: Actor, at: datetime, causation_id: str
    ) -> None:
        """Let the clock run again: the working days left continue from today."""
        hold, head = self._running(Action.RESUME_DEADLINE, found)
        if not hold.get("until"):
            raise self._refuse(f"{head}: its deadline is not suspended")
        due = resumed_due(
            date.fromisoformat(hold["since"]), date.fromisoformat(hold["due"]), at.date()
        )
        self._deadline_resumed(step=hold["step"], due=due, **_cause(actor, at, causation_id))

    @event("DeadlineResumed")
    def _deadline_resumed(
        self, step: str, due: date, actor: Json, occurred_at: datetime, causation_id: str
    ) -> None:
        self.deadline_hold = resumed(self.deadline_hold, due)
        self.last_activity_at = occurred_at

    def extend_deadline(
        self,
        *,
        found: tuple[str, date] | None,
        reason: str,
        due: date,
        actor: Actor,
        at: datetime,
        causation_id: str,
    ) -> None:
        """Set a later due date for the current step, once per step, with a reason."""
        hold, head = self._running(Action.EXTEND_DEADLINE, found)
        if hold.get("extended"):
            raise self._refuse(f"{head}: this step's deadline was already extended once")
        if hold.get("until"):
            raise self._refuse(f"{head}: the deadline is suspended; resume it first")
        if due <= date.fromisoformat(hold["due"]):
            raise InvalidValueError(
                f"{head}: the new date must lie after the current deadline, {hold['due']}"
            )
        if not reason.strip():
            raise InvalidValueError(f"{head}: give a reason")
        self._deadline_extended(
            step=hold["step"],
            base=date.fromisoformat(hold["base"]),
            due=due,
            reason=redact_bsns(reason.strip()),
            **_cause(actor, at, causation_id),
        )

    @event("DeadlineExtended")
    def _deadline_extended(
        self,
        step: str,
        base: date,
        due: date,
        reason: str,
        actor: Json,
        occurred_at: datetime,
        causation_id: str,
    ) -> None:
        self.deadline_hold = extended(self.deadline_hold, step, base, due)
        self.last_activity_at = occurred_at
