"""Confidentiality labels of the family's personal details and who may read them.

The fields of the case view and history are labelled in ``domain.reader_policy``; the sealed
personal details (names, birth dates, contact details, the reporter's note) are labelled here:
opened only on request, with a stated purpose, by the case's coordinator, every opening in
the access log.
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

# The family's personal details (sealed; ``domain.values.PersonalDetails``, ``MemberDetails``).
PERSONAL_FIELDS: dict[str, Policy] = {
    "name": _SEALED,
    "birth_date": _SEALED,
    "phone": _SEALED,
    "address": _SEALED,
    "note": Policy(Confidentiality.NOTES, frozenset({Reader.COORDINATOR}), on_request=True),
    "household": _SEALED,
}


def policy_of(field: str) -> Policy:
    """The policy of a personal-details field; KeyError for a field without a label."""
    return PERSONAL_FIELDS[field]
