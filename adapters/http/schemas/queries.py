"""Response bodies of the queries: work queue, case views, history, suggestions, catalogue."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from domain.catalogue import Suggestion
from domain.referral import Referral
from projections.work_queue_store import WorkQueueEntry


class WorkQueueOut(BaseModel):
    """A page of the work queue, most urgent first."""

    items: list[WorkQueueEntry] = Field(description="Rows of the work-queue projection.")
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page.")


class ConsentOut(BaseModel):
    """The family's consent as it stands."""

    status: str
    scope: list[str]
    expires_on: date | None


class OfferRef(BaseModel):
    """A matched offer and its provider."""

    offer_id: str
    provider: str


class SupportOut(BaseModel):
    """Support agreed with the family."""

    offers: list[OfferRef]
    lead_professional: str
    planned_start: date


class PartnerCaseOut(BaseModel):
    """What a partner that signalled may see of a case at most, within the family's consent;
    the reader policy (domain/reader_policy.py) then keeps what its domain may see."""

    case_id: UUID
    municipality: str
    state: str
    signalled_at: datetime
    urgency: str
    consent: ConsentOut
    support: list[SupportOut]
    outcome: str | None
    risk_factors: list[str] = Field(description="Medical: the screening's risk factors.")
    needs: list[str] = Field(description="Social summary: the needs the discussions found.")

    @classmethod
    def of(cls, case: Referral) -> PartnerCaseOut:
        assert case.consent is not None
        return cls(
            case_id=case.id,
            municipality=case.municipality,
            state=case.state.value,
            signalled_at=case.signalled_at,
            urgency=case.urgency,
            consent=ConsentOut.model_validate(case.consent),
            support=[SupportOut.model_validate(s) for s in case.support],
            outcome=case.outcome["code"] if case.outcome else None,
            risk_factors=list(case.risk_factors),
            needs=sorted({n for d in case.discussions for n in d["needs"]}),
        )


class HistoryOut(BaseModel):
    """A case's history: every event, oldest first, with who caused it."""

    case_id: UUID
    events: list[dict[str, Any]]


class ReasonOut(BaseModel):
    """Why an offer fits: a need, risk factor or low-scoring dimension, and its points."""

    kind: str
    code: str
    label: str
    points: int


class SuggestionOut(BaseModel):
    """An offer from the menukaart ranked for a case."""

    offer_id: str
    name: str
    provider_id: str
    provider_name: str
    score: int
    reasons: list[ReasonOut]
    consent_covers: bool = Field(
        description="Whether the family's active consent (or an escalation for support) names "
        "the provider today: matching it would not be refused for consent."
    )

    @classmethod
    def of(cls, s: Suggestion, *, covers: bool) -> SuggestionOut:
        return cls(
            offer_id=s.offer.id,
            name=s.offer.name,
            provider_id=s.provider.id,
            provider_name=s.provider.name,
            score=s.score,
            reasons=[ReasonOut.model_validate(r) for r in s.reasons],
            consent_covers=covers,
        )


class StatsOut(BaseModel):
    """Monitoring figures per municipality and month (aggregates only)."""

    rows: list[dict[str, Any]]
