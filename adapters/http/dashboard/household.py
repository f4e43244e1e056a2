"""What the case page shows of the household: members by role, the lawful basis at intake,
cases that may be the same household (to merge), and the form to open personal details."""

from __future__ import annotations

from typing import Any

from domain.consent_record import METHOD_LABELS
from domain.consent_record import PURPOSE_LABELS as CONSENT_PURPOSES
from domain.household import GIVER_LABELS, MEMBER_LABELS, ConsentGiver, MemberRole
from domain.referral import Referral
from ks_engine.access_log import PersonalDataPurpose

PURPOSE_LABELS = {
    PersonalDataPurpose.COORDINATION: "Coördinatie van de casus",
    PersonalDataPurpose.FAMILY_CONTACT: "Contact opnemen met het gezin",
    PersonalDataPurpose.SAFETY: "Veiligheid (Meldcode)",
}
LAWFUL_BASIS = {
    "family_agreement": "Aanmelding na toestemming van het gezin",
    "meldcode_signal": "Signaal zonder toestemming van het gezin (Meldcode)",
}


def household_context(case: Referral, view: dict[str, Any] | None) -> dict[str, Any]:
    """What the case page shows of the household: roles and due dates, no identifiers."""
    members = [
        {"label": MEMBER_LABELS[MemberRole(m["role"])], "due_date": m["due_date"]}
        for m in case.household
    ]
    merged = set((view or {}).get("merged_cases", []))
    related = {
        r for s in (view or {}).get("signals", []) for r in s.get("related_cases", [])
    } - merged
    consent = case.signals[0].get("referral_consent")
    return {
        "household": members,
        "lawful_basis": LAWFUL_BASIS[case.lawful_basis],
        "referral_consent": {
            "by": GIVER_LABELS[ConsentGiver(consent["given_by"])],
            "on": consent["given_on"],
        }
        if consent
        else None,
        "related_cases": sorted(related),
        "purposes": PURPOSE_LABELS,
        "consent_words": {
            "given_by": {g.value: t.lower() for g, t in GIVER_LABELS.items()},
            "method": {m.value: t for m, t in METHOD_LABELS.items()},
            "purpose": {p.value: t for p, t in CONSENT_PURPOSES.items()},
        },
    }
