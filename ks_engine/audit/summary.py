"""The pseudonymised summary of a case event: what an audit export shows of it.

Codes, dates, organisations and roles only: no pseudonym of the person, no personal details
(sealed or not), no free text (justifications, closing reasons, legal-basis wording, names of
professionals) and no health scores. The sealer commits to each summary's hash in the chain,
so the format is versioned: a change needs a new ``FORMAT`` and the old one kept for verifying.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from domain.referral import Referral

FORMAT = 1
# A case's events are defined on Referral and on the classes it is built from.
CASE_TOPIC_PREFIXES = tuple(
    get_topic(k) + "."
    for k in Referral.__mro__
    if isinstance(k, type) and issubclass(k, Aggregate) and k is not Aggregate
)

Json = dict[str, Any]
SIGNAL_EVENTS = ("Signalled", "SignalAdded")  # the case events that carry a signal


def is_case_event(topic: str) -> bool:
    """Whether a stored event with this topic is an event of a case (a Referral)."""
    return topic.startswith(CASE_TOPIC_PREFIXES)


def _signal(signal: Mapping[str, Any]) -> Json:
    reporter = signal["reporter"]
    return {
        "reporter": {"organisation": reporter["organisation"], "role": reporter["role"]},
        "phase": signal["phase"],
        "risk_factors": list(signal["risk_factors"]),
        "urgency": signal["urgency"],
    }


def _specific(name: str, a: Mapping[str, Any]) -> Json:
    if name in SIGNAL_EVENTS:
        return {"signal": _signal(a["signal"]), "personal_details": bool(a.get("personal"))}
    if name == "ConsentGiven":
        expires = a.get("expires_on")
        return {"scope": list(a["scope"]), "expires_on": expires.isoformat() if expires else None}
    if name == "Discussed":
        return {
            "on": a["on"].isoformat(),
            "participants": list(a["participants"]),
            "needs": list(a["needs"]),
        }
    if name == "SupportMatched":
        return {
            "offers": [{"offer_id": o["offer_id"], "provider": o["provider"]} for o in a["offers"]],
            "planned_start": a["planned_start"].isoformat(),
        }
    if name == "Escalated":
        return {"meldcode_step": a["meldcode_step"]}
    if name == "Closed":
        return {"outcome": a["outcome"]}
    if name == "PersonalDataErased":
        return {"reason": a["reason"]}
    if name == "Restricted":
        return {"basis": a["basis"]}
    if name == "SignalRetracted":
        return {"signal_number": a["signal_number"], "reason": a["reason"]}
    if name == "PersonalDetailsCorrected":
        return {"fields": list(a["fields"]), "cause": a["cause"]}
    if name in ("TransferRequested", "TransferRefused", "CaseTransferred"):
        moved: Json = {k: a[k] for k in ("from_municipality", "to_municipality") if k in a}
        return {**moved, "basis": a["basis"]} if "basis" in a else moved
    if name == "CasesMerged":
        return {"kept_case_id": a["kept_case_id"], "merged_case_id": a["merged_case_id"]}
    if name == "SupportStarted":
        return {"on": a["on"].isoformat()}
    if name == "Evaluated":
        return {"on": a["on"].isoformat(), "needs": dict(a["needs"]), "next": a["next_step"]}
    if name == "Reopened":
        return {"follow_up": a["follow_up_id"]}
    if name in ("DeadlineSuspended", "DeadlineResumed", "DeadlineExtended"):
        kept = {"step": a["step"], "due": a["due"].isoformat()}
        return {**kept, "until": a["until"].isoformat()} if "until" in a else kept
    return {}


def summarise(event: Any, municipality: str) -> Json:
    """The summary of one decoded case event of a case in ``municipality``."""
    return summarise_state(
        type(event).__name__,
        str(event.originator_id),
        event.originator_version,
        vars(event),
        municipality,
    )


def summarise_state(
    name: str, case: str, version: int, attributes: Mapping[str, Any], municipality: str
) -> Json:
    """The summary of the case event called ``name`` (its class's name), version ``version``
    of ``case``, from its decoded attributes: what ``summarise`` gives for the event object."""
    actor = attributes["actor"]
    return {
        "format": FORMAT,
        "case": case,
        "version": version,
        "type": name,
        "municipality": municipality,
        "at": attributes["occurred_at"].isoformat(),
        "actor": {"organisation": actor["organisation"], "role": actor["role"]},
        **_specific(name, attributes),
    }
