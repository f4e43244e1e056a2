"""Code systems the FHIR resources use: published ones where they exist, ks-engine's own
(under ``KS``) for the Knooppunt's vocabulary. docs/fhir.md lists every mapping."""

from __future__ import annotations

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.reference import Reference

from domain.lifecycle import State

KS = "https://kansrijkestart.nl/fhir"
CASE_ID = f"{KS}/NamingSystem/case-id"
CASE_MEMBER = f"{KS}/NamingSystem/case-member"
MUNICIPALITY = f"{KS}/NamingSystem/cbs-gemeentecode"
PRINCIPAL = f"{KS}/NamingSystem/principal"
URI = "urn:ietf:rfc:3986"  # organisations are known by their URI or registry code

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
AUDIT_SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"

KS_STATE = f"{KS}/CodeSystem/case-state"
KS_EVENT = f"{KS}/CodeSystem/case-event"
KS_RISK_FACTOR = f"{KS}/CodeSystem/risk-factor"
KS_DIMENSION = f"{KS}/CodeSystem/positieve-gezondheid"
KS_OFFER = f"{KS}/CodeSystem/menukaart-offer"
KS_OUTCOME = f"{KS}/CodeSystem/case-outcome"
KS_ROLE = f"{KS}/CodeSystem/role"

# The case's state as a FHIR task status; the exact state travels in Task.businessStatus.
TASK_STATUS: dict[str, str] = {
    State.SIGNALLED: "received",
    State.CONSENT_REQUESTED: "on-hold",
    State.CONSENTED: "accepted",
    State.CONSENT_DECLINED: "on-hold",
    State.WITHDRAWN: "on-hold",
    State.DISCUSSED: "in-progress",
    State.SUPPORT_MATCHED: "in-progress",
    State.SUPPORT_STARTED: "in-progress",
    State.EVALUATED: "in-progress",
    State.ESCALATED: "in-progress",
    State.CLOSED: "completed",
}
TASK_STATUS_OTHERWISE = "in-progress"  # a later step of an open case

CONSENT_STATUS: dict[str, str] = {
    "requested": "proposed",
    "given": "active",
    "declined": "rejected",
    "withdrawn": "inactive",
}

PRIORITY: dict[str, str] = {"routine": "routine", "soon": "urgent", "urgent": "asap"}

# NEN 7513 purpose of use -> HL7 v3 PurposeOfUse (ActReason).
PURPOSE_OF_USE: dict[str, tuple[str, str]] = {
    "care": ("TREAT", "treatment"),
    "coordination": ("COC", "coordination of care"),
    "audit": ("HOPERAT", "healthcare operations"),
    "operations": ("HOPERAT", "healthcare operations"),
    "repair": ("HOPERAT", "healthcare operations"),
    "research": ("HRESCH", "healthcare research"),
    "rights": ("PATRQT", "patient requested"),
    "family_contact": ("COC", "coordination of care"),
    "safety": ("PUBHLTH", "public health"),  # acting under the Meldcode to protect a child
}
AUDIT_ACTION: dict[str, str] = {
    "create": "C",
    "read": "R",
    "read personal data": "R",
    "update": "U",
    "delete": "D",
    "execute": "E",
}
AUDIT_OUTCOME: dict[str, str] = {"allowed": "0", "denied": "4", "error": "8"}


def concept(system: str, code: str, display: str | None = None) -> CodeableConcept:
    """A CodeableConcept of one coding."""
    return CodeableConcept(coding=[coding(system, code, display)])


def coding(system: str, code: str, display: str | None = None) -> Coding:
    """One coding; ``display`` only when it helps a reader."""
    return Coding(system=system, code=code, display=display)


def organisation(uri: str) -> Reference:
    """A partner organisation, by its URI or registry code."""
    return Reference(type="Organization", identifier=Identifier(system=URI, value=uri))


def knooppunt(municipality: str) -> Reference:
    """The Knooppunt of a municipality (CBS code) that owns a case."""
    return Reference(
        type="Organization",
        identifier=Identifier(system=MUNICIPALITY, value=municipality),
        display=f"Knooppunt Kansrijke Start {municipality}",
    )
