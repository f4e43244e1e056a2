"""The CloudEvents 1.0 envelope of a message on the intake, and the subject it came on.

Shared by signals and providers' confirmations (``ks_engine.support_start_contract``), so both
are refused with the same error codes and reasons. Reasons name the field and what was wrong;
they never repeat the value (which may be a BSN).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ks_engine.signal_rejection import Rejection, RejectionCode, load_json
from ks_engine.signal_rules import SignalRules, check_served
from projections import cloudevent as cloudevents

SIGNAL_SUBJECT_PREFIX = "ks.signals."


class SignalEvent(BaseModel):
    """The CloudEvents 1.0 envelope; extension attributes are allowed and ignored."""

    model_config = ConfigDict(extra="allow")
    specversion: str
    type: str
    source: str = Field(min_length=1, max_length=300)
    id: str = Field(min_length=1, max_length=200)
    time: dt.datetime | None = None
    datacontenttype: str | None = None
    data: Any = None

    @property
    def signal_key(self) -> str:
        """Unique per partner: source and id (also the expected Nats-Msg-Id)."""
        return f"{self.source}#{self.id}"


def field_errors(exc: ValidationError, prefix: str = "data") -> list[tuple[str, str, str]]:
    """(path, message, pydantic type) per error, without the offending value."""
    out = []
    for err in exc.errors(include_input=False, include_url=False):
        path = ".".join(str(p) for p in (prefix, *err["loc"]))
        msg = str(err["msg"]).removeprefix("Value error, ")
        out.append((path, msg, str(err["type"])))
    return out


def read_envelope(raw: bytes) -> tuple[dict[str, Any], SignalEvent]:
    """The JSON object and its CloudEvents 1.0 envelope; Rejection when it is neither."""
    doc = load_json(raw)
    if not isinstance(doc, dict):
        raise Rejection(RejectionCode.NOT_CLOUDEVENT, "the message must be a JSON object")
    missing = [a for a in ("specversion", "type", "source", "id") if a not in doc]
    if missing:
        raise Rejection(
            RejectionCode.NOT_CLOUDEVENT,
            f"not a CloudEvent: missing required attribute(s) {', '.join(missing)}",
        )
    try:
        event = SignalEvent.model_validate(doc)
    except ValidationError as exc:
        errors = [(p.removeprefix("data."), m) for p, m, _ in field_errors(exc)]
        detail = "; ".join(f"{p}: {m}" for p, m in errors)
        raise Rejection(
            RejectionCode.NOT_CLOUDEVENT, f"not a valid CloudEvent: {detail}", tuple(errors)
        ) from None
    if event.specversion != "1.0":
        raise Rejection(
            RejectionCode.NOT_CLOUDEVENT,
            f"specversion must be '1.0' (CloudEvents 1.0), got '{event.specversion[:20]}'",
        )
    return doc, event


def check_envelope(doc: dict[str, Any], event: SignalEvent) -> None:
    """What CloudEvents 1.0 itself asks of the envelope, checked by the CloudEvents SDK (a time
    with its UTC offset, extension attribute names, ...), after ks-engine's own checks."""
    attributes = {k: v for k, v in doc.items() if k not in cloudevents.PAYLOAD}
    if event.time is not None:
        attributes["time"] = event.time
    try:
        cloudevents.build(attributes)
    except cloudevents.EnvelopeError as exc:
        raise Rejection(
            RejectionCode.NOT_CLOUDEVENT, f"not a valid CloudEvent: {exc}", exc.problems
        ) from None


def check_municipality(subject: str | None, municipality: str, rules: SignalRules) -> None:
    """Refuse a message published to another municipality's subject than its data names, or
    for a municipality this Knooppunt does not serve."""
    if subject is not None:
        subject_code = subject.removeprefix(SIGNAL_SUBJECT_PREFIX)
        if subject_code != municipality:
            raise Rejection(
                RejectionCode.MUNICIPALITY_MISMATCH,
                f"published to municipality '{subject_code[:20]}' but data.municipality is "
                f"'{municipality}'; publish to ks.signals.{municipality}",
            )
    check_served(municipality, rules)
