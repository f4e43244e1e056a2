"""The family's right of access (*recht op inzage*, AVG art. 15): everything recorded about a
person and their household, across the cases of the privacy officer's municipalities.

From a pseudonym (the BSN goes no further than the edge that pseudonymised it) the report
gathers, per case the person belongs to: the case's events with who caused each, the
household's personal details opened from their seal, the consent, the coordinators' notes
opened from their seal, and every access-log entry
about the case (who read or changed it, when and why). It never hands over another adult's
details: a co-parent's name is not given to the other parent without a basis (the report
says which details it withheld). The caller access-logs the report, one entry per case.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic_core import to_jsonable_python

from domain.case_lookup import case_number
from domain.household import MemberRole
from domain.referral import Referral
from ks_engine.access_log import AccessEntry, AccessLog, AccessQuery
from ks_engine.application import Referrals
from ks_engine.personal_details import PersonalField, labelled_fields

Json = dict[str, Any]

# Event attributes that are the store's bookkeeping or sealed or pseudonymous links, not
# something recorded about the person that a reader could use.
_LEFT_OUT = frozenset(
    {
        "originator_id",
        "originator_version",
        "originator_topic",
        "timestamp",
        "actor",
        "occurred_at",
        "causation_id",
        "personal",
        "person_pseudonym",
        "child_pseudonym",
        "pseudonym",
        "key_ids",
        "signal_key",
    }
)
_ADULTS = frozenset({MemberRole.PARENT.value, MemberRole.CO_PARENT.value})


@dataclass(frozen=True)
class CaseReport:
    """What one case records about the person: role, events, details, consent, access."""

    case_id: UUID
    case_number: str
    municipality: str
    state: str
    role: str  # the person's place in the case's household
    opened_at: datetime
    household: list[Json]
    personal_status: str
    personal_erased_on: str | None
    personal: list[PersonalField]
    withheld: list[str]  # roles whose details are not handed over (another adult's)
    consent: Json | None
    events: list[Json]
    access: list[AccessEntry]
    notes_status: str = "present"  # the coordinators' notes: present (maybe none) or erased
    notes: list[Json] = field(default_factory=list)


@dataclass(frozen=True)
class AccessReport:
    """The answer to one access request: every case found, newest first."""

    produced_at: datetime
    municipalities: list[str]
    cases: list[CaseReport] = field(default_factory=list)

    def as_json(self) -> Json:
        """The report as JSON: plain values only, no pseudonym, no BSN."""
        out: Json = to_jsonable_python(
            {
                "produced_at": self.produced_at,
                "municipalities": self.municipalities,
                "cases": [
                    {
                        "case_id": r.case_id,
                        "case_number": r.case_number,
                        "municipality": r.municipality,
                        "state": r.state,
                        "role": r.role,
                        "opened_at": r.opened_at,
                        "household": r.household,
                        "personal_details": {
                            "status": r.personal_status,
                            "erased_on": r.personal_erased_on,
                            "fields": [_personal(f) for f in r.personal],
                            "withheld": r.withheld,
                        },
                        "consent": r.consent,
                        "notes": {"status": r.notes_status, "notes": r.notes},
                        "events": r.events,
                        "access_log": [_access(e) for e in r.access],
                    }
                    for r in self.cases
                ],
            }
        )
        return out


def _personal(f: PersonalField) -> Json:
    return {
        "member": f.member,
        "member_label": f.member_label,
        "field": f.field,
        "field_label": f.field_label,
        "value": f.value,
    }


def _access(e: AccessEntry) -> Json:
    return {
        "occurred_at": e.occurred_at,
        "action": e.action.value,
        "outcome": e.outcome.value,
        "organisation": e.organisation,
        "role": e.role,
        "purpose": e.purpose.value,
        "object": e.object,
    }


def _scrub(value: Any) -> Any:
    """The value without pseudonyms, sealed details or bookkeeping, at any depth."""
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in _LEFT_OUT}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def event_entries(app: Referrals, case_id: UUID) -> list[Json]:
    """Each stored event of the case: its name, when, who (organisation and role), and what
    it recorded, oldest first."""
    entries: list[Json] = []
    for e in app.events.get(case_id):
        actor = getattr(e, "actor", None) or {}
        entries.append(
            {
                "event": type(e).__name__,
                "version": e.originator_version,
                "occurred_at": getattr(e, "occurred_at", None) or getattr(e, "timestamp", None),
                "organisation": actor.get("organisation"),
                "role": actor.get("role"),
                "details": to_jsonable_python(_scrub(dict(e.__dict__))),
            }
        )
    return entries


def member_role(app: Referrals, case: Referral, pseudonym: str) -> str | None:
    """The person's place in the case's household, or None when they are not part of it."""
    for member in case.household:
        if member["pseudonym"] and app.links.unseal(member["pseudonym"]) == pseudonym:
            return str(member["role"])
    return None


def _shown(fields: list[PersonalField], role: str) -> tuple[list[PersonalField], list[str]]:
    """The person's own details and the children's; another adult's are withheld."""
    shown = [f for f in fields if f.member == role or f.member not in _ADULTS]
    withheld = sorted({f.member for f in fields if f.member in _ADULTS and f.member != role})
    return shown, withheld


def access_log_by_case(log: AccessLog, case_ids: Iterable[UUID]) -> dict[UUID, list[AccessEntry]]:
    """Every access-log entry about these cases, oldest first, in one pass over the log."""
    wanted = set(case_ids)
    found: dict[UUID, list[AccessEntry]] = {c: [] for c in wanted}
    after = 0
    while wanted:
        page = log.find(AccessQuery(), after=after, limit=500)
        for entry in page.entries:
            if entry.case_id in wanted:
                found[entry.case_id].append(entry)
        if page.next_cursor is None:
            break
        after = page.next_cursor
    return found


def access_report(
    app: Referrals, log: AccessLog, pseudonym: str, municipalities: Sequence[str]
) -> AccessReport:
    """Everything the cases of ``municipalities`` record about the person with ``pseudonym``
    and their household."""
    cases = [
        (case, role)
        for case in app.search_cases(municipalities, pseudonym=pseudonym)
        if (role := member_role(app, case, pseudonym)) is not None
    ]
    access = access_log_by_case(log, [case.id for case, _ in cases])
    reports: list[CaseReport] = []
    for case, role in cases:
        view = app.personal_details(case.id)
        shown, withheld = _shown(labelled_fields(case, view), role)
        notes = app.case_notes(case.id)
        reports.append(
            CaseReport(
                case_id=case.id,
                case_number=case_number(case.id),
                municipality=case.municipality,
                state=case.state.value,
                role=role,
                opened_at=case.signalled_at,
                household=[{"role": m["role"], "due_date": m["due_date"]} for m in case.household],
                personal_status=view.status,
                personal_erased_on=view.erased_on.isoformat() if view.erased_on else None,
                personal=shown,
                withheld=withheld,
                consent=to_jsonable_python(case.consent) if case.consent else None,
                events=event_entries(app, case.id),
                access=access[case.id],
                notes_status=notes.status,
                notes=[
                    {"number": n.number, "at": n.at, "organisation": n.organisation, "text": n.text}
                    for n in notes.notes
                ],
            )
        )
    return AccessReport(
        produced_at=app.clock(), municipalities=sorted(municipalities), cases=reports
    )
