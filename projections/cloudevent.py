"""CloudEvents 1.0 in structured JSON, built, written and read with the CloudEvents SDK.

The SDK (``cloudevents``) checks what CloudEvents 1.0 asks of an envelope: the required
attributes and their types, ``specversion`` 1.0, a ``time`` that carries its UTC offset, and
extension attribute names of lower-case letters and digits. :class:`EnvelopeError` says what it
found in words, per attribute, without repeating a value. ks-engine's own contracts (signals,
published Referral events) add their checks around it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from cloudevents.core.exceptions import (
    BaseCloudEventException,
    CloudEventValidationError,
    CustomExtensionAttributeError,
    InvalidAttributeTypeError,
    MissingRequiredAttributeError,
)
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import OPTIONAL_ATTRIBUTES, REQUIRED_ATTRIBUTES, CloudEvent

__all__ = ["CloudEvent", "EnvelopeError", "build", "read", "structured", "write"]

_FORMAT = JSONFormat()
# ``data`` and ``data_base64`` are the payload of a structured-mode event, not attributes.
PAYLOAD = ("data", "data_base64")
_CONTEXT = frozenset(REQUIRED_ATTRIBUTES) | frozenset(OPTIONAL_ATTRIBUTES)
# An extension attribute's name, whole: the SDK's own check ends in ``$``, which also lets
# a name through that ends in a line break ("0\n").
_EXTENSION_NAME = re.compile(r"[a-z0-9]+").fullmatch
_NAME_RULE = "extension attribute names hold only lower-case letters a-z and digits 0-9"


class EnvelopeError(ValueError):
    """A CloudEvent envelope breaks a CloudEvents 1.0 rule; ``problems`` names each attribute."""

    def __init__(self, problems: tuple[tuple[str, str], ...]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{attribute}: {message}" for attribute, message in problems))


def _in_words(attribute: str, error: BaseCloudEventException) -> str:
    """The SDK's finding about one attribute, as a partner reads it."""
    if isinstance(error, MissingRequiredAttributeError):
        return "is required"
    if isinstance(error, CustomExtensionAttributeError):
        if attribute in PAYLOAD:
            return "is the event's payload, not an attribute"
        return _NAME_RULE
    if attribute == "time":
        return "must be a timestamp with its UTC offset (RFC 3339, e.g. 2026-11-23T10:15:00+01:00)"
    if attribute == "specversion":
        return "must be '1.0' (CloudEvents 1.0)"
    if isinstance(error, InvalidAttributeTypeError):
        return "must be a string"
    return "must not be empty"


def _problems(
    exc: CloudEventValidationError | None, names: Iterable[str]
) -> tuple[tuple[str, str], ...]:
    """The SDK's findings (if it had any) and every extension attribute name it let through
    that breaks the rule, each attribute once."""
    found = {
        attribute: _in_words(attribute, errors[0])
        for attribute, errors in (exc.errors.items() if exc is not None else ())
        if errors
    }
    for name in names:
        if name not in _CONTEXT and name not in PAYLOAD and not _EXTENSION_NAME(name):
            found.setdefault(name, _NAME_RULE)
    return tuple((attribute[:40], words) for attribute, words in sorted(found.items()))


def build(attributes: Mapping[str, Any], data: Any = None) -> CloudEvent:
    """A CloudEvents 1.0 event checked by the SDK; EnvelopeError naming what is wrong."""
    try:
        event = CloudEvent(dict(attributes), data)
    except CloudEventValidationError as exc:
        raise EnvelopeError(_problems(exc, attributes)) from None
    _check_names(event)
    return event


def _check_names(event: CloudEvent) -> None:
    if problems := _problems(None, event.get_attributes()):
        raise EnvelopeError(problems)


def structured(
    event_type: str, source: str, event_id: str, time: datetime, data: dict[str, Any]
) -> dict[str, Any]:
    """A CloudEvent with JSON ``data`` written by the SDK in structured JSON, as a JSON object."""
    attributes = {
        "specversion": "1.0",
        "type": event_type,
        "source": source,
        "id": event_id,
        "time": time,
        "datacontenttype": "application/json",
    }
    written: dict[str, Any] = json.loads(write(build(attributes, data)))
    return written


def write(event: CloudEvent) -> bytes:
    """The event in structured-mode JSON (``application/cloudevents+json``)."""
    return _FORMAT.write(event)


def read(raw: bytes) -> CloudEvent:
    """A structured-mode JSON CloudEvents 1.0 event; EnvelopeError for a broken envelope,
    ValueError or TypeError for bytes that are no JSON object with a readable ``time``."""
    try:
        event = _FORMAT.read(CloudEvent, raw)
    except CloudEventValidationError as exc:
        raise EnvelopeError(_problems(exc, _names(raw))) from None
    except AttributeError:  # JSON that is not an object
        raise TypeError("a CloudEvent in structured JSON is a JSON object") from None
    assert isinstance(event, CloudEvent)
    _check_names(event)
    return event


def _names(raw: bytes) -> Iterable[str]:
    """The attribute names of a structured-mode event the SDK refused (it read them before)."""
    doc = json.loads(raw)
    return doc.keys() if isinstance(doc, dict) else ()
