"""What the Referral's events record of their inputs: a signal's codes and dates (never a
direct identifier), the household it names, the sealed details tagged with the signal they
came with, and who acted, when and why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.values import Actor, ActorRole, Signal

Json = dict[str, Any]


def signal_record(signal: Signal, actor: Actor) -> Json:
    """What a case keeps of one signal: codes and dates, no direct identifiers; ``source``: the
    partner system that sent it (feedback goes there)."""
    source = {"source": actor.organisation} if actor.role is ActorRole.PARTNER else {}
    return {
        "signal_key": signal.signal_key,
        **source,
        "person": signal.person_pseudonym,  # whom it is about: retraction unlinks them
        "reporter": signal.reporter.model_dump(mode="json"),
        "phase": signal.phase.phase.value,
        "phase_date": signal.phase.date,
        "risk_factors": [r.value for r in signal.risk_factors],
        "urgency": signal.urgency.value,
        **household_record(signal),
    }


def household_record(signal: Signal) -> Json:
    """The household a signal names (pseudonyms and due dates) and the family's agreement to
    the referral; left out when the signal names neither (as version-1 signals did)."""
    out: Json = {}
    if signal.household:
        out["household"] = [
            {"role": m.role.value, "pseudonym": m.pseudonym, "due_date": m.due_date}
            for m in signal.household
        ]
    if signal.referral_consent is not None:
        out["referral_consent"] = {
            "given_by": signal.referral_consent.given_by.value,
            "given_on": signal.referral_consent.given_on,
        }
    return out


def tagged(sealed: Json | None, signal: Signal) -> Json:
    """Sealed details with the key of the signal they came with (a retraction leaves them out)."""
    return dict(sealed, signal_key=signal.signal_key) if sealed else {}


def cause(actor: Actor, at: datetime, causation_id: str) -> Json:
    """The attributes every event carries: who, when, and what caused it."""
    return {"actor": actor.model_dump(mode="json"), "occurred_at": at, "causation_id": causation_id}
