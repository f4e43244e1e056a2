"""Feedback on the wire: ``nl.kansrijkestart.feedback.v1`` on ``ks.feedback.<mun>.<partner>``.

A structured-mode CloudEvent 1.0 per step a partner may hear of (``domain.feedback``), with
codes, dates and the partner's own references only: no pseudonym, no name, no free text. Its
id is the same for every publication of the same feedback, so a stream's duplicate window
and the relay's resumption keep it to one message. Extension attributes ``position`` and
``part`` (the event's log position and the feedback's place among that event's messages) say
how far feedback was published.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.feedback import Feedback, FeedbackStatus
from domain.uuid_text import uuid5_text

FEEDBACK_TYPE = "nl.kansrijkestart.feedback.v1"
FEEDBACK_STREAM = "KS_FEEDBACK"
FEEDBACK_SUBJECT_PREFIX = "ks.feedback"
SOURCE = "urn:ks-engine"
_ID_NAMESPACE = UUID("c3b4e1f2-7a9d-4c55-8e21-5f0a9b6d2e13")
_ID_NAMESPACE_BYTES = _ID_NAMESPACE.bytes


class SignalRefOut(BaseModel):
    """One of the partner's own signals on the case."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(description="The CloudEvent id the partner gave the signal.")
    reference: str = Field(description="The receipt's reference: UUIDv5 of `<source>#<id>`.")


class FeedbackData(BaseModel):
    """The ``data`` of a feedback message (nl.kansrijkestart.feedback.v1)."""

    model_config = ConfigDict(frozen=True, extra="forbid", title="KansrijkeStartFeedbackV1")
    case_id: UUID
    municipality: str = Field(description="CBS code of the case.")
    status: FeedbackStatus = Field(description="The step the case reached.")
    on: date = Field(description="The day the step was recorded.")
    signals: list[SignalRefOut] = Field(
        description="The partner's own signals on the case (accepted: the one accepted)."
    )
    case: Literal["new", "joined"] | None = Field(
        default=None, description="accepted only: the signal opened a case or joined one."
    )
    result: str | None = Field(
        default=None, description="closed only: the result code (e.g. support_completed)."
    )


def feedback_subject(municipality: str, partner: str) -> str:
    """``ks.feedback.<municipality>.<partner>``: a partner's NATS user reads only its own."""
    return f"{FEEDBACK_SUBJECT_PREFIX}.{municipality}.{partner}"


def feedback_id(event_id: str, source: str) -> str:
    """The feedback's id: one per stored event and partner, the same on every publication."""
    return uuid5_text(_ID_NAMESPACE_BYTES, f"{event_id}:{source}")


def feedback_data_json(
    feedback: Feedback, case_id: UUID | str, municipality: str
) -> dict[str, Any]:
    """The ``data`` of a feedback message: the JSON of its ``FeedbackData`` (without the
    fields that are None), written out: the relay makes one for every step a partner hears of
    (a property test holds it equal to the model's)."""
    out: dict[str, Any] = {
        "case_id": str(case_id if type(case_id) is UUID else UUID(str(case_id))),
        "municipality": municipality,
        "status": feedback.status.value,
        "on": feedback.on.isoformat(),
        "signals": [{"id": s.id, "reference": s.reference} for s in feedback.signals],
    }
    joined = feedback.joined
    if joined is not None:
        out["case"] = "joined" if joined else "new"
    if feedback.result is not None:
        out["result"] = feedback.result
    return out


def feedback_envelope(
    *,
    data: dict[str, Any],
    msg_id: str,
    time: datetime,
    position: int,
    part: int,
) -> dict[str, Any]:
    """The CloudEvent 1.0 (structured mode) of one feedback message, its ``data`` as
    ``feedback_data_json`` writes it."""
    return {
        "specversion": "1.0",
        "type": FEEDBACK_TYPE,
        "source": SOURCE,
        "subject": data["case_id"],
        "id": msg_id,
        "time": time.isoformat(),
        "datacontenttype": "application/json",
        "position": position,
        "part": part,
        "data": data,
    }


class SignalFeedback(BaseModel):
    """One of a partner's signals with the latest feedback on its case (``GET /signals``)."""

    model_config = ConfigDict(frozen=True)
    reference: str = Field(description="The receipt's reference: UUIDv5 of `<source>#<id>`.")
    signal_id: str = Field(description="The CloudEvent id the partner gave the signal.")
    case_id: UUID
    municipality: str
    status: FeedbackStatus = Field(description="The latest step the partner may hear of.")
    on: date = Field(description="The day of that step.")
    case: Literal["new", "joined"] | None = Field(
        default=None, description="Whether the signal opened a case or joined one."
    )
    result: str | None = Field(default=None, description="closed: the result code.")


def current_feedback(messages: Iterable[FeedbackData]) -> list[SignalFeedback]:
    """Each signal the messages name, with the latest of them (in stream order), in the order
    the signals were first named; a signal carried into another case by a merge follows it."""
    latest: dict[str, SignalFeedback] = {}
    for m in messages:
        for s in m.signals:
            before = latest.get(s.reference)
            latest[s.reference] = SignalFeedback(
                reference=s.reference,
                signal_id=s.id,
                case_id=m.case_id,
                municipality=m.municipality,
                status=m.status,
                on=m.on,
                case=m.case or (before.case if before else None),
                result=m.result,
            )
    return list(latest.values())
