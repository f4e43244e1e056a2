"""The case view (*dossieroverzicht*): the model of one case's document and its typed fold.

It holds what the published events carry: states, codes, dates and organisations. Personal
details, justifications and closing reasons never reach it; a reader who may see them asks
the application for the case itself.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from projections import case_doc
from projections.event import ActorRef, OfferRef, ReferralEvent, ReporterRef


class SignalEntry(BaseModel):
    """One signal about the person: who signalled, phase, risk factors, urgency."""

    at: datetime
    reporter: ReporterRef
    phase: str
    phase_date: date | None
    risk_factors: list[str]
    urgency: str
    household: list[dict[str, Any]] = []
    referral_consent: dict[str, Any] | None = None
    related_cases: list[str] = []


class Consent(BaseModel):
    """The family's consent: status (requested, given, declined, withdrawn), scope, expiry."""

    status: str
    scope: list[str] = []
    expires_on: date | None = None
    at: datetime
    record: dict[str, Any] | None = None  # who gave it, how, when, for which purpose


class Discussion(BaseModel):
    """A case discussion: Positieve Gezondheid scores and the needs found."""

    on: date
    participants: list[str]
    scores: dict[str, int]
    needs: list[str]
    at: datetime


class Support(BaseModel):
    """Support matched from the menukaart."""

    offers: list[OfferRef]
    planned_start: date
    at: datetime


class Escalation(BaseModel):
    """An escalation under the Meldcode: the step that led to it and its legal basis."""

    meldcode_step: str
    legal_basis: str
    organisations: list[str] = []  # whom it lifts the consent check for
    purpose: str | None = None  # for what (None: an escalation from before scoping)
    at: datetime


class Evaluation(BaseModel):
    """An evaluation of the support: per need met or not, new scores, what next."""

    on: date
    needs: dict[str, str]
    scores: dict[str, int]
    next_step: str
    at: datetime


class TimelineEntry(BaseModel):
    """One event in the case's history, with who caused it and when."""

    version: int
    event: str
    at: datetime
    actor: ActorRef
    details: dict[str, Any] = {}


class CaseView(BaseModel):
    """One case as the case view keeps it."""

    case_id: str
    municipality: str
    state: str
    version: int
    position: int
    signalled_at: datetime
    last_activity_at: datetime
    urgency: str
    risk_factors: list[str]
    signals: list[SignalEntry]
    consent: Consent | None = None
    discussions: list[Discussion] = []
    support: list[Support] = []
    escalations: list[Escalation] = []
    support_started_on: date | None = None
    evaluations: list[Evaluation] = []
    follows: str | None = None  # the earlier case this follow-up case continues
    followed_by: str | None = None  # the follow-up case this closed case went on as
    outcome: str | None = None
    closed_at: datetime | None = None
    personal_data_erased_at: datetime | None = None
    lawful_basis: str = "meldcode_signal"  # or family_agreement: see Referral.lawful_basis
    births: list[dict[str, Any]] = []
    merged_cases: list[str] = []
    merged_into: str | None = None
    restriction: dict[str, Any] | None = None  # {"basis", "at"} while restricted (AVG art. 18)
    retractions: list[dict[str, Any]] = []  # {"signal_number", "reason", "at"} (AVG art. 16)
    corrections: list[dict[str, Any]] = []  # {"fields", "cause", "at"}: never the values
    transfer_request: dict[str, Any] | None = None  # {"to_municipality", "basis", "at"}
    transfers: list[dict[str, Any]] = []  # {"from_municipality", "to_municipality", "at"}
    assignee: str | None = None  # the coordinator who owns the case
    timeline: list[TimelineEntry] = []


def apply(view: CaseView | None, event: ReferralEvent) -> CaseView | None:
    """The case view after ``event`` (None when the case's first event was never seen); the
    view passed in is left as it was. The fold itself is ``projections.case_doc``."""
    doc = None if view is None else view.model_dump(mode="json")
    after = case_doc.fold(doc, event)
    return None if after is None else CaseView.model_validate(after)
