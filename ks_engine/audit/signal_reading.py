"""The attributes a signal's summary reads, parsed from its stored JSON by msgspec.

Most case events are signals (``Signalled``, ``SignalAdded``), and their documents are mostly
what a summary does not read: the sealed pseudonym and personal details. A decoder typed with
the few fields the summary reads (``summary._signal``, the actor, the time, the municipality
and whether personal details are there) skips the rest without building a value of it. It
gives each field only where the JSON holds exactly the type the view of the whole document
(``decoding.Decoded``) would give it as, and the time as the registered transcoding decodes
it; for anything else (another type, a transcoded object where a plain one was written, an
unknown transcoding) it gives None and the view reads the event as before.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec
from eventsourcing.persistence import DatetimeAsISO

from ks_engine.audit.summary import SIGNAL_EVENTS as SIGNAL_EVENTS

DATETIME = DatetimeAsISO.name  # eventsourcing's transcoding of a datetime: its isoformat text


class _Transcoded(msgspec.Struct, forbid_unknown_fields=True):
    """``{"_type_": name, "_data_": text}``: a transcoded value, nothing else."""

    type: str = msgspec.field(name="_type_")
    data: str = msgspec.field(name="_data_")


class _Named(msgspec.Struct):
    organisation: str
    role: str


class _Signal(msgspec.Struct):
    reporter: _Named
    phase: str
    risk_factors: list[str]
    urgency: str


class _SignalEvent(msgspec.Struct):
    actor: _Named
    occurred_at: _Transcoded
    signal: _Signal
    municipality: str | msgspec.UnsetType = msgspec.UNSET
    personal: dict[str, msgspec.Raw] | None = None


_decode = msgspec.json.Decoder(_SignalEvent).decode


def signal_attributes(
    state: bytes, decode_datetime: Callable[[str], datetime]
) -> dict[str, Any] | None:
    """What the summary reads of a signal event's stored JSON ``state`` (its time decoded by
    ``decode_datetime``); None where the view of the whole document has to read it."""
    try:
        event = _decode(state)
    except msgspec.DecodeError:  # ValidationError too
        return None
    if event.occurred_at.type != DATETIME:
        return None
    personal = event.personal
    if personal is not None and len(personal) == 2 and {"_type_", "_data_"} <= personal.keys():
        return None  # a transcoded value: the view decodes it
    signal, reporter, actor = event.signal, event.signal.reporter, event.actor
    attributes: dict[str, Any] = {
        "actor": {"organisation": actor.organisation, "role": actor.role},
        "occurred_at": decode_datetime(event.occurred_at.data),
        "signal": {
            "reporter": {"organisation": reporter.organisation, "role": reporter.role},
            "phase": signal.phase,
            "risk_factors": signal.risk_factors,
            "urgency": signal.urgency,
        },
        "personal": bool(personal),
    }
    if event.municipality is not msgspec.UNSET:
        attributes["municipality"] = event.municipality
    return attributes
