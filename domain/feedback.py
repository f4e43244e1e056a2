"""Feedback to the partner who signalled (*terugkoppeling aan de melder*): which steps of a
case a partner hears of, as far as the family's consent allows.

Like the Verwijsindex tells professionals about a match, a partner learns what became of its
signal, without personal data: accepted (a new case or one it joined), and the family's answer
to the consent request (given or declined, only that), always; consent asked again, the
discussion, support started and the closing (its result code) only while the family's active
consent names the partner. Pure rules: the relay applies them to each stored event with the
case as it stood before that event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from domain import guards
from domain.signal_record import signal_reference

Json = dict[str, Any]


class FeedbackStatus(StrEnum):
    """The steps a partner hears of."""

    ACCEPTED = "accepted"
    CONSENT_ASKED = "consent_asked"
    CONSENT_GIVEN = "consent_given"
    CONSENT_DECLINED = "consent_declined"
    DISCUSSED = "discussed"
    SUPPORT_STARTED = "support_started"
    CLOSED = "closed"


# Every partner that signalled hears these (before consent: accepted and the consent outcome).
ALWAYS: dict[str, FeedbackStatus] = {
    "ConsentGiven": FeedbackStatus.CONSENT_GIVEN,
    "ConsentDeclined": FeedbackStatus.CONSENT_DECLINED,
}
# Only partners the family's active consent names hear these.
WITHIN_CONSENT: dict[str, FeedbackStatus] = {
    "ConsentRequested": FeedbackStatus.CONSENT_ASKED,
    "Discussed": FeedbackStatus.DISCUSSED,
    "SupportStarted": FeedbackStatus.SUPPORT_STARTED,
    "Closed": FeedbackStatus.CLOSED,
}
ACCEPTING = ("Signalled", "SignalAdded")


class CaseBefore(Protocol):
    """What the rules read of the case as it stood before the event."""

    @property
    def consent(self) -> Json | None: ...

    @property
    def signals(self) -> list[Json]: ...


@dataclass(frozen=True)
class SignalRef:
    """One of the partner's own signals: its CloudEvent id and the receipt's reference."""

    id: str
    reference: str


@dataclass(frozen=True)
class Feedback:
    """One message to one partner (its CloudEvents ``source``) about one step of one case."""

    source: str
    status: FeedbackStatus
    on: date
    signals: tuple[SignalRef, ...]
    joined: bool | None = None  # accepted: the signal joined an open case (False: a new case)
    result: str | None = None  # closed: the result code (ZGW *resultaat*)


def own_signal(record: Mapping[str, Any]) -> tuple[str, SignalRef] | None:
    """The source and reference of a case's signal record, or None when no partner sent it
    (a follow-up case's first record is the coordinator's copy, without a source).

    Records name their ``source`` since feedback exists; for older ones it is read from the
    key (``source#id``), up to its first ``#``. The id is the key after ``source#``.
    """
    key = str(record["signal_key"])
    source = record.get("source")
    if source is None:
        source, hash_, _ = key.partition("#")
        if not hash_:
            return None
    own_id = key.removeprefix(f"{source}#")
    return str(source), SignalRef(id=own_id, reference=signal_reference(key))


def signallers(signals: Sequence[Mapping[str, Any]]) -> dict[str, tuple[SignalRef, ...]]:
    """Each partner that signalled the case, with its own signals, in the order they came."""
    found: dict[str, list[SignalRef]] = {}
    for record in signals:
        own = own_signal(record)
        if own is not None:
            found.setdefault(own[0], []).append(own[1])
    return {source: tuple(refs) for source, refs in found.items()}


def feedback_for(
    name: str, attributes: Mapping[str, Any], before: CaseBefore | None
) -> list[Feedback]:
    """The feedback the stored event ``name`` gives, to each partner its consent allows.

    ``before`` is the case before the event (None for the event that opened it).
    """
    at: datetime = attributes["occurred_at"]
    on = at.date()
    if name in ACCEPTING:
        return _accepted(name, attributes, on)
    if before is None:
        return []
    partners = signallers(before.signals)
    if name in ALWAYS:
        return [Feedback(s, ALWAYS[name], on, refs) for s, refs in partners.items()]
    if name not in WITHIN_CONSENT:
        return []
    consent = before.consent
    if not guards.consent_is_active(consent, on):
        return []
    assert consent is not None
    result = str(attributes["outcome"]) if name == "Closed" else None
    return [
        Feedback(source, WITHIN_CONSENT[name], on, refs, result=result)
        for source, refs in partners.items()
        if source in consent["scope"]
    ]


def _accepted(name: str, attributes: Mapping[str, Any], on: date) -> list[Feedback]:
    """The partner whose signal opened or joined the case hears that it was accepted."""
    actor = attributes["actor"]
    if actor.get("role") != "partner":
        return []  # a follow-up case opened by a coordinator: no partner's signal
    record = dict(attributes["signal"], source=actor["organisation"])
    own = own_signal(record)
    if own is None:
        return []
    source, ref = own
    return [Feedback(source, FeedbackStatus.ACCEPTED, on, (ref,), joined=name == "SignalAdded")]
