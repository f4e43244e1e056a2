"""A case's personal details as a coordinator opens them: one labelled field per line.

The details are opened from their seal (``ks_engine.keystore``) only on request; each field
carries its confidentiality label and reader policy (``domain.confidentiality``), and its
household member's role, never the member's pseudonym.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.confidentiality import policy_of
from domain.household import MEMBER_LABELS, MemberRole
from domain.referral import Referral
from ks_engine.keystore import PersonalDetailsView

FIELD_LABELS = {
    "name": "Naam",
    "birth_date": "Geboortedatum",
    "phone": "Telefoon",
    "address": "Adres",
    "note": "Toelichting van de melder",
}


@dataclass(frozen=True)
class PersonalField:
    """One opened field: whose, which, its value and its label and readers."""

    member: str
    member_label: str
    field: str
    field_label: str
    value: str
    confidentiality: str
    readers: tuple[str, ...]


def _field(role: str, name: str, value: Any) -> PersonalField:
    policy = policy_of(name)
    shown = value.isoformat() if isinstance(value, date) else str(value)
    return PersonalField(
        member=role,
        member_label=MEMBER_LABELS[MemberRole(role)],
        field=name,
        field_label=FIELD_LABELS[name],
        value=shown,
        confidentiality=policy.label.value,
        readers=tuple(sorted(r.value for r in policy.readers)),
    )


def labelled_fields(case: Referral, view: PersonalDetailsView) -> list[PersonalField]:
    """The opened details, parent first, then the household in the case's order."""
    if view.details is None:
        return []
    details = view.details
    fields = [
        _field(MemberRole.PARENT.value, name, getattr(details, name))
        for name in ("name", "birth_date", "phone", "address", "note")
        if getattr(details, name) is not None
    ]
    roles = {m["pseudonym"]: m["role"] for m in case.household if m["pseudonym"]}
    order = list(roles)
    for member in sorted(
        details.household, key=lambda m: order.index(m.ref) if m.ref in order else len(order)
    ):
        role = roles.get(member.ref, member.role.value)
        fields += [
            _field(role, name, getattr(member, name))
            for name in ("name", "birth_date", "phone", "address")
            if getattr(member, name) is not None
        ]
    return fields
