"""A signal as received, read into its envelope and data, or refused with the first class of
error found (the same codes and reasons over NATS and HTTP)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ks_engine.signal_contract.dates import due_dates, past_dates
from ks_engine.signal_contract.envelope import (
    SignalEvent,
    check_envelope,
    check_municipality,
    field_errors,
    read_envelope,
)
from ks_engine.signal_contract.models import SIGNAL_TYPE, SIGNAL_TYPE_PREFIX, SignalData
from ks_engine.signal_rejection import Rejection, RejectionCode
from ks_engine.signal_rules import SignalRules, check_dates, check_references


@dataclass(frozen=True)
class ParsedSignal:
    """A valid signal, split into the envelope, the data and who sent it."""

    event: SignalEvent
    data: SignalData


def parse_signal(raw: bytes, subject: str | None = None, *, rules: SignalRules) -> ParsedSignal:
    """Validate a signal as received; raise Rejection with the first class of error found.

    ``subject``: the NATS subject it was published on (None over HTTP); ``rules``: what this
    Knooppunt takes (its municipalities, today's date).
    """
    doc, event = read_envelope(raw)
    return signal_from(doc, event, subject, rules=rules)


def signal_from(
    doc: dict[str, Any], event: SignalEvent, subject: str | None, *, rules: SignalRules
) -> ParsedSignal:
    """The signal in an envelope read by :func:`read_envelope` (see :func:`parse_signal`)."""
    if event.type != SIGNAL_TYPE:
        if event.type.startswith(SIGNAL_TYPE_PREFIX):
            raise Rejection(
                RejectionCode.UNSUPPORTED_VERSION,
                f"signal type version '{event.type[:80]}' is not supported; use '{SIGNAL_TYPE}'",
            )
        takes = f"'{SIGNAL_TYPE}'"
        if subject is not None:  # on NATS the intake also takes a provider's confirmation
            takes += " or 'nl.kansrijkestart.support-started.v1'"
        raise Rejection(
            RejectionCode.UNKNOWN_TYPE,
            f"unknown event type '{event.type[:80]}'; ks-engine takes {takes}",
        )
    if event.datacontenttype not in (None, "application/json"):
        raise Rejection(RejectionCode.NOT_CLOUDEVENT, "datacontenttype must be 'application/json'")
    check_references(doc)
    check_envelope(doc, event)
    data = _parse_data(event.data)
    check_municipality(subject, data.municipality, rules)
    check_dates(not_future=past_dates(data), due=due_dates(data), rules=rules)
    return ParsedSignal(event=event, data=data)


def _parse_data(data: Any) -> SignalData:
    if not isinstance(data, dict):
        raise Rejection(RejectionCode.SCHEMA_VIOLATION, "data must be a JSON object")
    try:
        return SignalData.model_validate(data)
    except ValidationError as exc:
        errors = field_errors(exc)
        detail = "; ".join(f"{p}: {m}" for p, m, _ in errors)
        fields = tuple((p, m) for p, m, _ in errors)
        if any(p.endswith(".bsn") for p, _ in fields):
            raise Rejection(RejectionCode.INVALID_BSN, detail, fields) from None
        if any("needs its date" in m for _, m in fields):
            raise Rejection(RejectionCode.PHASE_DATE_MISSING, detail, fields) from None
        raise Rejection(RejectionCode.SCHEMA_VIOLATION, detail, fields) from None
