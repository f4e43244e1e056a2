"""Validated inputs of the application's commands, shared by CLI, NATS and HTTP adapters."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.after_match import NeedResult, NextStep
from domain.consent_record import ConsentRecord
from domain.correction import RetractionReason
from domain.escalation import EscalationPurpose
from domain.meeting import Decision, FollowUp
from domain.redaction import FreeText
from domain.restriction import RestrictionBasis
from domain.transfer import TransferBasis, TransferConsent
from domain.values import Actor, HealthScores, MeldcodeStep, MunicipalityCode, Need, Outcome


class Context(BaseModel):
    """Who issues a command and which message or request caused it."""

    model_config = ConfigDict(frozen=True)
    actor: Actor
    causation_id: str = Field(min_length=1, max_length=600)  # a signal's source#id too


class CaseCommand(BaseModel):
    """A command on one case, optionally based on the version the caller saw."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    case_id: UUID
    expected_version: int | None = Field(default=None, ge=1)


class RequestConsent(CaseCommand):
    """Ask the family for consent to discuss them at the Knooppunt."""


class RecordConsent(CaseCommand):
    """The family's answer: given (with scope and optional expiry) or declined."""

    given: bool
    scope: list[str] = Field(default_factory=list, max_length=50)
    expires_on: date | None = None
    record: ConsentRecord | None = None  # who gave it, how, when, for which purpose


class WithdrawConsent(CaseCommand):
    """The family withdrew consent."""


class RecordDiscussion(CaseCommand):
    """The case discussion: date, participants, Positieve Gezondheid scores, needs."""

    on: date
    participants: list[str] = Field(min_length=1, max_length=30)
    scores: HealthScores
    needs: list[Need] = Field(default_factory=list, max_length=20)


class MatchSupport(CaseCommand):
    """Agreed support: offers from the menukaart, the lead professional, the planned start."""

    offer_ids: list[str] = Field(min_length=1, max_length=10)
    lead_professional: str = Field(min_length=1, max_length=200)
    planned_start: date


class Escalate(CaseCommand):
    """Escalation under the Meldcode, with legal basis and justification; it lifts the consent
    check only for the organisations it names and for its purpose."""

    meldcode_step: MeldcodeStep
    legal_basis: str = Field(min_length=3, max_length=200)
    justification: str = Field(min_length=10, max_length=2000)
    organisations: list[str] = Field(min_length=1, max_length=30)
    purpose: EscalationPurpose


class Close(CaseCommand):
    """Close the case with its outcome."""

    outcome: Outcome
    reason: str = Field(default="", max_length=500)


# -- the household --------------------------------------------------------------------------
class MergeCases(CaseCommand):
    """Take another open case of the same household into this one."""

    other_case_id: UUID


class RecordBirth(CaseCommand):
    """The expected child was born: its pseudonym (from its BSN), birth date and name."""

    child_pseudonym: str = Field(min_length=16, max_length=128)
    birth_date: date
    name: str | None = Field(default=None, max_length=200)


# -- after the match ----------------------------------------------------------------------------
class StartSupport(CaseCommand):
    """The matched support began: its first day and the lead professional."""

    on: date
    lead_professional: str = Field(min_length=1, max_length=200)


class RecordEvaluation(CaseCommand):
    """The evaluation of the support: per need met or not, new scores, what next."""

    on: date
    needs: dict[Need, NeedResult] = Field(min_length=1, max_length=20)
    scores: HealthScores
    next_step: NextStep


class Reopen(CaseCommand):
    """Reopen a recently closed case as a linked follow-up case."""


class SuspendDeadline(CaseCommand):
    """Stop the clock of the current step (*opschorten*): why, and when it should go on."""

    reason: FreeText = Field(min_length=1, max_length=500)
    until: date


class ResumeDeadline(CaseCommand):
    """Let the suspended clock run again from today."""


class ExtendDeadline(CaseCommand):
    """A later due date for the current step (*verlengen*), once per step, with a reason."""

    reason: FreeText = Field(min_length=1, max_length=500)
    due: date


# -- who owns a case ----------------------------------------------------------------------------
class Assign(CaseCommand):
    """Assign the case to a coordinator of its municipality (the issuer's own id: taken)."""

    coordinator: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")


class AddNote(BaseModel):
    """A coordinator's note on a case: free text, sealed before it is stored."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    case_id: UUID
    text: FreeText = Field(min_length=1, max_length=4000)


# -- the family's rights (AVG) ------------------------------------------------------------------
class Restrict(CaseCommand):
    """Restrict processing of the case (AVG art. 18/21), on the family's request."""

    basis: RestrictionBasis


class LiftRestriction(CaseCommand):
    """Lift the restriction: the case goes on where it stood."""


# -- the Knooppunt meeting (casusoverleg) ------------------------------------------------------
class PlanMeeting(BaseModel):
    """Plan a meeting: the municipality's Knooppunt, the date, who attends, the first cases."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    municipality: str = Field(pattern=r"^GM\d{4}$")
    on: date
    organisations: list[str] = Field(min_length=1, max_length=30)
    case_ids: list[UUID] = Field(default_factory=list, max_length=60)


class MeetingCommand(BaseModel):
    """A command on one meeting."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    meeting_id: UUID


class ScheduleCase(MeetingCommand):
    """Put a consented case on the meeting's agenda."""

    case_id: UUID


class UnscheduleCase(MeetingCommand):
    """Take a case off the agenda (before anything was decided about it)."""

    case_id: UUID


class MeetingDiscussion(BaseModel):
    """The case discussion held at the meeting: who took part, scores, needs found."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    participants: list[str] = Field(min_length=1, max_length=30)
    scores: HealthScores
    needs: list[Need] = Field(default_factory=list, max_length=20)


class RecordMeetingDecision(MeetingCommand):
    """What the meeting decided about a case; a discussed case gets its discussion recorded."""

    case_id: UUID
    expected_case_version: int | None = Field(default=None, ge=1)
    decision: Decision
    follow_up: FollowUp | None = None
    lead_organisation: str | None = Field(default=None, max_length=300)
    discussion: MeetingDiscussion | None = None


class ConcludeMeeting(MeetingCommand):
    """Conclude the meeting: its minutes are fixed."""


class RetractSignal(CaseCommand):
    """Retract a signal about the wrong person (AVG art. 16): its number in the case, why."""

    signal_number: int = Field(ge=1, le=10_000)
    reason: RetractionReason


PersonalField = Literal["name", "birth_date", "phone", "address", "note"]


class CorrectPersonalDetails(CaseCommand):
    """Correct the signalled parent's details (AVG art. 16): new values, or fields removed."""

    name: FreeText | None = Field(default=None, min_length=1, max_length=200)
    birth_date: date | None = None
    phone: str | None = Field(default=None, min_length=1, max_length=40)
    address: FreeText | None = Field(default=None, min_length=1, max_length=300)
    remove: list[PersonalField] = Field(default_factory=list, max_length=5)

    @property
    def given(self) -> dict[str, object]:
        """The fields given a new value, with that value."""
        given = self.model_dump(include={"name", "birth_date", "phone", "address"})
        return {k: v for k, v in given.items() if v is not None}

    @property
    def changes(self) -> dict[str, object]:
        """The new value of every field named: the value given, or None (removed)."""
        return {**self.given, **dict.fromkeys(self.remove)}


# -- moving house -------------------------------------------------------------------------------
class RequestTransfer(CaseCommand):
    """Ask the Knooppunt of the municipality the family moved to to take the case over."""

    to_municipality: MunicipalityCode
    basis: TransferBasis
    consent: TransferConsent | None = None


class AcceptTransfer(CaseCommand):
    """The receiving Knooppunt takes the case over."""


class RefuseTransfer(CaseCommand):
    """The receiving Knooppunt declines the transfer, with a reason."""

    reason: FreeText = Field(default="", max_length=500)
