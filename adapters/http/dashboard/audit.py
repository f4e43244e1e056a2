"""The auditor's pages, read-only: the NEN 7513 access log and a case's history."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from adapters.http.access import reader_of
from adapters.http.context import AttemptDep, ServicesDep, audited
from adapters.http.dashboard import access_names
from adapters.http.dashboard.case import case_view, catalogue_names, visible_case
from adapters.http.dashboard.render import page, redirect
from adapters.http.dashboard.session import PREFIX, Auditor
from ks_engine.access_log import AccessAction, AccessQuery
from ks_engine.clock import AMSTERDAM

router = APIRouter(prefix=f"{PREFIX}/audit", include_in_schema=False)

PAGE_SIZE = 100
_PRINCIPAL = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text.strip())
    except ValueError:
        return None


@router.get("", dependencies=[audited(AccessAction.READ)])
async def access_log(
    request: Request,
    principal: Auditor,
    services: ServicesDep,
    casus: Annotated[str, Query(max_length=60)] = "",
    wie: Annotated[str, Query(max_length=64)] = "",
    van: Annotated[str, Query(max_length=10)] = "",
    tot: Annotated[str, Query(max_length=10)] = "",
    voor: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """The access log, newest first, filtered by case, user and dates, a page at a time."""
    case_id = _uuid(casus) if casus else None
    principal_id = wie if _PRINCIPAL.fullmatch(wie) else None
    problems = []
    if casus and case_id is None:
        problems.append("Het casusnummer is geen geldig nummer; het filter is niet toegepast.")
    if wie and principal_id is None:
        problems.append("Deze gebruiker-id bestaat niet zo; het filter is niet toegepast.")
    since, until = _day(van), _day(tot)
    for typed, day in ((van, since), (tot, until)):
        if typed and day is None:
            problems.append(f"{typed!r} is geen datum (jjjj-mm-dd); het filter is niet toegepast.")
    query = AccessQuery(
        case_id=case_id,
        principal_id=principal_id,
        since=_midnight(since) if since else None,
        until=_midnight(until + timedelta(days=1)) if until else None,
        municipalities=frozenset(principal.municipalities),
    )
    found = await run_in_threadpool(
        lambda: services.access_log.find_newest(query, before=voor, limit=PAGE_SIZE)
    )
    filters = {
        "casus": str(case_id) if case_id else "",
        "wie": principal_id or "",
        "van": since.isoformat() if since else "",
        "tot": until.isoformat() if until else "",
    }
    rows = [
        {
            "entry": e,
            "step": access_names.step_of(e),
            "purpose": access_names.purpose_of(e),
            "action": access_names.action_of(e),
            "outcome": access_names.OUTCOMES.get(e.outcome.value, e.outcome.value),
        }
        for e in found.entries
    ]
    return page(
        request,
        "access_log.html",
        {
            "rows": rows,
            "next_cursor": found.next_cursor,
            "filters": filters,
            "next_query": urlencode([(k, v) for k, v in filters.items() if v]),
            "problems": problems,
            "verify": await run_in_threadpool(services.last_verify)
            if services.last_verify
            else None,
        },
    )


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _midnight(day: date) -> datetime:
    """The start of ``day`` in Dutch time (the auditor's calendar)."""
    return datetime.combine(day, time(0), tzinfo=AMSTERDAM)


@router.get("/casus", dependencies=[audited(AccessAction.READ)])
def find_case(principal: Auditor, casus: Annotated[str, Query(max_length=60)] = "") -> Response:
    """The history page of the case number typed in the search form."""
    case_id = _uuid(casus)
    return redirect(f"{PREFIX}/audit/casus/{case_id or 'onbekend'}")


@router.get("/casus/{case_id}", dependencies=[audited(AccessAction.READ)])
async def history(
    request: Request,
    case_id: str,
    principal: Auditor,
    services: ServicesDep,
    attempt: AttemptDep,
) -> Response:
    """A case's history: every event with who caused it (read-only, no personal data)."""
    case = visible_case(case_id, principal, services, attempt)
    view, _ = await case_view(services, case.id, reader=reader_of(principal))
    return page(
        request,
        "history.html",
        {
            "case_id": str(case.id),
            "state": case.state.value,
            "view": view,
            "names": catalogue_names(services),
        },
    )
