"""A provider's confirmation that support started, as a CloudEvent on NATS (like a signal).

``nl.kansrijkestart.support-started.v1`` on ``ks.signals.<municipality>``: the intake reads it
with the same envelope checks as a signal (``ks_engine.signal_contract``) and refuses it with
the same error codes and reasons. Whether the sender may confirm it (the family's consent must
name it) is the case's decision, made when the confirmation is applied.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.values import MunicipalityCode
from ks_engine.signal_contract import (
    SignalEvent,
    check_envelope,
    check_municipality,
    field_errors,
)
from ks_engine.signal_rejection import Rejection, RejectionCode
from ks_engine.signal_rules import SignalRules, check_dates, check_references
from projections import cloudevent as cloudevents

SUPPORT_STARTED_TYPE = "nl.kansrijkestart.support-started.v1"
SUPPORT_STARTED_PREFIX = "nl.kansrijkestart.support-started."


class SupportStartedData(BaseModel):
    """The ``data`` of a confirmation (nl.kansrijkestart.support-started.v1)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="KansrijkeStartSupportStartedV1")
    case_id: UUID = Field(description="The case, as the signal's receipt or feedback named it.")
    municipality: MunicipalityCode = Field(description="CBS code of the case, e.g. GM0928.")
    on: dt.date = Field(description="The first day of the support (not in the future).")
    lead_professional: str = Field(
        min_length=1, max_length=200, description="Who leads the support at the provider."
    )


@dataclass(frozen=True)
class ParsedSupportStart:
    """A valid confirmation: the envelope and its data."""

    event: SignalEvent
    data: SupportStartedData


def is_support_started(event_type: str) -> bool:
    """Whether an envelope's type is (any version of) the support-started confirmation."""
    return event_type.startswith(SUPPORT_STARTED_PREFIX)


def support_started_from(
    doc: dict[str, Any], event: SignalEvent, subject: str | None, *, rules: SignalRules
) -> ParsedSupportStart:
    """The confirmation in an envelope read by ``read_envelope``; Rejection when it is wrong."""
    if event.type != SUPPORT_STARTED_TYPE:
        raise Rejection(
            RejectionCode.UNSUPPORTED_VERSION,
            f"support-started type version '{event.type[:80]}' is not supported; use "
            f"'{SUPPORT_STARTED_TYPE}'",
        )
    if event.datacontenttype not in (None, "application/json"):
        raise Rejection(RejectionCode.NOT_CLOUDEVENT, "datacontenttype must be 'application/json'")
    check_references(doc)
    check_envelope(doc, event)
    if not isinstance(event.data, dict):
        raise Rejection(RejectionCode.SCHEMA_VIOLATION, "data must be a JSON object")
    try:
        data = SupportStartedData.model_validate(event.data)
    except ValidationError as exc:
        errors = field_errors(exc)
        detail = "; ".join(f"{p}: {m}" for p, m, _ in errors)
        fields = tuple((p, m) for p, m, _ in errors)
        raise Rejection(RejectionCode.SCHEMA_VIOLATION, detail, fields) from None
    check_municipality(subject, data.municipality, rules)
    check_dates(
        not_future=[("data.on", data.on, "the first day of the support")], due=[], rules=rules
    )
    return ParsedSupportStart(event=event, data=data)


def data_json_schema() -> dict[str, Any]:
    """JSON Schema of ``data``, generated from the pydantic model."""
    schema = SupportStartedData.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://kansrijkestart.nl/schemas/support-started-data.v1.json"
    return schema


def example_support_started(
    case_id: UUID | str,
    *,
    municipality: str = "GM0928",
    source: str = "https://schuldhulp-parkstad.nl",
    event_id: str = "start-2026-0042",
    on: dt.date | None = None,
) -> dict[str, Any]:
    """A complete, valid confirmation as a provider publishes it (JSON-ready)."""
    data = {
        "case_id": str(case_id),
        "municipality": municipality,
        "on": (on or dt.date(2026, 11, 30)).isoformat(),
        "lead_professional": "J. de Vries, schuldhulpverlener",
    }
    time = dt.datetime.fromisoformat("2026-12-01T09:30:00+01:00")
    return cloudevents.structured(SUPPORT_STARTED_TYPE, source, event_id, time, data)
