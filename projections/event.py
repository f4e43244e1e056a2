"""A Referral event as published on ``KS_EVENTS``: the message, its subject, its id.

The relay builds each message with :func:`envelope` from the stored event's attributes and the
published fields of ``projections.event_data`` (re-exported here: codes and dates
only, no pseudonym). The projections read messages back with :func:`parse_event`.

A message is a structured-mode CloudEvent 1.0 (JSON) with these extension attributes:
``municipality``, ``caseversion`` (the case's version after the event), ``position`` (the
event's place in the engine's notification log) and ``through`` (the log position up to which
no later Referral event exists: what a reader has seen once it applied this event).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, TypedDict, Unpack
from uuid import UUID

import orjson
from pydantic import ValidationError

from domain.uuid_text import uuid5_text
from projections.errors import InvalidEventError
from projections.event_data import (
    CORRECTED_FIELDS as CORRECTED_FIELDS,
)
from projections.event_data import (
    DATA_MODELS as DATA_MODELS,
)
from projections.event_data import (
    STATE_AFTER as STATE_AFTER,
)
from projections.event_data import (
    ActorRef as ActorRef,
)
from projections.event_data import (
    Assigned as Assigned,
)
from projections.event_data import (
    CasesMerged as CasesMerged,
)
from projections.event_data import (
    CaseTransferred as CaseTransferred,
)
from projections.event_data import (
    ChildBorn as ChildBorn,
)
from projections.event_data import (
    Closed as Closed,
)
from projections.event_data import (
    ConsentDeclined as ConsentDeclined,
)
from projections.event_data import (
    ConsentGiven as ConsentGiven,
)
from projections.event_data import (
    ConsentRecordRef as ConsentRecordRef,
)
from projections.event_data import (
    ConsentRequested as ConsentRequested,
)
from projections.event_data import (
    ConsentWithdrawn as ConsentWithdrawn,
)
from projections.event_data import (
    DeadlineExtended as DeadlineExtended,
)
from projections.event_data import (
    DeadlineResumed as DeadlineResumed,
)
from projections.event_data import (
    DeadlineSuspended as DeadlineSuspended,
)
from projections.event_data import (
    Discussed as Discussed,
)
from projections.event_data import (
    Escalated as Escalated,
)
from projections.event_data import (
    Evaluated as Evaluated,
)
from projections.event_data import (
    EventData as EventData,
)
from projections.event_data import (
    MemberRef as MemberRef,
)
from projections.event_data import (
    OfferRef as OfferRef,
)
from projections.event_data import (
    PersonalDataErased as PersonalDataErased,
)
from projections.event_data import (
    PersonalDetailsCorrected as PersonalDetailsCorrected,
)
from projections.event_data import (
    Public as Public,
)
from projections.event_data import (
    ReferralConsentRef as ReferralConsentRef,
)
from projections.event_data import (
    Reopened as Reopened,
)
from projections.event_data import (
    ReporterRef as ReporterRef,
)
from projections.event_data import (
    Restricted as Restricted,
)
from projections.event_data import (
    RestrictionLifted as RestrictionLifted,
)
from projections.event_data import (
    SignalAdded as SignalAdded,
)
from projections.event_data import (
    SignalData as SignalData,
)
from projections.event_data import (
    Signalled as Signalled,
)
from projections.event_data import (
    SignalRetracted as SignalRetracted,
)
from projections.event_data import (
    SupportMatched as SupportMatched,
)
from projections.event_data import (
    SupportStarted as SupportStarted,
)
from projections.event_data import (
    TransferConsentRef as TransferConsentRef,
)
from projections.event_data import (
    TransferRefused as TransferRefused,
)
from projections.event_data import (
    TransferRequested as TransferRequested,
)
from projections.event_data import (
    public_data as public_data,
)
from projections.published_json import published_json as published_json

STREAM = "KS_EVENTS"
SUBJECT_PREFIX = "ks.events"
SOURCE = "urn:ks-engine"
TYPE_PREFIX = "nl.kansrijkestart.referral."
TYPE_VERSION = "v1"
# Referral events are published on ks.events.<municipality>.<Name>; the audit trail's signed
# checkpoints on ks.events.checkpoints (one token fewer, so REFERRAL_SUBJECTS leaves them out).
REFERRAL_SUBJECTS = f"{SUBJECT_PREFIX}.*.*"
CHECKPOINT_SUBJECT = f"{SUBJECT_PREFIX}.checkpoints"
_ID_NAMESPACE = UUID("5a0c6a3e-3f1d-4a8e-9b0e-6c2d7e1f4b90")
_ID_NAMESPACE_BYTES = _ID_NAMESPACE.bytes


def event_id(case_id: UUID | str, version: int) -> str:
    """The event's unique id: the same for every re-publication of the same event,
    ``str(uuid5(_ID_NAMESPACE, f"{case_id}:{version}"))``."""
    return uuid5_text(_ID_NAMESPACE_BYTES, f"{case_id}:{version}")


def subject_for(municipality: str, name: str) -> str:
    return f"{SUBJECT_PREFIX}.{municipality}.{name}"


def type_for(name: str) -> str:
    return f"{TYPE_PREFIX}{name}.{TYPE_VERSION}"


class HeadFields(TypedDict):
    """The CloudEvent's attributes of one published Referral event (keyword arguments)."""

    name: str
    case_id: UUID | str
    municipality: str
    version: int
    position: int
    through: int


class EnvelopeFields(HeadFields):
    """What the CloudEvent of one published Referral event is made from (keyword arguments)."""

    data: EventData


def envelope(**fields: Unpack[EnvelopeFields]) -> dict[str, Any]:
    """The CloudEvent 1.0 (structured mode) of one published Referral event."""
    data = fields["data"]
    return _head(fields, data.occurred_at) | {"data": data.model_dump(mode="json")}


def envelope_json(
    data_json: bytes, at: datetime, **fields: Unpack[HeadFields]
) -> tuple[bytes, str]:
    """``orjson.dumps(envelope(...))`` and the event's id, from the JSON of its data and its
    ``occurred_at`` as ``published_json`` writes them (the same text, without the ``data``
    dict; see tests/unit/test_envelope_json): what the relay publishes of a stored event."""
    return _with_data(_head(fields, at), data_json)


def _with_data(head: dict[str, Any], data_json: bytes) -> tuple[bytes, str]:
    return orjson.dumps(head)[:-1] + b',"data":' + data_json + b"}", head["id"]


def _head(fields: HeadFields | EnvelopeFields, at: datetime) -> dict[str, Any]:
    case_id, version, position = fields["case_id"], fields["version"], fields["position"]
    return {
        "specversion": "1.0",
        "type": type_for(fields["name"]),
        "source": SOURCE,
        "subject": str(case_id),
        "id": event_id(case_id, version),
        "time": at.isoformat(),
        "datacontenttype": "application/json",
        "municipality": fields["municipality"],
        "caseversion": version,
        "position": position,
        "through": max(fields["through"], position),
    }


@dataclass(frozen=True)
class OtherMessage:
    """A message of KS_EVENTS that no read model applies (an audit checkpoint): a projection
    only moves its checkpoint past it."""

    seq: int


@dataclass(frozen=True)
class ReferralEvent:
    """One Referral event as a projection reads it from the stream."""

    seq: int
    id: str
    name: str
    case_id: str
    municipality: str
    version: int
    position: int
    through: int
    data: EventData

    @property
    def at(self) -> datetime:
        return self.data.occurred_at

    @cached_property
    def body(self) -> dict[str, Any]:
        """The published fields as plain JSON values, what the views fold (shared by every
        view that applies the event: read, never changed)."""
        return self.data.model_dump(mode="json")


def parse_event(raw: bytes, seq: int) -> ReferralEvent:
    """Read one message of ``KS_EVENTS``; InvalidEventError when it is not one of ours."""
    try:
        ce = orjson.loads(raw)
        kind: str = ce["type"]
        if ce.get("specversion") != "1.0" or not kind.startswith(TYPE_PREFIX):
            raise InvalidEventError(f"stream message {seq} is not a Referral CloudEvent")
        name, _, version = kind.removeprefix(TYPE_PREFIX).rpartition(".")
        model = DATA_MODELS.get(name)
        if model is None or version != TYPE_VERSION:
            raise InvalidEventError(
                f"stream message {seq} has event type {kind!r}, which this engine cannot read"
            )
        return ReferralEvent(
            seq=seq,
            id=str(ce["id"]),
            name=name,
            case_id=str(ce["subject"]),
            municipality=str(ce["municipality"]),
            version=int(ce["caseversion"]),
            position=int(ce["position"]),
            through=int(ce.get("through", ce["position"])),
            data=model.model_validate(ce["data"]),
        )
    except (ValueError, KeyError, TypeError, ValidationError) as e:
        raise InvalidEventError(f"stream message {seq} is not a readable Referral event") from e


def read_message(subject: str, raw: bytes, seq: int) -> ReferralEvent | OtherMessage:
    """A message of KS_EVENTS as a projection sees it: a Referral event, or one to pass by."""
    if subject == CHECKPOINT_SUBJECT:
        return OtherMessage(seq)
    return parse_event(raw, seq)
