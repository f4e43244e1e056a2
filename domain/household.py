"""The household a case belongs to (*gezin*): parents, children and the unborn child.

A case is keyed to the signalled parent; the co-parent and the children with a BSN are known
by keyed pseudonyms of their own, so that a signal about any of them joins the family's case.
Matching stays exact: by pseudonyms, never by names or addresses. The household is derived
from the case's signal records, recorded births and merges; nothing here holds a direct
identifier (names and birth dates are sealed with the case's personal details).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.redaction import FreeText

Json = dict[str, Any]


class MemberRole(StrEnum):
    """A household member's place in the case."""

    PARENT = "parent"  # the parent the case was opened for
    CO_PARENT = "co_parent"
    CHILD = "child"  # a born child, with a BSN of its own
    UNBORN = "unborn"  # the expected child, known by its due date


class ConsentGiver(StrEnum):
    """Who gave consent: the signalled parent, the co-parent, or both."""

    PARENT = "parent"
    CO_PARENT = "co_parent"
    BOTH = "both"


MEMBER_LABELS = {
    MemberRole.PARENT: "Ouder",
    MemberRole.CO_PARENT: "Andere ouder",
    MemberRole.CHILD: "Kind",
    MemberRole.UNBORN: "Ongeboren kind",
}
GIVER_LABELS = {
    ConsentGiver.PARENT: "Ouder",
    ConsentGiver.CO_PARENT: "Andere ouder",
    ConsentGiver.BOTH: "Beide ouders",
}


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HouseholdMember(_Value):
    """A member a signal names: by pseudonym (parents, born children) or due date (unborn)."""

    role: MemberRole
    pseudonym: str | None = Field(default=None, min_length=16, max_length=128)
    due_date: dt.date | None = None


class ReferralConsent(_Value):
    """The partner's statement that the family agreed to the referral (*aanmelding na
    toestemming*): who agreed and when."""

    given_by: ConsentGiver
    given_on: dt.date


class MemberDetails(_Value):
    """A member's direct identifiers, sealed with the case's personal details."""

    role: MemberRole
    ref: str = Field(max_length=128, description="The member's pseudonym, or 'unborn'.")
    name: FreeText | None = Field(default=None, max_length=200)
    birth_date: dt.date | None = None
    phone: str | None = Field(default=None, max_length=40)
    address: FreeText | None = Field(default=None, max_length=300)


def members_of(case: Any) -> list[Json]:
    """The case's household now: ``{"role", "pseudonym", "due_date"}`` per member, the parent
    first. Unborn children are known by due date until their birth is recorded."""
    gone = set(case.__dict__.get("_unlinked", ()))  # linked by a retracted signal only
    members: list[Json] = [
        {"role": MemberRole.PARENT.value, "pseudonym": case.person_pseudonym, "due_date": None}
    ]
    if case.person_pseudonym in gone:
        members = []
    known = {case.person_pseudonym, *gone}
    due: list[Any] = []
    pregnancy: list[Any] = []
    for record in _records(case):
        for m in record.get("household", []):
            if m.get("pseudonym"):
                if m["pseudonym"] not in known:
                    known.add(m["pseudonym"])
                    members.append(dict(m, due_date=None))
            elif m.get("due_date") is not None and m["due_date"] not in due:
                due.append(m["due_date"])
        if record.get("phase") == "pregnancy" and record.get("phase_date") is not None:
            pregnancy.append(record["phase_date"])
    if not due and pregnancy:
        due = [pregnancy[-1]]  # the pregnancy the signals are about: its latest due date
    born = [b.get("due_date") for b in _births(case)]
    members += [
        {"role": MemberRole.UNBORN.value, "pseudonym": None, "due_date": d}
        for d in due
        if d not in born
    ]
    return members


def unborn_due_dates(case: Any) -> list[Any]:
    """Due dates of the children the case expects (empty once all births are recorded)."""
    return [m["due_date"] for m in members_of(case) if m["role"] == MemberRole.UNBORN.value]


def _births(case: Any) -> list[Json]:
    births: list[Json] = case.__dict__.get("births", [])
    return births


def _records(case: Any) -> list[Json]:
    """Signal records, then merged households, then births: the sources of membership."""
    out: list[Json] = list(case.signals)
    out += [{"household": m.get("members", [])} for m in case.__dict__.get("merged", [])]
    out += [
        {"household": [{"role": MemberRole.CHILD.value, "pseudonym": b["pseudonym"]}]}
        for b in _births(case)
    ]
    return out


def member_pseudonyms(case: Any) -> list[str]:
    """Every pseudonym the case is known by: the parent's, the co-parent's, the children's."""
    return [m["pseudonym"] for m in members_of(case) if m["pseudonym"]]


PSEUDONYM_FIELDS = frozenset({"pseudonym", "person_pseudonym", "child_pseudonym"})


def map_pseudonyms(value: Any, change: Callable[[str], str]) -> Any:
    """``value`` with every pseudonym field (at any depth) passed through ``change``: what a
    case takes over from another case is sealed anew under its own link key."""
    if isinstance(value, dict):
        return {
            k: change(v)
            if k in PSEUDONYM_FIELDS and isinstance(v, str)
            else map_pseudonyms(v, change)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [map_pseudonyms(v, change) for v in value]
    return value
