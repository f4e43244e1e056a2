"""The access log of a municipality's cases as FHIR AuditEvents, one per line (FHIR Bulk Data
NDJSON, ``application/fhir+ndjson``), for ``ks audit export --format fhir``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import IO
from uuid import UUID

from adapters.fhir.audit_events import audit_event
from ks_engine.access_log import AccessEntry, AccessLog, AccessQuery
from ks_engine.clock import AMSTERDAM

PAGE = 500


def _entries(log: AccessLog, query: AccessQuery) -> Iterator[AccessEntry]:
    cursor = 0
    while True:
        page = log.find(query, after=cursor, limit=PAGE)
        yield from page.entries
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def export_audit_events(
    log: AccessLog,
    municipality_of: Callable[[UUID], str | None],
    out: IO[str],
    *,
    municipality: str,
    start: date,
    end: date,
) -> int:
    """Write the entries about ``municipality``'s cases from ``start`` to ``end`` (Amsterdam
    days, both included); returns how many. ``municipality_of`` answers None for a case that
    no longer exists."""
    since = datetime.combine(start, datetime.min.time(), AMSTERDAM)
    until = datetime.combine(end, datetime.max.time(), AMSTERDAM)
    towns: dict[UUID, str | None] = {}
    written = 0
    for entry in _entries(log, AccessQuery(since=since, until=until)):
        if entry.case_id is None:
            continue
        if entry.case_id not in towns:
            towns[entry.case_id] = municipality_of(entry.case_id)
        if towns[entry.case_id] != municipality:
            continue
        out.write(audit_event(entry).model_dump_json(exclude_none=True) + "\n")
        written += 1
    return written
