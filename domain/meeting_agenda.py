"""What a meeting's agenda shows, and to whom: each attending organisation sees only the cases
whose family's consent names it, each case only as far as ``domain.reader_policy`` allows.

The documents hold the case view's field names (labelled in the reader policy), codes, dates
and organisations only: never a pseudonym, a name or any other personal detail.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from domain import reader_policy
from domain.meeting import Meeting
from domain.reader_policy import Label, Reader
from domain.referral import Referral

Json = dict[str, Any]

# The meeting's own fields: date, organisations and decision codes are process information.
MEETING_FIELDS: dict[str, Label] = {
    "meeting_id": Label.PROCESS,
    "municipality": Label.PROCESS,
    "on": Label.PROCESS,
    "state": Label.PROCESS,
    "version": Label.PROCESS,
    "organisations": Label.PROCESS,
    "concluded_at": Label.PROCESS,
    "agenda[].case_id": Label.PROCESS,
    "agenda[].decision": Label.PROCESS,
}


def case_document(case: Referral) -> Json:
    """The agenda's facts of one case, in the case view's field names (before the policy)."""
    consent = case.consent
    discussions = [
        {k: d[k] for k in ("on", "participants", "scores", "needs")} for d in case.discussions
    ]
    return {
        "case_id": str(case.id),
        "municipality": case.municipality,
        "state": case.state.value,
        "version": case.version,
        "signalled_at": case.signalled_at,
        "urgency": case.urgency,
        "risk_factors": case.risk_factors,
        "consent": None
        if consent is None
        else {
            "status": consent["status"],
            "scope": list(consent["scope"]),
            "expires_on": consent.get("expires_on"),
        },
        "discussions": discussions,
        "needs": discussions[-1]["needs"] if discussions else [],
        "support": [
            {"offers": list(s["offers"]), "planned_start": s["planned_start"]} for s in case.support
        ],
    }


def consent_names(case: Referral, organisation: str, today: date) -> bool:
    """Whether the family's active consent names ``organisation``."""
    consent = case.consent
    return (
        consent is not None
        and case.consent_is_active(today)
        and organisation in consent.get("scope", [])
    )


def visible_items(
    meeting: Meeting, cases: Sequence[Referral], organisation: str | None, today: date
) -> list[Referral]:
    """The agenda's cases an organisation sees (None: the coordinator, who sees all)."""
    if organisation is None:
        return list(cases)
    if organisation not in meeting.organisations:
        return []
    return [c for c in cases if consent_names(c, organisation, today)]


def agenda_item(case: Referral, meeting: Meeting, reader: Reader) -> Json:
    """One agenda item as ``reader`` may see it, with what the meeting decided about it."""
    item = reader_policy.case_document(case_document(case), reader)
    item["decision"] = meeting.decision_on(case.id)
    return item


def meeting_document(meeting: Meeting) -> Json:
    """The meeting itself: date, state, attending organisations and its agenda's decisions."""
    return {
        "meeting_id": str(meeting.id),
        "municipality": meeting.municipality,
        "on": meeting.on,
        "state": meeting.state.value,
        "version": meeting.version,
        "organisations": list(meeting.organisations),
        "concluded_at": meeting.concluded_at,
        "agenda": [
            {"case_id": str(case_id), "decision": meeting.decision_on(case_id)}
            for case_id in meeting.agenda
        ],
    }
