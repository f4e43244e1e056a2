"""What each reader may see of a case: every field of the case view and history, labelled.

One table answers "may this reader see this field?" for every place case data leaves the
engine (the JSON API, the dashboard, the FHIR Bundle). Each field of the case view and of
each history entry carries one confidentiality label (*vertrouwelijkheid*):

- ``process``: states, dates, organisations, consent, the support agreed and the outcome;
- ``contact``: who is in the household (roles, due dates);
- ``medical``: screening answers (risk factors), Positieve Gezondheid scores, birth data;
- ``social``: needs found, Meldcode escalations (the social summary);
- ``notes``: the coordinator's notes.

A path names a field (``urgency``), a field of every item of a list (``signals[].phase``) or
of a nested object (``signal.reporter``); a label on a field covers everything below it. A
field the table does not name is never shown: the unit tests fail on any such field, so a
new field gets its label when it is added. Personal details (name, birth date, contact
details) are never part of a view: a coordinator asks for them on their own, access-logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class Label(StrEnum):
    """The confidentiality of a field."""

    PROCESS = "process"
    CONTACT = "contact"
    MEDICAL = "medical"
    SOCIAL = "social"
    NOTES = "notes"


class Reader(StrEnum):
    """Who reads a case, as the policy tells them apart."""

    COORDINATOR = "coordinator"  # in remit
    MEDICAL_PARTNER = "medical_partner"  # named in the consent scope
    SOCIAL_PARTNER = "social_partner"  # named in the consent scope
    PARTNER = "partner"  # named in the consent scope, domain not configured
    AUDITOR = "auditor"  # of the municipalities assigned to them
    PRIVACY_OFFICER = "privacy_officer"  # as an auditor, plus the family's rights
    PROGRAMME_OFFICE = "programme_office"  # aggregates only


_ALL = frozenset(Label)
SEES: dict[Reader, frozenset[Label]] = {
    Reader.COORDINATOR: _ALL,
    Reader.MEDICAL_PARTNER: frozenset({Label.PROCESS, Label.MEDICAL}),
    Reader.SOCIAL_PARTNER: frozenset({Label.PROCESS, Label.SOCIAL}),
    Reader.PARTNER: frozenset({Label.PROCESS}),
    Reader.AUDITOR: frozenset({Label.PROCESS}),
    Reader.PRIVACY_OFFICER: frozenset({Label.PROCESS}),
    Reader.PROGRAMME_OFFICE: frozenset(),
}

P, C, M, S, N = Label.PROCESS, Label.CONTACT, Label.MEDICAL, Label.SOCIAL, Label.NOTES

# One signal, as the case view and the history both hold it.
_SIGNAL: dict[str, Label] = {
    "at": P,
    "reporter": P,
    "phase": P,
    "phase_date": M,
    "risk_factors": M,
    "urgency": P,
    "household": C,
    "referral_consent": P,
    "related_cases": P,
}


def _under(prefix: str, fields: Mapping[str, Label]) -> dict[str, Label]:
    return {f"{prefix}.{name}": label for name, label in fields.items()}


CASE_FIELDS: dict[str, Label] = {
    "case_id": P,
    "municipality": P,
    "state": P,
    "version": P,
    "position": P,
    "signalled_at": P,
    "last_activity_at": P,
    "urgency": P,
    "risk_factors": M,
    **_under("signals[]", _SIGNAL),
    "consent": P,
    "discussions[].on": P,
    "discussions[].participants": P,
    "discussions[].scores": M,
    "discussions[].needs": S,
    "discussions[].at": P,
    "needs": S,
    "support": P,
    "escalations": S,
    "outcome": P,
    "closed_at": P,
    "personal_data_erased_at": P,
    "lawful_basis": P,
    "births": M,
    "merged_cases": P,
    "merged_into": P,
    # After the match: the day support started and linked cases (process); an evaluation's
    # needs met or not are social, its Positieve Gezondheid scores medical.
    "support_started_on": P,
    "follows": P,
    "followed_by": P,
    "evaluations[].on": P,
    "evaluations[].needs": S,
    "evaluations[].scores": M,
    "evaluations[].next_step": P,
    "evaluations[].at": P,
    "restriction": P,
    # Correction (AVG art. 16): which signal was retracted and why, which fields were
    # corrected (never their values); transfer to another municipality: where and when.
    "retractions": P,
    "corrections": P,
    "transfer_request": P,
    "transfers": P,
    "assignee": P,  # the coordinator who owns the case (a professional's id)
    "timeline[].version": P,
    "timeline[].event": P,
    "timeline[].at": P,
    "timeline[].actor": P,
    # timeline[].details: labelled per event in HISTORY_FIELDS
}

# The details of each history entry (the event's own fields), per event.
HISTORY_FIELDS: dict[str, dict[str, Label]] = {
    "Signalled": {**_under("signal", _SIGNAL), "follows": P},
    "SignalAdded": _under("signal", _SIGNAL),
    "ConsentRequested": {},
    "ConsentGiven": {"scope": P, "expires_on": P, "record": P},
    "ConsentDeclined": {},
    "ConsentWithdrawn": {},
    "Discussed": {"on": P, "participants": P, "scores": M, "needs": S},
    "SupportMatched": {"offers": P, "planned_start": P, "catalogue_version": P},
    "Escalated": {"meldcode_step": S, "legal_basis": S, "organisations": S, "purpose": S},
    "Closed": {"outcome": P},
    "PersonalDataErased": {"basis": P},
    "ChildBorn": {"due_date": M},
    "SupportStarted": {"on": P},
    "Evaluated": {"on": P, "needs": S, "scores": M, "next_step": P},
    "Reopened": {"follow_up_id": P},
    # A deadline that waits or moves: the dates are process, the reason free text (notes).
    "DeadlineSuspended": {"step": P, "base": P, "due": P, "until": P},
    "DeadlineResumed": {"step": P, "due": P},
    "DeadlineExtended": {"step": P, "base": P, "due": P},
    "CasesMerged": {
        "kept_case_id": P,
        "merged_case_id": P,
        "members": C,
        **_under("signals[]", _SIGNAL),
    },
    "Restricted": {"basis": P},
    "RestrictionLifted": {},
    "SignalRetracted": {
        "signal_number": P,
        "retraction_reason": P,
        "risk_factors": M,
        "urgency": P,
        "remaining": P,
    },
    "PersonalDetailsCorrected": {"fields": P, "cause": P},
    "TransferRequested": {"to_municipality": P, "basis": P, "consent": P},
    "CaseTransferred": {"from_municipality": P, "to_municipality": P},
    "TransferRefused": {"to_municipality": P},
    "Assigned": {"coordinator": P},
}


# One coordinator's note (``GET /cases/{id}/notes``): who wrote it and when are process, the
# text is the notes label. The notes are sealed and each reading is access-logged with a purpose.
NOTE_FIELDS: dict[str, Label] = {
    "number": P,
    "at": P,
    "organisation": P,
    "author": P,
    "confidentiality": P,
    "text": N,
}


def note_entry(note: Mapping[str, Any], reader: Reader) -> dict[str, Any]:
    """One note as ``reader`` may see it (the text only for readers of the notes label)."""
    return _fields(note, "", NOTE_FIELDS, SEES[reader])


def labels_for(reader: Reader) -> frozenset[Label]:
    """The labels ``reader`` may see."""
    return SEES[reader]


def _shown(
    value: Any, path: str, table: Mapping[str, Label], labels: frozenset[Label]
) -> tuple[bool, Any]:
    """Whether the field at ``path`` is shown, and what of it."""
    label = table.get(path)
    if label is not None:
        return label in labels, value
    if isinstance(value, Mapping) and any(k.startswith(path + ".") for k in table):
        return True, _fields(value, path + ".", table, labels)
    if isinstance(value, list) and any(k.startswith(path + "[].") for k in table):
        return True, [
            _fields(v, path + "[].", table, labels) if isinstance(v, Mapping) else v for v in value
        ]
    return False, None


def _fields(
    document: Mapping[str, Any], prefix: str, table: Mapping[str, Label], labels: frozenset[Label]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in document.items():
        keep, shown = _shown(value, prefix + key, table, labels)
        if keep:
            out[key] = shown
    return out


def history_entry(entry: Mapping[str, Any], reader: Reader) -> dict[str, Any]:
    """One history entry as ``reader`` may see it (its details filtered per event)."""
    labels = SEES[reader]
    if not labels:
        return {}
    shown = _fields(entry, "timeline[].", CASE_FIELDS, labels)
    details = entry.get("details")
    if isinstance(details, Mapping):
        table = HISTORY_FIELDS.get(str(entry.get("event")), {})
        shown["details"] = _fields(details, "", table, labels)
    return shown


def case_document(document: Mapping[str, Any], reader: Reader) -> dict[str, Any]:
    """The case view (or any subset of its fields) as ``reader`` may see it."""
    if not SEES[reader]:
        return {}
    shown = _fields(
        {k: v for k, v in document.items() if k != "timeline"}, "", CASE_FIELDS, SEES[reader]
    )
    if "timeline" in document:
        shown["timeline"] = [history_entry(e, reader) for e in document["timeline"]]
    return shown


def may_read(reader: Reader, label: Label) -> bool:
    """Whether ``reader`` may see fields labelled ``label``."""
    return label in SEES[reader]
