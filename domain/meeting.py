"""The Knooppunt meeting (*casusoverleg*): a date, the consented cases on its agenda, who attends.

The coordinator plans a meeting of one municipality's Knooppunt on a date with the attending
organisations, puts cases on its agenda and records per case what was decided; concluding the
meeting fixes its minutes. A case goes on the agenda only while the family's consent is active
and names at least one attending organisation: without consent no case is discussed. Guards
raise before an event is triggered; event bodies only assign state. Nothing here holds free
text: decisions are codes, the discussion itself is recorded on the case.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import ConsentRequiredError, IllegalTransitionError, InvalidValueError
from domain.redaction import redact_bsns
from domain.referral import Referral
from domain.values import Actor

Json = dict[str, Any]
_NAMESPACE = UUID("b1d7e3a0-5c2f-4d8e-9a6b-3f0e1c2d4b5a")
MAX_ORGANISATIONS = 30
MAX_AGENDA = 60


class MeetingState(StrEnum):
    """Where a meeting stands: planned (agenda open, decisions recorded) or concluded."""

    PLANNED = "planned"
    CONCLUDED = "concluded"


class Decision(StrEnum):
    """What the meeting did with a case on its agenda."""

    DISCUSSED = "discussed"  # the discussion is recorded on the case (its Discussed event)
    POSTPONED = "postponed"  # to a later meeting; nothing recorded on the case


class FollowUp(StrEnum):
    """What happens next with a discussed case (*vervolgafspraak*)."""

    MATCH_SUPPORT = "match_support"
    MORE_INFORMATION = "more_information"
    DISCUSS_AGAIN = "discuss_again"
    NO_FURTHER_ACTION = "no_further_action"


def _cause(actor: Actor, at: datetime, causation_id: str) -> Json:
    return {"actor": actor.model_dump(mode="json"), "occurred_at": at, "causation_id": causation_id}


class Meeting(Aggregate):
    """One casusoverleg of a municipality's Knooppunt."""

    @classmethod
    def plan(
        cls,
        *,
        municipality: str,
        on: date,
        organisations: list[str],
        actor: Actor,
        at: datetime,
        causation_id: str,
    ) -> Meeting:
        """Plan a meeting on ``on`` with the attending ``organisations``."""
        typed = (redact_bsns(o).strip() for o in organisations)  # as every organisation typed
        attending = list(dict.fromkeys(o for o in typed if o))
        if not attending:
            raise InvalidValueError("a meeting needs at least one attending organisation")
        if len(attending) > MAX_ORGANISATIONS:
            raise InvalidValueError(f"a meeting has at most {MAX_ORGANISATIONS} organisations")
        if on < at.date():
            raise InvalidValueError(f"the meeting date {on.isoformat()} lies in the past")
        return cls._create(
            cls.Planned,
            municipality=municipality,
            on=on,
            organisations=attending,
            **_cause(actor, at, causation_id),
        )

    class Planned(Aggregate.Created):
        municipality: str
        on: date
        organisations: list[str]
        actor: Json
        occurred_at: datetime
        causation_id: str

    def __init__(
        self,
        municipality: str,
        on: date,
        organisations: list[str],
        actor: Json,
        occurred_at: datetime,
        causation_id: str,
    ) -> None:
        self.municipality = municipality
        self.on = on
        self.organisations = list(organisations)
        self.agenda: list[UUID] = []
        self.decisions: dict[str, Json] = {}  # by case id (text)
        self.state_value = MeetingState.PLANNED.value
        self.planned_at = occurred_at
        self.concluded_at: datetime | None = None

    # -- queries ------------------------------------------------------------------------
    @property
    def state(self) -> MeetingState:
        return MeetingState(self.state_value)

    def decision_on(self, case_id: UUID) -> Json | None:
        """What was decided about the case, or None while it waits."""
        return self.decisions.get(str(case_id))

    def attendees_named_by(self, case: Referral) -> list[str]:
        """The attending organisations that the case's consent names."""
        scope = set((case.consent or {}).get("scope", []))
        return [o for o in self.organisations if o in scope]

    # -- guards -------------------------------------------------------------------------
    def _refuse_if_concluded(self, action: str) -> None:
        if self.state is MeetingState.CONCLUDED:
            raise IllegalTransitionError(
                f"cannot {action}: meeting {self.id} of {self.on.isoformat()} is concluded",
                state=self.state_value,
                allowed=[],
            )

    def _check_case(self, case: Referral, today: date) -> None:
        """A case fits this meeting's agenda: its municipality, open, consent naming one of
        the attending organisations."""
        if case.municipality != self.municipality:
            raise InvalidValueError(
                f"case {case.id} belongs to another municipality than meeting {self.id}"
            )
        if not case.is_open:
            raise IllegalTransitionError(
                f"cannot put case {case.id} on the agenda: the case is closed",
                state=case.state.value,
                allowed=[],
            )
        case.refuse_if_restricted("schedule")
        if not case.consent_is_active(today):
            raise ConsentRequiredError(
                f"cannot put case {case.id} on the agenda: the family has not consented to "
                "discussion at the Knooppunt (or the consent expired or was withdrawn)",
                state=case.state.value,
                allowed=[],
            )
        if not self.attendees_named_by(case):
            raise ConsentRequiredError(
                f"cannot put case {case.id} on the agenda: the family's consent does not "
                "cover any of the attending organisations",
                state=case.state.value,
                allowed=[],
            )

    # -- commands -----------------------------------------------------------------------
    def schedule(self, case: Referral, *, actor: Actor, at: datetime, causation_id: str) -> None:
        """Put a consented case on the agenda (*agenderen*)."""
        self._refuse_if_concluded("change the agenda")
        if case.id in self.agenda:
            raise InvalidValueError(f"case {case.id} is already on the agenda of this meeting")
        if len(self.agenda) >= MAX_AGENDA:
            raise InvalidValueError(f"an agenda holds at most {MAX_AGENDA} cases")
        self._check_case(case, at.date())
        self._scheduled(case_id=case.id, **_cause(actor, at, causation_id))

    @event("CaseScheduled")
    def _scheduled(
        self, case_id: UUID, actor: Json, occurred_at: datetime, causation_id: str
    ) -> None:
        self.agenda.append(case_id)

    def unschedule(self, case_id: UUID, *, actor: Actor, at: datetime, causation_id: str) -> None:
        """Take a case off the agenda before anything was decided about it."""
        self._refuse_if_concluded("change the agenda")
        if case_id not in self.agenda:
            raise InvalidValueError(f"case {case_id} is not on the agenda of this meeting")
        if self.decision_on(case_id) is not None:
            raise InvalidValueError(f"case {case_id} was decided on in this meeting already")
        self._unscheduled(case_id=case_id, **_cause(actor, at, causation_id))

    @event("CaseUnscheduled")
    def _unscheduled(
        self, case_id: UUID, actor: Json, occurred_at: datetime, causation_id: str
    ) -> None:
        self.agenda.remove(case_id)

    def record_decision(
        self,
        case: Referral,
        *,
        decision: Decision,
        follow_up: FollowUp | None,
        lead_organisation: str | None,
        case_version: int | None,
        actor: Actor,
        at: datetime,
        causation_id: str,
    ) -> None:
        """Record what the meeting decided about a case on its agenda (once per case)."""
        self._refuse_if_concluded("record a decision")
        if case.id not in self.agenda:
            raise InvalidValueError(f"case {case.id} is not on the agenda of this meeting")
        if self.decision_on(case.id) is not None:
            raise InvalidValueError(f"case {case.id} was decided on in this meeting already")
        if at.date() < self.on:
            raise InvalidValueError(
                f"the meeting of {self.on.isoformat()} lies in the future; decide on the day"
            )
        if decision is Decision.DISCUSSED and follow_up is None:
            raise InvalidValueError("a discussed case needs its follow-up (what happens next)")
        if lead_organisation and lead_organisation not in self.attendees_named_by(case):
            raise ConsentRequiredError(
                f"the lead organisation of case {case.id} must attend and be covered by the "
                "family's consent",
                state=case.state.value,
                allowed=[],
            )
        self._decided(
            case_id=case.id,
            decision=decision.value,
            follow_up=follow_up.value if follow_up else None,
            lead_organisation=lead_organisation or None,
            case_version=case_version,
            **_cause(actor, at, causation_id),
        )

    @event("DecisionRecorded")
    def _decided(
        self,
        case_id: UUID,
        decision: str,
        follow_up: str | None,
        lead_organisation: str | None,
        case_version: int | None,
        actor: Json,
        occurred_at: datetime,
        causation_id: str,
    ) -> None:
        self.decisions[str(case_id)] = {
            "decision": decision,
            "follow_up": follow_up,
            "lead_organisation": lead_organisation,
            "case_version": case_version,
            "at": occurred_at,
        }

    def conclude(self, *, actor: Actor, at: datetime, causation_id: str) -> None:
        """Conclude the meeting: its minutes are fixed (*verslag vastgesteld*)."""
        self._refuse_if_concluded("conclude the meeting again")
        if at.date() < self.on:
            raise InvalidValueError(
                f"the meeting of {self.on.isoformat()} lies in the future; conclude it afterwards"
            )
        self._concluded(**_cause(actor, at, causation_id))

    @event("Concluded")
    def _concluded(self, actor: Json, occurred_at: datetime, causation_id: str) -> None:
        self.state_value = MeetingState.CONCLUDED.value
        self.concluded_at = occurred_at


def calendar_id(municipality: str) -> UUID:
    """The id of a municipality's meeting calendar."""
    return uuid5(_NAMESPACE, f"meetings:{municipality}")


class MeetingCalendar(Aggregate):
    """The meetings planned for one municipality, by id and date (an index, no case data)."""

    @staticmethod
    def create_id(municipality: str) -> UUID:
        return calendar_id(municipality)

    @event("Started")
    def __init__(self, municipality: str) -> None:
        self.municipality = municipality
        self.meetings: dict[str, date] = {}

    @event("MeetingAdded")
    def add(self, meeting_id: UUID, on: date) -> None:
        """The calendar lists this meeting from now on."""
        self.meetings[str(meeting_id)] = on
