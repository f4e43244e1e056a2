"""Why a signal is refused: the codes partners switch on, and reasons in words.

Reasons name the field and what was wrong; they never repeat a BSN (any that slipped into a
reason, e.g. with a partner's own text, is redacted when the rejection is made).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import msgspec

from domain.redaction import redact_bsns


class RejectionCode(StrEnum):
    """Why a signal was refused; partners can switch on these codes."""

    NOT_JSON = "not_json"
    NOT_CLOUDEVENT = "not_cloudevent"
    UNKNOWN_TYPE = "unknown_type"
    UNSUPPORTED_VERSION = "unsupported_version"
    SCHEMA_VIOLATION = "schema_violation"
    INVALID_BSN = "invalid_bsn"
    BSN_AS_REFERENCE = "bsn_as_reference"
    PHASE_DATE_MISSING = "phase_date_missing"
    IMPLAUSIBLE_DATE = "implausible_date"
    MUNICIPALITY_MISMATCH = "municipality_mismatch"
    MUNICIPALITY_NOT_SERVED = "municipality_not_served"
    UNKNOWN_PARTNER = "unknown_partner"
    REFUSED_BY_CASE = "refused_by_case"
    UNKNOWN_CASE = "unknown_case"
    NOT_IN_CONSENT_SCOPE = "not_in_consent_scope"
    INVALID_SIGNAL = "invalid_signal"
    PROCESSING_FAILED = "processing_failed"

    @property
    def meaning(self) -> str:
        """What the code means, for the partner documentation."""
        return _MEANINGS[self]


_MEANINGS = {
    RejectionCode.NOT_JSON: "the body is not UTF-8 JSON that can be read (also: nested too "
    "deeply, a number too long, NaN, a lone surrogate escape)",
    RejectionCode.NOT_CLOUDEVENT: "not a CloudEvents 1.0 event in structured JSON",
    RejectionCode.UNKNOWN_TYPE: "the event type is not 'nl.kansrijkestart.signal.v1' (on NATS "
    "also 'nl.kansrijkestart.support-started.v1')",
    RejectionCode.UNSUPPORTED_VERSION: "a version of the signal type this engine does not take",
    RejectionCode.SCHEMA_VIOLATION: "data does not match the signal schema",
    RejectionCode.INVALID_BSN: "data.person.bsn is not nine digits passing the elfproef",
    RejectionCode.BSN_AS_REFERENCE: "the CloudEvent id, source or subject holds a citizen "
    "service number (BSN): use your own references, never a citizen's number",
    RejectionCode.PHASE_DATE_MISSING: "the phase needs its date (due date or birth date)",
    RejectionCode.IMPLAUSIBLE_DATE: "a date cannot be right: a birth date in the future, a due "
    "date more than ten months ahead",
    RejectionCode.MUNICIPALITY_MISMATCH: "the subject's municipality differs from "
    "data.municipality",
    RejectionCode.MUNICIPALITY_NOT_SERVED: "data.municipality is not served by this Knooppunt",
    RejectionCode.UNKNOWN_PARTNER: "the source is not a registered partner",
    RejectionCode.REFUSED_BY_CASE: "the case the signal belongs to refused it (e.g. erased, or "
    "support started before it was matched)",
    RejectionCode.UNKNOWN_CASE: "a support-started confirmation names no case of its municipality",
    RejectionCode.NOT_IN_CONSENT_SCOPE: "a support-started confirmation comes from a provider "
    "the family's consent does not name",
    RejectionCode.INVALID_SIGNAL: "the signal could not be read for another reason",
    RejectionCode.PROCESSING_FAILED: "the signal could not be processed after repeated tries",
}


@dataclass(frozen=True)
class Rejection(Exception):
    """A signal the engine will not process, with a reason a partner understands.

    ``errors`` name the fields at fault (``data.person.birth_date``) with what was wrong.
    """

    code: RejectionCode
    reason: str
    errors: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", redact_bsns(self.reason))
        # A path can name what the partner chose (an extension attribute): redacted too.
        redacted = tuple((redact_bsns(p), redact_bsns(m)) for p, m in self.errors)
        object.__setattr__(self, "errors", redacted)

    def __str__(self) -> str:
        return f"{self.code.value}: {self.reason}"


# A UTF-16 surrogate written as a JSON escape (\\ud800); valid pairs are checked further.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class _NonFiniteNumber(ValueError):
    """NaN or Infinity: Python's parser takes them, JSON does not."""


def _refuse_constant(name: str) -> Any:
    raise _NonFiniteNumber(name)


# Both parsers refuse nesting deeper than the interpreter's recursion limit allows from where
# they are called (about 900-1,000 levels), msgspec's decoder a few levels later: a text with
# this many brackets is left to the standard parser.
_MANY_BRACKETS = 500
_decode = msgspec.json.Decoder().decode


def load_json(raw: bytes) -> Any:
    """The JSON document in ``raw``; any way it fails becomes a ``not_json`` Rejection.

    Read with msgspec's decoder first, which takes what the standard parser takes and reads it
    alike (ints of any size among them), except what it refuses: NaN, Infinity, a number
    beyond a double, a lone surrogate escape, malformed text. Those, and a text with 500
    brackets, are read by ``load_json_standard``, which also words every refusal.
    ``tests/unit/test_load_json.py`` holds the two to the same result for any text.
    """
    if raw.count(b"[") + raw.count(b"{") < _MANY_BRACKETS:
        try:
            return _decode(raw)
        except (ValueError, RecursionError):  # msgspec.DecodeError and invalid UTF-8 among them
            pass  # the standard parser reads it, or says in its words what is wrong
    return load_json_standard(raw)


def load_json_standard(raw: bytes) -> Any:
    """``load_json`` with Python's own parser.

    Python's parser raises more than decode errors: RecursionError for deep nesting,
    ValueError for an integer of thousands of digits. A text holding a lone surrogate parses
    but cannot be stored or sent on, so it is refused here too.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejection(RejectionCode.NOT_JSON, "the message is not UTF-8 encoded JSON") from None
    try:
        doc = json.loads(text, parse_constant=_refuse_constant)
        if _SURROGATE_ESCAPE.search(raw):
            json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except json.JSONDecodeError as exc:
        raise Rejection(
            RejectionCode.NOT_JSON, f"the message is not valid JSON ({exc.msg})"
        ) from None
    except RecursionError:
        raise Rejection(
            RejectionCode.NOT_JSON, "the message is nested too deeply to be read as a signal"
        ) from None
    except UnicodeEncodeError:
        raise Rejection(
            RejectionCode.NOT_JSON,
            "the message contains a lone UTF-16 surrogate escape (\\ud800-\\udfff), which is "
            "not a character",
        ) from None
    except _NonFiniteNumber as exc:
        raise Rejection(
            RejectionCode.NOT_JSON, f"'{exc}' is not a JSON number; JSON has no NaN or Infinity"
        ) from None
    except ValueError:
        raise Rejection(
            RejectionCode.NOT_JSON, "the message holds a number too long to be read"
        ) from None
    return doc
