"""Confidentiality labels of a case's fields and who may read them (*vertrouwelijkheid*).

Every field a case keeps has a label (process, contact, medical, social, notes) and a reader
policy. Process fields (codes, dates, states) are in the read models for the case's
coordinator; contact details and notes are sealed and opened only on request, with a stated
purpose, by the case's coordinator, and every opening is in the access log.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Confidentiality(StrEnum):
    """What kind of information a field holds."""

    PROCESS = "process"  # codes, dates, states: what the Knooppunt's process needs
    CONTACT = "contact"  # who the family is and how to reach them
    MEDICAL = "medical"  # for the medical partners only
    SOCIAL = "social"  # the family's situation, shared as the family agreed
    NOTES = "notes"  # a professional's free text


class Reader(StrEnum):
    """Who may read a field."""

    COORDINATOR = "coordinator"  # of the case's municipality
    CONSENTED_PARTNER = "consented_partner"  # a partner the family's consent names
    AUDITOR = "auditor"


@dataclass(frozen=True)
class Policy:
    """A field's label, its readers, and whether each read needs a stated purpose."""

    label: Confidentiality
    readers: frozenset[Reader]
    on_request: bool  # sealed: opened only on request, with a purpose, access-logged

    @property
    def description(self) -> str:
        who = ", ".join(sorted(r.value for r in self.readers))
        how = "on request with a stated purpose, access-logged" if self.on_request else "in view"
        return f"{self.label.value}: {who}; {how}"


_SEALED = Policy(Confidentiality.CONTACT, frozenset({Reader.COORDINATOR}), on_request=True)
_PROCESS = Policy(
    Confidentiality.PROCESS, frozenset({Reader.COORDINATOR, Reader.AUDITOR}), on_request=False
)
_SOCIAL = Policy(
    Confidentiality.SOCIAL,
    frozenset({Reader.COORDINATOR, Reader.CONSENTED_PARTNER}),
    on_request=False,
)

# The family's personal details (sealed; ``domain.values.PersonalDetails``, ``MemberDetails``).
PERSONAL_FIELDS: dict[str, Policy] = {
    "name": _SEALED,
    "birth_date": _SEALED,
    "phone": _SEALED,
    "address": _SEALED,
    "note": Policy(Confidentiality.NOTES, frozenset({Reader.COORDINATOR}), on_request=True),
    "household": _SEALED,
}

# The case as the read models keep it (``projections.case_view.CaseView``).
CASE_FIELDS: dict[str, Policy] = {
    **dict.fromkeys(
        (
            "case_id",
            "municipality",
            "state",
            "version",
            "position",
            "signalled_at",
            "last_activity_at",
            "urgency",
            "signals",
            "consent",
            "support",
            "escalations",
            "outcome",
            "closed_at",
            "personal_data_erased_at",
            "lawful_basis",
            "births",
            "merged_cases",
            "merged_into",
            "timeline",
        ),
        _PROCESS,
    ),
    "risk_factors": _SOCIAL,
    "discussions": _SOCIAL,
    # After the match: the day support started, linked cases (process); evaluations hold
    # needs and Positieve Gezondheid scores, like discussions (social).
    "support_started_on": _PROCESS,
    "follows": _PROCESS,
    "followed_by": _PROCESS,
    "evaluations": _SOCIAL,
}


def policy_of(field: str) -> Policy:
    """The policy of a personal-details field; KeyError for a field without a label."""
    return PERSONAL_FIELDS[field]
