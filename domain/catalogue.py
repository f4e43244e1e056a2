"""The support catalogue (*menukaart*) and the ranking of offers for a case.

The catalogue follows the shape of the Open Referral Human Services Data Specification
(HSDS): organizations (providers), services (interventions) with their eligibility and
phases, service areas (municipalities) and taxonomy terms (the needs and risk factors a
service addresses).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.errors import UnknownOfferError
from domain.redaction import FreeText
from domain.referral import Referral
from domain.values import Dimension, HealthScores, MunicipalityCode, Need, Phase, RiskFactor


class Organization(BaseModel):
    """A provider of support (HSDS ``organization``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(min_length=1)
    name: FreeText = Field(min_length=1)


class SupportOffer(BaseModel):
    """An intervention on the menukaart (HSDS ``service``) - *interventie van de menukaart*."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(min_length=1, pattern=r"^[a-z0-9-]+$")
    name: FreeText = Field(min_length=1)
    organization_id: str
    description: FreeText = ""
    eligibility: FreeText = ""
    phases: tuple[Phase, ...] = Field(min_length=1)
    needs: tuple[Need, ...] = ()
    risk_factors: tuple[RiskFactor, ...] = ()
    dimensions: tuple[Dimension, ...] = ()
    service_area: tuple[MunicipalityCode, ...] = Field(min_length=1)

    @field_validator("phases", "needs", "risk_factors", "dimensions", "service_area")
    @classmethod
    def _each_once(cls, terms: tuple[Any, ...]) -> tuple[Any, ...]:
        """A term listed twice (a form or an import may) counts, and shows, once."""
        return tuple(dict.fromkeys(terms))


class Catalogue(BaseModel):
    """A validated menukaart."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    version: str
    organizations: tuple[Organization, ...]
    services: tuple[SupportOffer, ...]

    @model_validator(mode="after")
    def _references_resolve(self) -> Catalogue:
        orgs = {o.id for o in self.organizations}
        ids = [s.id for s in self.services]
        if len(ids) != len(set(ids)):
            raise ValueError("service ids in the menukaart must be unique")
        for s in self.services:
            if s.organization_id not in orgs:
                raise ValueError(
                    f"service '{s.id}' names unknown organization '{s.organization_id}'"
                )
        return self

    def offer(self, offer_id: str) -> SupportOffer:
        """The offer with this id, or UnknownOfferError."""
        for s in self.services:
            if s.id == offer_id:
                return s
        raise UnknownOfferError(f"support offer '{offer_id}' is not on the menukaart")

    def provider_of(self, offer_id: str) -> Organization:
        org_id = self.offer(offer_id).organization_id
        return next(o for o in self.organizations if o.id == org_id)


class Suggestion(BaseModel):
    """An offer ranked for a case, with the reasons it fits."""

    model_config = ConfigDict(frozen=True)
    offer: SupportOffer
    provider: Organization
    score: int
    reasons: tuple[dict[str, Any], ...]

    @property
    def reason_labels(self) -> list[str]:
        """The reasons' labels, each once (a need and a risk factor may share one: "Wonen")."""
        return list(dict.fromkeys(r["label"] for r in self.reasons))


NEED_WEIGHT, RISK_WEIGHT, DIMENSION_WEIGHT = 3, 2, 1


def suggest_support(
    case: Referral, catalogue: Catalogue, available: frozenset[str] | None = None
) -> list[Suggestion]:
    """Offers available in the case's municipality and phase, best fit first.

    ``available``: the offer ids the region lists for the case's municipality (None: the
    catalogue's service areas alone decide).

    Fit: 3 points per need identified at the discussion that the offer addresses, 2 per risk
    factor in the signals, 1 per low-scoring Positieve Gezondheid dimension. Offers with no
    point of fit are left out, and so are offers already matched for the case. Ties keep
    catalogue order.
    """
    matched = {o["offer_id"] for s in case.support for o in s["offers"]}
    phase = Phase(case.signals[-1]["phase"])
    needs: set[str] = set()
    low: set[Dimension] = set()
    if case.discussions:
        latest = case.discussions[-1]
        needs = set(latest["needs"])
        low = set(HealthScores(**latest["scores"]).low())
    risks = set(case.risk_factors)
    ranked: list[Suggestion] = []
    for offer in catalogue.services:
        if phase not in offer.phases or case.municipality not in offer.service_area:
            continue
        if (available is not None and offer.id not in available) or offer.id in matched:
            continue
        reasons: list[dict[str, Any]] = []
        reasons += [
            {"kind": "need", "code": n.value, "label": n.label, "points": NEED_WEIGHT}
            for n in offer.needs
            if n.value in needs
        ]
        reasons += [
            {"kind": "risk_factor", "code": r.value, "label": r.label, "points": RISK_WEIGHT}
            for r in offer.risk_factors
            if r.value in risks
        ]
        reasons += [
            {"kind": "dimension", "code": d.value, "label": d.label, "points": DIMENSION_WEIGHT}
            for d in offer.dimensions
            if d in low
        ]
        score = sum(r["points"] for r in reasons)
        if score:
            ranked.append(
                Suggestion(
                    offer=offer,
                    provider=catalogue.provider_of(offer.id),
                    score=score,
                    reasons=tuple(reasons),
                )
            )
    return sorted(ranked, key=lambda s: -s.score)
