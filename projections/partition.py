"""A batch of stream messages split by case, each part folded on its own (in a worker process).

Every view is keyed by case, so the parts of a batch never touch the same row: each part is
read (parsed and checked), folded from the stored documents of its cases, and turned into the
statements that write it (``FoldingProjection.fold``). Monitoring counts are added to what the
table holds, so the parts' counts add up to the whole batch's. The writing, with the views'
checkpoints, stays with one writer (``projections.store.apply_writes``).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import orjson

from projections.errors import InvalidEventError
from projections.event import ReferralEvent, read_message
from projections.store import Folded, FoldingProjection, cases_held_before

Message = tuple[str, bytes, int]  # subject, data, stream sequence

_SUBJECT = b'"subject":"'


def case_of(data: bytes) -> str:
    """The case a published event is about (its CloudEvent ``subject``), read without parsing
    the whole message where the relay's layout allows; "" when it names none."""
    at = data.find(_SUBJECT)
    if at >= 0:
        start = at + len(_SUBJECT)
        end = data.find(b'"', start)
        if end > start:
            return data[start:end].decode()
    try:
        ce = orjson.loads(data)
    except orjson.JSONDecodeError:
        return ""
    return str(ce.get("subject", "")) if isinstance(ce, dict) else ""


_CASE_VERSION = b'"caseversion":'
_VERSION_NUMBER = re.compile(rb'"caseversion":(\d+)[,}]')


def version_of(data: bytes) -> int:
    """The case version of a published event (its CloudEvent ``caseversion``), read without
    parsing the whole message where the relay's layout allows (the attribute among the
    first ones, before any nested object); 0 when it names none."""
    at = data.find(_CASE_VERSION)
    if at > 0 and data.startswith(b"{") and data.find(b"{", 1, at) < 0:
        number = _VERSION_NUMBER.match(data, at)
        if number:
            return int(number[1])
    try:
        ce = orjson.loads(data)
    except orjson.JSONDecodeError:
        return 0
    version = ce.get("caseversion") if isinstance(ce, dict) else None
    return version if isinstance(version, int) and not isinstance(version, bool) else 0


def stored_before(messages: Sequence[Message]) -> set[str]:
    """The cases of ``messages`` whose documents a view may hold before them: all but those
    whose first message here is the case's first event (version 1), as
    ``projections.store.stored_before`` says of parsed events."""
    return set(cases_held_before((case_of(data), version_of(data)) for _, data, _ in messages))


def split(messages: Sequence[Message], parts: int) -> list[list[Message]]:
    """The messages by part: all of one case in the same part, each part in stream order."""
    out: list[list[Message]] = [[] for _ in range(parts)]
    for m in messages:
        out[zlib.crc32(case_of(m[1]).encode()) % parts].append(m)
    return out


@dataclass(frozen=True)
class FoldedPart:
    """One part of a batch, folded: each view's writes and documents, and how far the log
    was seen."""

    views: dict[str, Folded]
    through: int


def fold_part(
    projections: Sequence[FoldingProjection],
    stored: Mapping[str, Mapping[str, str]],
    messages: Sequence[Message],
) -> FoldedPart:
    """Read the part's messages and fold them for each view from its stored documents
    (``stored[view name]``: case id -> document). InvalidEventError for a message that is not
    a readable event, or that is not about the case it was split by."""
    events: list[ReferralEvent] = []
    for subject, data, seq in messages:
        event = read_message(subject, data, seq)
        if isinstance(event, ReferralEvent):
            if event.case_id != case_of(data):
                raise InvalidEventError(f"stream message {seq} names its case twice")
            if event.version != 1 and version_of(data) == 1:  # its documents were not read
                raise InvalidEventError(f"stream message {seq} names its case's version twice")
            events.append(event)
    through = max((e.through for e in events), default=0)
    return FoldedPart({p.name: p.fold(stored[p.name], events) for p in projections}, through)
