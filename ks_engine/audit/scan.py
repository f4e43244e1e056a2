"""The quick scan of ``ks audit verify``: whether a range of the log is intact, from plain rows.

It checks what the walk checks (``walker.py``, ``link_checks.py``): each link's recorded hash
recomputed from its fields, its ``prev`` the hash of the link before it, its
``prev_in_aggregate`` that of its aggregate's previous version (which lies before it), the
stored event at the same position with the sealed id, version and type, the hash of its stored
bytes and, for a case event, the hash of its summary. It stops at the first thing that is not
as sealed and says only that: the walk then tells every finding in an auditor's words. So it
needs no objects per row and no words; a column holding a value of another type than
ks-engine writes counts as not intact, never as equal.

``body_hash`` and ``link_hash`` of ``chain.py`` are written out inline (a unit test holds them
equal for any input).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from hashlib import sha256
from json.encoder import encode_basestring_ascii as _q
from typing import Any, ParamSpec, Protocol

from ks_engine.audit.chain import GENESIS, Link
from ks_engine.audit.ranges import RangeResult
from ks_engine.audit.summary import CASE_TOPIC_PREFIXES

# position, aggregate, version, topic, stored bytes -> the summary hash the walk computes
SummaryHash = Callable[[int, str, int, str, bytes], str]
P = ParamSpec("P")
NOT_INTACT = RangeResult(False, 0, 0, None, None, {})
# The text of a UUID as ks-engine seals it: a stored id equal to it without the hyphens is
# the one the event store reads back as this UUID (anything else is left to the walk).
CANONICAL_UUID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
).fullmatch


class LogRows(Protocol):
    """The stored events and the links as plain rows (``adapters.persistence.audit_scan``),
    read while open (``with``)."""

    def __enter__(self) -> LogRows: ...

    def __exit__(self, *exc: object) -> None: ...

    def events(self, first: int, last: int) -> Iterator[tuple[Any, ...]]: ...

    def links(self, first: int, last: int | None) -> Iterator[tuple[Any, ...]]: ...

    def stored(self, position: int) -> bool: ...


def _link(row: tuple[Any, ...]) -> Link:
    return Link(*row[:11])


def _not_intact_on_foreign_values(check: Callable[P, RangeResult]) -> Callable[P, RangeResult]:
    """``check``, not intact where a column holds what ks-engine never writes (the comparisons
    then raise instead of answering)."""

    @functools.wraps(check)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> RangeResult:
        try:
            return check(*args, **kwargs)
        except (TypeError, ValueError, AttributeError):
            return NOT_INTACT

    return guarded


@_not_intact_on_foreign_values
def scan(
    rows: LogRows,
    summary_hash: SummaryHash,
    first: int,
    last: int | None,
    upto: int,
    marks: set[int],
) -> RangeResult:
    """Positions ``first`` to ``last`` (to the chain's end when None) checked on their own,
    trusting the first link's ``prev`` (``ranges.combine`` checks it); not clean at the first
    thing that is not as sealed."""
    events = rows.events(first, upto if last is None else min(upto, last))
    count, met = 0, {}
    prev: str | None = None
    first_row: tuple[Any, ...] | None = None
    row: tuple[Any, ...] | None = None
    last_row: tuple[Any, ...] | None = None
    int_, str_, case_topics, canonical = int, str, CASE_TOPIC_PREFIXES, CANONICAL_UUID
    for row in rows.links(first, last):
        position, aggregate, version, topic, state_hash, summary, in_aggregate, before = row[:8]
        recorded, sealed_at, form, predecessor = row[8:]
        if type(position) is not int_ or type(version) is not int_ or type(form) is not int_:
            return NOT_INTACT
        if position > upto:  # sealed after this verification read the log's end
            if rows.stored(position):
                break
            return NOT_INTACT
        event = next(events, None)
        if (
            event is None
            or event[0] != position
            or event[1] != aggregate.replace("-", "")
            or not canonical(aggregate)
            or event[2] != version
            or event[3] != topic
            or type(topic) is not str_
        ):
            return NOT_INTACT
        state = event[4]
        if type(state) is not bytes or sha256(state).hexdigest() != state_hash:
            return NOT_INTACT
        if before != prev and prev is not None:
            return NOT_INTACT
        if version == 1:
            if in_aggregate != GENESIS:
                return NOT_INTACT
        elif predecessor is None:
            return NOT_INTACT
        else:
            at, _, hash_before = predecessor.partition(" ")
            if hash_before != in_aggregate or int_(at) >= position:
                return NOT_INTACT
        if form == 2:
            body = (
                f'{{"aggregate":{_q(aggregate)},"chain_format":2,'
                f'"prev_in_aggregate":{_q(in_aggregate)},"sealed_at":{_q(sealed_at)},'
                f'"state_hash":{_q(state_hash)},"summary_hash":{_q(summary)},'
                f'"topic":{_q(topic)},"version":{version}}}'
            )
        elif form == 1:
            body = (
                f'{{"aggregate":{_q(aggregate)},"prev_in_aggregate":{_q(in_aggregate)},'
                f'"state_hash":{_q(state_hash)},"summary_hash":{_q(summary)},'
                f'"topic":{_q(topic)},"version":{version}}}'
            )
        else:
            return NOT_INTACT
        text = (
            f'{{"body":"{sha256(body.encode()).hexdigest()}","position":{position},'
            f'"prev":{_q(before)}}}'
        )
        if sha256(text.encode()).hexdigest() != recorded:
            return NOT_INTACT
        if topic.startswith(case_topics):
            if summary_hash(position, aggregate, event[2], topic, state) != summary:
                return NOT_INTACT
        elif summary != "":
            return NOT_INTACT
        count += 1
        if first_row is None:
            first_row = row
        if position in marks:
            met[position] = (_link(row), count)
        prev, last_row = recorded, row
    if next(events, None) is not None:  # stored but not sealed
        return NOT_INTACT
    return RangeResult(
        True,
        count,
        count,
        None if first_row is None else _link(first_row),
        None if last_row is None else _link(last_row),
        met,
    )
