"""A case as a FHIR R4 Bundle, built with the ``fhir.resources`` models (validated on build).

What goes in follows the same access rules as the JSON API (``adapters/http/access.py``):
- a coordinator in remit: the referral (``ServiceRequest`` per signal), ``Consent``, ``Task``
  with its history of statuses (``Provenance``), ``CarePlan`` and the Positieve Gezondheid
  scores per discussion (``Observation``);
- a partner that signalled, while the family's consent names it: what the partner case view
  holds, no more: ``Task`` (state), ``Consent`` and ``CarePlan``;
- an auditor or privacy officer: ``Task`` with its history and the case's access log as
  ``AuditEvent``s.
On top of that every resource carries the label of what it holds (``RESOURCE_LABELS``), and
only those the reader policy (``domain/reader_policy.py``) lets the reader see are included.
The family appears only as pseudonymous, case-scoped references: no BSN, no name, and not the
person pseudonym that links cases.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import uuid5

from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.careplan import CarePlan, CarePlanActivity, CarePlanActivityDetail
from fhir.resources.R4B.consent import Consent, ConsentProvision, ConsentProvisionActor
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.observation import Observation, ObservationComponent
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.provenance import Provenance, ProvenanceAgent
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from adapters.fhir import codes as c
from adapters.fhir.audit_events import audit_event
from domain.reader_policy import Label
from domain.referral import Referral
from domain.values import Dimension, RiskFactor
from ks_engine.access_log import AccessEntry

Json = dict[str, Any]


class Reader(StrEnum):
    """Whose Bundle it is: decides which resources it holds."""

    COORDINATOR = "coordinator"
    PARTNER = "partner"
    AUDITOR = "auditor"


# What each resource holds, as the reader policy labels it (every other resource: process).
RESOURCE_LABELS: dict[str, Label] = {
    "ServiceRequest": Label.MEDICAL,  # reasonCode: the screening's risk factors
    "Observation": Label.MEDICAL,  # Positieve Gezondheid scores
}


def case_bundle(
    case: Referral,
    *,
    reader: Reader,
    events: Sequence[Any] = (),
    access: Iterable[AccessEntry] = (),
    today: date,
    labels: frozenset[Label] = frozenset(Label),
) -> Bundle:
    """The case as a ``collection`` Bundle for ``reader`` (see the module's docstring)."""
    parts = _Parts(case, today)
    resources: list[Resource] = []
    if reader is Reader.COORDINATOR:
        resources += parts.service_requests()
    resources.append(parts.task(with_history=reader is not Reader.PARTNER, events=events))
    if reader is not Reader.AUDITOR:
        if case.consent is not None:
            resources.append(parts.consent())
        if case.support:
            resources.append(parts.care_plan())
    if reader is not Reader.PARTNER:
        resources += parts.provenance(events)
    if reader is Reader.COORDINATOR:
        resources += parts.observations()
    if reader is Reader.AUDITOR:
        resources += [audit_event(entry) for entry in access]
    resources = [
        r for r in resources if RESOURCE_LABELS.get(r.get_resource_type(), Label.PROCESS) in labels
    ]
    return Bundle(
        type="collection",
        identifier=Identifier(system=c.CASE_ID, value=str(case.id)),
        entry=[BundleEntry(fullUrl=_url(r), resource=r) for r in resources],
    )


def _url(resource: Resource) -> str:
    return f"urn:uuid:{resource.id}"


def _iso(value: datetime | date | str) -> str:
    return value if isinstance(value, str) else value.isoformat()


class _Parts:
    """The resources of one case, with stable ids derived from the case id."""

    def __init__(self, case: Referral, today: date) -> None:
        self.case = case
        self.today = today
        self.patient = Reference(
            type="Patient",
            identifier=Identifier(system=c.CASE_MEMBER, value=f"{case.id}/parent"),
            display="ouder (pseudoniem)",
        )

    def id_of(self, kind: str, n: int = 0) -> str:
        return str(uuid5(self.case.id, f"{kind}/{n}"))

    def ref(self, kind: str, n: int = 0) -> Reference:
        return Reference(reference=f"urn:uuid:{self.id_of(kind, n)}")

    def service_requests(self) -> list[ServiceRequest]:
        closed = not self.case.is_open
        return [
            ServiceRequest(
                id=self.id_of("service-request", n),
                identifier=[Identifier(system=c.CASE_ID, value=f"{self.case.id}/signal/{n}")],
                status="completed" if closed else "active",
                intent="order",
                category=[c.concept(c.SNOMED, "3457005", "Patient referral")],
                code=c.concept(c.KS_STATE, "knooppunt-referral", "Aanmelding bij het Knooppunt"),
                priority=c.PRIORITY.get(str(signal.get("urgency")), "routine"),
                subject=self.patient,
                authoredOn=_iso(signal["at"]),
                requester=c.organisation(signal["reporter"]["organisation"]),
                performer=[c.knooppunt(self.case.municipality)],
                reasonCode=[
                    c.concept(c.KS_RISK_FACTOR, code, RiskFactor(code).label)
                    for code in signal.get("risk_factors", [])
                ],
            )
            for n, signal in enumerate(self.case.signals)
        ]

    def task(self, *, with_history: bool, events: Sequence[Any]) -> Task:
        state = self.case.state
        return Task(
            id=self.id_of("task"),
            identifier=[Identifier(system=c.CASE_ID, value=str(self.case.id))],
            status=c.TASK_STATUS.get(state, c.TASK_STATUS_OTHERWISE),
            businessStatus=c.concept(c.KS_STATE, state.value),
            intent="order",
            code=c.concept(c.KS_STATE, "knooppunt-case", "Casus Knooppunt Kansrijke Start"),
            basedOn=[self.ref("service-request", n) for n in range(len(self.case.signals))]
            if with_history
            else None,
            for_fhir=self.patient,
            authoredOn=_iso(self.case.signalled_at),
            lastModified=_iso(self.case.last_activity_at),
            owner=c.knooppunt(self.case.municipality),
            relevantHistory=[self.ref("provenance", n) for n in range(len(events))]
            if with_history and events
            else None,
        )

    def provenance(self, events: Sequence[Any]) -> list[Provenance]:
        out = []
        for n, event in enumerate(events):
            actor: Json = getattr(event, "actor", {}) or {}
            kind = type(event).__name__
            out.append(
                Provenance(
                    id=self.id_of("provenance", n),
                    target=[self.ref("task")],
                    recorded=_iso(event.timestamp),
                    occurredDateTime=_iso(getattr(event, "occurred_at", event.timestamp)),
                    activity=c.concept(c.KS_EVENT, kind),
                    agent=[
                        ProvenanceAgent(
                            type=c.concept(c.KS_ROLE, str(actor.get("role", "system"))),
                            who=c.organisation(str(actor.get("organisation") or "ks-engine")),
                        )
                    ],
                )
            )
        return out

    def consent(self) -> Consent:
        consent = self.case.consent or {}
        status = c.CONSENT_STATUS.get(str(consent.get("status")), "proposed")
        if status == "active" and not self.case.consent_is_active(self.today):
            status = "inactive"  # expired
        expires = consent.get("expires_on")
        return Consent(
            id=self.id_of("consent"),
            status=status,
            scope=c.concept(c.CONSENT_SCOPE, "patient-privacy", "Privacy Consent"),
            category=[c.concept(c.LOINC, "59284-0", "Patient Consent")],
            patient=self.patient,
            organization=[c.knooppunt(self.case.municipality)],
            policyRule=c.concept(c.ACT_CODE, "OPTIN", "opt-in"),
            provision=ConsentProvision(
                type="permit",
                period=Period(end=_iso(expires)) if expires else None,
                purpose=[c.coding(c.ACT_REASON, "COC", "coordination of care")],
                actor=[
                    ConsentProvisionActor(
                        role=c.concept(c.PARTICIPATION, "IRCP", "information recipient"),
                        reference=c.organisation(org),
                    )
                    for org in consent.get("scope", [])
                ]
                or None,
            ),
        )

    def care_plan(self) -> CarePlan:
        activities = [
            CarePlanActivity(
                detail=CarePlanActivityDetail(
                    kind="ServiceRequest",
                    code=c.concept(c.KS_OFFER, offer["offer_id"]),
                    status="not-started",
                    scheduledString=f"vanaf {_iso(support['planned_start'])}",
                    performer=[c.organisation(offer["provider"])],
                    description=f"Regievoerend professional: {support['lead_professional']}",
                )
            )
            for support in self.case.support
            for offer in support["offers"]
        ]
        return CarePlan(
            id=self.id_of("care-plan"),
            status="completed" if not self.case.is_open else "active",
            intent="plan",
            subject=self.patient,
            author=c.knooppunt(self.case.municipality),
            activity=activities,
        )

    def observations(self) -> list[Observation]:
        return [
            Observation(
                id=self.id_of("observation", n),
                status="final",
                category=[c.concept(c.OBSERVATION_CATEGORY, "survey", "Survey")],
                code=c.concept(c.KS_DIMENSION, "scores", "Positieve Gezondheid"),
                subject=self.patient,
                effectiveDateTime=_iso(discussion["on"]),
                component=[
                    ObservationComponent(
                        code=c.concept(c.KS_DIMENSION, dimension, Dimension(dimension).label),
                        valueInteger=score,
                    )
                    for dimension, score in discussion["scores"].items()
                ],
            )
            for n, discussion in enumerate(self.case.discussions)
        ]
