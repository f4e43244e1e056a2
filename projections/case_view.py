"""The case view (*dossieroverzicht*): pure event -> document logic for one case.

It holds what the published events carry: states, codes, dates and organisations. Personal
details, justifications and closing reasons never reach it; a reader who may see them asks
the application for the case itself.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from projections import event as ev
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


_URGENCY_RANK = {"urgent": 0, "soon": 1, "routine": 2}


def _signal(data: ev.SignalData, at: datetime) -> SignalEntry:
    return SignalEntry(
        at=at,
        reporter=data.reporter,
        phase=data.phase.value,
        phase_date=data.phase_date,
        risk_factors=[r.value for r in data.risk_factors],
        urgency=data.urgency.value,
        household=[m.model_dump(mode="json") for m in data.household],
        referral_consent=data.referral_consent.model_dump(mode="json")
        if data.referral_consent
        else None,
        related_cases=list(data.related_cases),
    )


def _details(data: ev.EventData) -> dict[str, Any]:
    """The event's own codes and dates for the timeline (actor and time shown apart)."""
    return data.model_dump(
        mode="json", exclude={"actor", "occurred_at", "person_pseudonym", "municipality"}
    )


def apply(view: CaseView | None, event: ReferralEvent, *, owned: bool = False) -> CaseView | None:
    """The case view after ``event`` (None when the case's first event was never seen).

    ``view`` is left as it was, unless the caller hands it over (``owned``) because it will
    not use it again: then it is changed in place instead of copied first."""
    data, at = event.data, event.at
    if isinstance(data, ev.Signalled):
        first = _signal(data.signal, at)
        view = CaseView(
            case_id=event.case_id,
            municipality=data.municipality,
            state="signalled",
            version=event.version,
            position=event.position,
            signalled_at=at,
            last_activity_at=at,
            urgency=first.urgency,
            risk_factors=list(first.risk_factors),
            signals=[first],
            lawful_basis="family_agreement" if first.referral_consent else "meldcode_signal",
            follows=data.follows,
        )
    elif view is None:
        return None
    else:
        view = view if owned else view.model_copy(deep=True)
        _apply_change(view, data, at)
    state = ev.STATE_AFTER[event.name]
    view.state = state.value if state else view.state
    view.version = event.version
    view.position = event.position
    view.last_activity_at = at
    view.timeline.append(
        TimelineEntry(
            version=event.version, event=event.name, at=at, actor=data.actor, details=_details(data)
        )
    )
    return view


def _apply_change(view: CaseView, data: ev.EventData, at: datetime) -> None:
    if isinstance(data, ev.SignalAdded):
        entry = _signal(data.signal, at)
        view.signals.append(entry)
        view.risk_factors += [r for r in entry.risk_factors if r not in view.risk_factors]
        if _URGENCY_RANK[entry.urgency] < _URGENCY_RANK[view.urgency]:
            view.urgency = entry.urgency
    elif isinstance(data, ev.ConsentRequested):
        view.consent = Consent(status="requested", at=at)
    elif isinstance(data, ev.ConsentGiven):
        view.consent = Consent(
            status="given",
            scope=list(data.scope),
            expires_on=data.expires_on,
            at=at,
            record=data.record.model_dump(mode="json") if data.record else None,
        )
    elif isinstance(data, ev.ConsentDeclined):
        view.consent = Consent(status="declined", at=at)
    elif isinstance(data, ev.ConsentWithdrawn):
        before = view.consent
        view.consent = Consent(
            status="withdrawn",
            scope=before.scope if before else [],
            expires_on=before.expires_on if before else None,
            at=at,
            record=before.record if before else None,
        )
    elif isinstance(data, ev.Discussed):
        view.discussions.append(
            Discussion(
                on=data.on,
                participants=list(data.participants),
                scores=data.scores.model_dump(),
                needs=[n.value for n in data.needs],
                at=at,
            )
        )
    elif isinstance(data, ev.SupportMatched):
        view.support.append(
            Support(offers=list(data.offers), planned_start=data.planned_start, at=at)
        )
    elif isinstance(data, ev.Escalated):
        view.escalations.append(
            Escalation(
                meldcode_step=data.meldcode_step.value,
                legal_basis=data.legal_basis,
                organisations=list(data.organisations),
                purpose=data.purpose.value if data.purpose else None,
                at=at,
            )
        )
    elif isinstance(data, ev.Closed):
        view.outcome = data.outcome.value
        view.closed_at = at
    elif isinstance(data, ev.SupportStarted):
        view.support_started_on = data.on
    elif isinstance(data, ev.Evaluated):
        view.evaluations.append(
            Evaluation(
                on=data.on,
                needs={n.value: r.value for n, r in data.needs.items()},
                scores=data.scores.model_dump(),
                next_step=data.next_step.value,
                at=at,
            )
        )
    elif isinstance(data, ev.Reopened):
        view.followed_by = data.follow_up_id
    elif isinstance(data, ev.PersonalDataErased):
        view.personal_data_erased_at = at
    elif isinstance(data, ev.ChildBorn):
        view.births.append({"due_date": data.due_date, "at": at})
    elif isinstance(data, ev.CasesMerged):
        _merge(view, data, at)
    elif isinstance(data, ev.Restricted):
        view.restriction = {"basis": data.basis, "at": at.isoformat()}
    elif isinstance(data, ev.RestrictionLifted):
        view.restriction = None
    elif isinstance(data, ev.Assigned):
        view.assignee = data.coordinator
    else:
        _apply_rights(view, data, at)


def _apply_rights(view: CaseView, data: ev.EventData, at: datetime) -> None:
    """Correction and transfer (the family's rights, moving house)."""
    if isinstance(data, ev.SignalRetracted):
        if data.signal_number <= len(view.signals):
            del view.signals[data.signal_number - 1]
        view.risk_factors = [r.value for r in data.risk_factors]
        view.urgency = data.urgency.value
        number, reason = data.signal_number, data.retraction_reason.value
        view.retractions.append({"signal_number": number, "reason": reason, "at": at})
    elif isinstance(data, ev.PersonalDetailsCorrected):
        view.corrections.append({"fields": list(data.fields), "cause": data.cause, "at": at})
    elif isinstance(data, ev.TransferRequested):
        to, basis = data.to_municipality, data.basis
        view.transfer_request = {"to_municipality": to, "basis": basis, "at": at}
    elif isinstance(data, ev.TransferRefused):
        view.transfer_request = None
    elif isinstance(data, ev.CaseTransferred):
        view.transfer_request = None
        view.municipality = data.to_municipality
        moved = {"from_municipality": data.from_municipality, "to_municipality": view.municipality}
        view.transfers.append({**moved, "at": at})
        view.assignee = None  # the new Knooppunt's coordinators take it on


def _merge(view: CaseView, data: ev.CasesMerged, at: datetime) -> None:
    if data.merged_case_id == view.case_id:
        view.state, view.outcome, view.closed_at = "closed", "merged", at
        view.merged_into = data.kept_case_id
        return
    view.merged_cases.append(data.merged_case_id)
    for signal in data.signals:
        entry = _signal(signal, signal_at(signal, at))
        entry.related_cases = []
        view.signals.append(entry)
        view.risk_factors += [r for r in entry.risk_factors if r not in view.risk_factors]
        if _URGENCY_RANK[entry.urgency] < _URGENCY_RANK[view.urgency]:
            view.urgency = entry.urgency
    for entry in view.signals:
        entry.related_cases = [c for c in entry.related_cases if c != data.merged_case_id]


def signal_at(signal: ev.SignalData, default: datetime) -> datetime:
    """When a merged signal arrived (its record keeps it), else the merge's own time."""
    return signal.at or default
