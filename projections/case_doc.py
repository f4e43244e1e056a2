"""The case view's document, folded on plain JSON values: what ``case_view`` stores per case.

The document is what ``CaseView.model_dump(mode="json")`` gives, keys in the model's order:
the event's published fields (``ReferralEvent.body``) are copied into it as they are, so a
batch folds and writes its cases without building or dumping a model per event. The models of
``projections.case_view`` describe the document and read it back; a unit test holds every
document this fold writes to the model's own dump of it.
"""

from __future__ import annotations

from typing import Any

from projections.event import STATE_AFTER, ReferralEvent

Doc = dict[str, Any]

_URGENCY_RANK = {"urgent": 0, "soon": 1, "routine": 2}
# What the timeline's details leave out: shown apart (actor, time) or never published there.
_NOT_DETAILS = frozenset({"actor", "occurred_at", "person_pseudonym", "municipality"})


def opened(event: ReferralEvent) -> Doc:
    """The document of a case its ``Signalled`` event opens."""
    body = event.body
    at = body["occurred_at"]
    first = signal_entry(body["signal"], at)
    return {
        "case_id": event.case_id,
        "municipality": body["municipality"],
        "state": "signalled",
        "version": event.version,
        "position": event.position,
        "signalled_at": at,
        "last_activity_at": at,
        "urgency": first["urgency"],
        "risk_factors": list(first["risk_factors"]),
        "signals": [first],
        "consent": None,
        "discussions": [],
        "support": [],
        "escalations": [],
        "support_started_on": None,
        "evaluations": [],
        "follows": body["follows"],
        "followed_by": None,
        "outcome": None,
        "closed_at": None,
        "personal_data_erased_at": None,
        "lawful_basis": "family_agreement" if first["referral_consent"] else "meldcode_signal",
        "births": [],
        "merged_cases": [],
        "merged_into": None,
        "restriction": None,
        "retractions": [],
        "corrections": [],
        "transfer_request": None,
        "transfers": [],
        "assignee": None,
        "timeline": [],
    }


def signal_entry(signal: Doc, at: str) -> Doc:
    """One signal as the case view lists it (a new dict: the event's stays as it was)."""
    return {
        "at": at,
        "reporter": signal["reporter"],
        "phase": signal["phase"],
        "phase_date": signal["phase_date"],
        "risk_factors": list(signal["risk_factors"]),
        "urgency": signal["urgency"],
        "household": list(signal["household"]),
        "referral_consent": signal["referral_consent"],
        "related_cases": list(signal["related_cases"]),
    }


def fold(doc: Doc | None, event: ReferralEvent) -> Doc | None:
    """The document after ``event``, changed in place (None when the case's first event was
    never seen). The caller owns ``doc``: pass a copy to keep the one before."""
    if event.name == "Signalled":
        doc = opened(event)
    elif doc is None:
        return None
    else:
        _change(doc, event.name, event.body)
    body = event.body
    state = STATE_AFTER[event.name]
    if state is not None:
        doc["state"] = state.value
    doc["version"] = event.version
    doc["position"] = event.position
    doc["last_activity_at"] = body["occurred_at"]
    details = {k: v for k, v in body.items() if k not in _NOT_DETAILS}
    doc["timeline"].append(
        {
            "version": event.version,
            "event": event.name,
            "at": body["occurred_at"],
            "actor": body["actor"],
            "details": details,
        }
    )
    return doc


def _add_signal(doc: Doc, entry: Doc) -> None:
    doc["signals"].append(entry)
    risks = doc["risk_factors"]
    risks += [r for r in entry["risk_factors"] if r not in risks]
    if _URGENCY_RANK[entry["urgency"]] < _URGENCY_RANK[doc["urgency"]]:
        doc["urgency"] = entry["urgency"]


def _change(doc: Doc, name: str, b: Doc) -> None:
    at = b["occurred_at"]
    if name == "SignalAdded":
        _add_signal(doc, signal_entry(b["signal"], at))
    elif name in ("ConsentRequested", "ConsentDeclined"):
        status = "requested" if name == "ConsentRequested" else "declined"
        doc["consent"] = _consent(status, [], None, at, None)
    elif name == "ConsentGiven":
        doc["consent"] = _consent("given", list(b["scope"]), b["expires_on"], at, b["record"])
    elif name == "ConsentWithdrawn":
        before = doc["consent"] or {"scope": [], "expires_on": None, "record": None}
        doc["consent"] = _consent(
            "withdrawn", before["scope"], before["expires_on"], at, before["record"]
        )
    elif name == "Discussed":
        on, participants, scores, needs = b["on"], b["participants"], b["scores"], b["needs"]
        doc["discussions"].append(
            {"on": on, "participants": participants, "scores": scores, "needs": needs, "at": at}
        )
    elif name == "SupportMatched":
        offers, start = b["offers"], b["planned_start"]
        doc["support"].append({"offers": offers, "planned_start": start, "at": at})
    elif name == "Escalated":
        doc["escalations"].append(
            {
                "meldcode_step": b["meldcode_step"],
                "legal_basis": b["legal_basis"],
                "organisations": b["organisations"],
                "purpose": b["purpose"],
                "at": at,
            }
        )
    elif name == "Closed":
        doc["outcome"], doc["closed_at"] = b["outcome"], at
    elif name == "SupportStarted":
        doc["support_started_on"] = b["on"]
    elif name == "Evaluated":
        on, needs, scores, step = b["on"], b["needs"], b["scores"], b["next_step"]
        doc["evaluations"].append(
            {"on": on, "needs": needs, "scores": scores, "next_step": step, "at": at}
        )
    elif name == "Reopened":
        doc["followed_by"] = b["follow_up_id"]
    elif name == "PersonalDataErased":
        doc["personal_data_erased_at"] = at
    elif name == "ChildBorn":
        doc["births"].append({"due_date": b["due_date"], "at": at})
    elif name == "CasesMerged":
        _merge(doc, b, at)
    elif name == "Restricted":
        doc["restriction"] = {"basis": b["basis"], "at": _python_iso(at)}
    elif name == "RestrictionLifted":
        doc["restriction"] = None
    elif name == "Assigned":
        doc["assignee"] = b["coordinator"]
    else:
        _rights(doc, name, b, at)


def _consent(
    status: str, scope: list[str], expires_on: str | None, at: str, record: Doc | None
) -> Doc:
    return {"status": status, "scope": scope, "expires_on": expires_on, "at": at, "record": record}


def _rights(doc: Doc, name: str, b: Doc, at: str) -> None:
    """Correction and transfer (the family's rights, moving house)."""
    if name == "SignalRetracted":
        number = b["signal_number"]
        if number <= len(doc["signals"]):
            del doc["signals"][number - 1]
        doc["risk_factors"] = list(b["risk_factors"])
        doc["urgency"] = b["urgency"]
        reason = b["retraction_reason"]
        doc["retractions"].append({"signal_number": number, "reason": reason, "at": at})
    elif name == "PersonalDetailsCorrected":
        doc["corrections"].append({"fields": list(b["fields"]), "cause": b["cause"], "at": at})
    elif name == "TransferRequested":
        to, basis = b["to_municipality"], b["basis"]
        doc["transfer_request"] = {"to_municipality": to, "basis": basis, "at": at}
    elif name == "TransferRefused":
        doc["transfer_request"] = None
    elif name == "CaseTransferred":
        doc["transfer_request"] = None
        doc["municipality"] = b["to_municipality"]
        moved = {
            "from_municipality": b["from_municipality"],
            "to_municipality": b["to_municipality"],
        }
        doc["transfers"].append({**moved, "at": at})
        doc["assignee"] = None  # the new Knooppunt's coordinators take it on


def _merge(doc: Doc, b: Doc, at: str) -> None:
    if b["merged_case_id"] == doc["case_id"]:
        doc["state"], doc["outcome"], doc["closed_at"] = "closed", "merged", at
        doc["merged_into"] = b["kept_case_id"]
        return
    doc["merged_cases"].append(b["merged_case_id"])
    for signal in b["signals"]:
        entry = signal_entry(signal, signal["at"] or at)  # when it arrived, else the merge's
        entry["related_cases"] = []
        _add_signal(doc, entry)
    merged = b["merged_case_id"]
    for entry in doc["signals"]:
        entry["related_cases"] = [c for c in entry["related_cases"] if c != merged]


def _python_iso(moment: str) -> str:
    """A JSON time as ``datetime.isoformat`` writes it (``+00:00`` where JSON has ``Z``): the
    restriction has always kept its time in that form."""
    return moment[:-1] + "+00:00" if moment.endswith("Z") else moment
