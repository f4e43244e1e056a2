"""The published fields of each Referral event: what may leave the engine, and nothing else.

One model per event names every field a published event carries (codes and dates, no pseudonym);
anything else of the stored event (``personal``, an escalation's justification, a closing
reason, the lead professional's name, signal keys) is dropped by construction. A new event gets
its model here, in ``DATA_MODELS`` and in ``STATE_AFTER``; the message it travels in is
``projections.event``, which re-exports these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from domain.after_match import NeedResult, NextStep
from domain.correction import RetractionReason
from domain.escalation import EscalationPurpose
from domain.household import ConsentGiver, MemberRole
from domain.lifecycle import State
from domain.values import (
    ActorRole,
    HealthScores,
    MeldcodeStep,
    Need,
    Outcome,
    Phase,
    ReporterRole,
    RiskFactor,
    Urgency,
)
from projections.errors import InvalidEventError


class Public(BaseModel):
    """Base of the published fields: unknown attributes are dropped, never passed on."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class ActorRef(Public):
    """Who caused the event: organisation, role and a pseudonymous user reference."""

    organisation: str = Field(max_length=200)
    role: ActorRole
    user_ref: str = Field(default="", max_length=200)


class ReporterRef(Public):
    """The organisation and role that signalled."""

    organisation: str = Field(max_length=200)
    role: ReporterRole


class MemberRef(Public):
    """A household member a signal names: the role and, for an unborn child, the due date
    (never a pseudonym or a name)."""

    role: MemberRole
    due_date: date | None = None


class ReferralConsentRef(Public):
    """The family agreed to the referral: who and when."""

    given_by: ConsentGiver
    given_on: date


class SignalData(Public):
    """What is published of one signal: no signal key, no personal details."""

    reporter: ReporterRef
    phase: Phase
    phase_date: date | None = None
    risk_factors: tuple[RiskFactor, ...]
    urgency: Urgency
    household: tuple[MemberRef, ...] = ()
    referral_consent: ReferralConsentRef | None = None
    related_cases: tuple[str, ...] = ()  # other open cases of members the signal names
    at: datetime | None = None  # set on signals a merge carries over: when they arrived


class OfferRef(Public):
    """An offer from the menukaart and its provider."""

    offer_id: str = Field(max_length=200)
    provider: str = Field(max_length=200)


class EventData(Public):
    """Fields every published Referral event has."""

    actor: ActorRef
    occurred_at: datetime


class Signalled(EventData):
    """A case opened. The person's pseudonym stays in the event store, sealed under the case's
    link key; published in clear it would tie the case to the person past its erasure."""

    municipality: str
    signal: SignalData
    follows: str | None = None  # a follow-up case: the earlier case it continues


class SignalAdded(EventData):
    signal: SignalData


class ConsentRequested(EventData):
    pass


class ConsentRecordRef(Public):
    """Who gave consent, how, on which day, for which purpose."""

    given_by: ConsentGiver
    method: Literal["spoken", "written", "digital"]
    given_on: date
    purpose: Literal["discussion", "support"]


class ConsentGiven(EventData):
    scope: tuple[str, ...]
    expires_on: date | None = None
    record: ConsentRecordRef | None = None


class ConsentDeclined(EventData):
    pass


class ConsentWithdrawn(EventData):
    pass


class Discussed(EventData):
    on: date
    participants: tuple[str, ...]
    scores: HealthScores
    needs: tuple[Need, ...]


class SupportMatched(EventData):
    offers: tuple[OfferRef, ...]
    planned_start: date
    catalogue_version: str | None = None  # the menukaart's version the offers came from


class Escalated(EventData):
    meldcode_step: MeldcodeStep
    legal_basis: str = Field(max_length=200)
    organisations: tuple[str, ...] = ()  # whom it lifts the consent check for (none: older)
    purpose: EscalationPurpose | None = None  # for what; None in escalations before scoping


class Closed(EventData):
    outcome: Outcome


class SupportStarted(EventData):
    """The matched support began: its first day (the lead professional's name stays home)."""

    on: date


class Evaluated(EventData):
    """The evaluation: per need met or not, new scores, what next."""

    on: date
    needs: dict[Need, NeedResult]
    scores: HealthScores
    next_step: NextStep


class Reopened(EventData):
    """A closed case goes on as the linked follow-up case."""

    follow_up_id: str


# -- deadlines that can wait (not state changes) -----------------------------------------------
class DeadlineSuspended(EventData):
    """The clock of a step stopped (*opgeschort*): the due date then, the expected resume date."""

    step: str
    base: date  # the step's due date from the service levels: the hold belongs to it
    due: date
    until: date
    # The reason is free text: it stays in the event store, never on NATS (see the top).


class DeadlineResumed(EventData):
    """The clock runs again: the working days left count from the resume day."""

    step: str
    due: date


class DeadlineExtended(EventData):
    """The step's deadline moved to a later date (*verlengd*), once per step."""

    step: str
    base: date
    due: date
    # The reason is free text: it stays in the event store, never on NATS (see the top).


# -- who owns a case ---------------------------------------------------------------------------
class Assigned(EventData):
    """The case was assigned to a coordinator of its municipality (or taken by one)."""

    coordinator: str = Field(max_length=64)  # the principal's id: a professional, pseudonymous


class PersonalDataErased(EventData):
    """The person's details were erased (crypto-shredded): only the fact and on what basis
    (the person's request or the retention period); the stored ``reason`` is this code."""

    basis: Literal["request", "retention", "correction"] = Field(
        validation_alias=AliasChoices("basis", "reason")
    )


# -- the household ----------------------------------------------------------------------------
class ChildBorn(EventData):
    """The expected child was born (its pseudonym and details are not published)."""

    due_date: date | None = None


class CasesMerged(EventData):
    """Two cases of one household became one: on both cases, the same body."""

    kept_case_id: str
    merged_case_id: str
    members: tuple[MemberRef, ...] = ()
    signals: tuple[SignalData, ...] = ()


# -- the family's rights (AVG) -----------------------------------------------------------------
class Restricted(EventData):
    """Processing of the case was restricted (AVG art. 18/21): on which basis."""

    basis: str = Field(max_length=40)


class RestrictionLifted(EventData):
    """The restriction was lifted: the case goes on where it stood."""


class SignalRetracted(EventData):
    """A signal about the wrong person left the case (AVG art. 16): which one (its number
    among the case's signals then), why, and the case's risk factors and urgency without it."""

    signal_number: int = Field(ge=1)
    # A code; stored as ``reason``, published under its own name (no "reason" key is ever
    # published: elsewhere that key holds free text).
    retraction_reason: RetractionReason = Field(
        validation_alias=AliasChoices("retraction_reason", "reason")
    )
    risk_factors: tuple[RiskFactor, ...] = ()
    urgency: Urgency = Urgency.ROUTINE
    remaining: int = Field(ge=0)


# The published names of corrected fields: never the names of the sealed fields themselves,
# which no published message holds ("birth_date", "note": see the relay's tests).
CORRECTED_FIELDS = {"birth_date": "date_of_birth", "note": "reporter_note"}


class PersonalDetailsCorrected(EventData):
    """The personal details were sealed anew (AVG art. 16): which fields, never their values."""

    fields: tuple[
        Literal["name", "date_of_birth", "phone", "address", "reporter_note", "signal"], ...
    ]
    cause: Literal["correction", "retraction"]

    @field_validator("fields", mode="before")
    @classmethod
    def _published_names(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        # a name that is no text is left for the Literal to refuse (never looked up)
        return tuple(CORRECTED_FIELDS.get(f, f) if isinstance(f, str) else f for f in value)


# -- moving house -------------------------------------------------------------------------------
class TransferConsentRef(Public):
    """Who in the family agreed to the transfer, how and when."""

    given_by: ConsentGiver
    method: Literal["spoken", "written", "digital"]
    given_on: date


class TransferRequested(EventData):
    """The coordinator asked another municipality's Knooppunt to take the case over."""

    to_municipality: str = Field(pattern=r"^GM\d{4}$")
    basis: Literal["family_consent", "meldcode"]
    consent: TransferConsentRef | None = None


class CaseTransferred(EventData):
    """The receiving Knooppunt accepted: the case goes on there (published under its code)."""

    from_municipality: str = Field(pattern=r"^GM\d{4}$")
    to_municipality: str = Field(pattern=r"^GM\d{4}$")


class TransferRefused(EventData):
    """The receiving Knooppunt declined: the case stays (the reason stays in the engine)."""

    to_municipality: str = Field(pattern=r"^GM\d{4}$")


DATA_MODELS: dict[str, type[EventData]] = {
    cls.__name__: cls
    for cls in (
        Signalled,
        SignalAdded,
        ConsentRequested,
        ConsentGiven,
        ConsentDeclined,
        ConsentWithdrawn,
        Discussed,
        SupportMatched,
        Escalated,
        Closed,
        PersonalDataErased,
        ChildBorn,
        CasesMerged,
        SupportStarted,
        Evaluated,
        Reopened,
        Restricted,
        RestrictionLifted,
        SignalRetracted,
        PersonalDetailsCorrected,
        TransferRequested,
        CaseTransferred,
        TransferRefused,
        DeadlineSuspended,
        DeadlineResumed,
        DeadlineExtended,
        Assigned,
    )
}

# The case's state after each event; None: the state does not change.
STATE_AFTER: dict[str, State | None] = {
    "Signalled": State.SIGNALLED,
    "SignalAdded": None,
    "ConsentRequested": State.CONSENT_REQUESTED,
    "ConsentGiven": State.CONSENTED,
    "ConsentDeclined": State.CONSENT_DECLINED,
    "ConsentWithdrawn": State.WITHDRAWN,
    "Discussed": State.DISCUSSED,
    "SupportMatched": State.SUPPORT_MATCHED,
    "Escalated": State.ESCALATED,
    "Closed": State.CLOSED,
    "PersonalDataErased": None,
    "ChildBorn": None,
    "CasesMerged": None,  # the merged case closes: see the projections
    "SupportStarted": State.SUPPORT_STARTED,
    "Evaluated": State.EVALUATED,
    "Reopened": None,
    "Restricted": None,  # a flag beside the lifecycle (domain/restriction.py)
    "RestrictionLifted": None,
    "SignalRetracted": None,  # retracting the last signal closes the case: Closed follows
    "PersonalDetailsCorrected": None,
    "TransferRequested": None,  # a transfer leaves the case where it stands
    "CaseTransferred": None,
    "TransferRefused": None,
    "DeadlineSuspended": None,  # deadlines wait or move; the state stays
    "DeadlineResumed": None,
    "DeadlineExtended": None,
    "Assigned": None,  # the owner changes, the state stays
}


def public_data(name: str, attributes: Mapping[str, Any]) -> EventData:
    """The publishable part of a stored Referral event's attributes (all else is dropped)."""
    model = DATA_MODELS.get(name)
    if model is None:
        raise InvalidEventError(f"Referral event {name!r} has no published form")
    data = attributes if type(attributes) is dict else dict(attributes)
    validated: EventData = model.__pydantic_validator__.validate_python(data)  # model_validate's
    return validated
