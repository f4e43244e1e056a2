"""The meeting page's forms: put a case on the agenda, take one off, conclude the meeting.

Each runs the application's meeting command; a refusal is answered with the meeting page and
its reason in Dutch (a case without the family's consent never goes on the agenda).
"""

from __future__ import annotations

import re
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from adapters.http.context import AttemptDep, ServicesDep, audited
from adapters.http.dashboard import forms, meeting_words
from adapters.http.dashboard.meetings import context_of, meeting_of, place_name, render_meeting
from adapters.http.dashboard.messages import refusal
from adapters.http.dashboard.render import redirect
from adapters.http.dashboard.session import PREFIX, Coordinator, FormData
from domain.case_lookup import case_number
from domain.errors import DomainError, IllegalTransitionError
from domain.meeting import Meeting
from ks_engine import commands as c
from ks_engine.access_log import AccessAction
from ks_engine.principals import Principal

router = APIRouter(prefix=f"{PREFIX}/overleg", include_in_schema=False)

_CASE_WORD = re.compile(r"^casus\s+", re.IGNORECASE)


@router.post("/{meeting_id}/agenda", dependencies=[audited(AccessAction.UPDATE)])
async def schedule(
    request: Request,
    meeting_id: str,
    principal: Coordinator,
    form: FormData,
    services: ServicesDep,
    attempt: AttemptDep,
) -> Response:
    """Put the case with the typed number on the agenda; refused in Dutch without consent."""
    meeting = await run_in_threadpool(meeting_of, services, meeting_id, principal)
    number = _CASE_WORD.sub("", forms.one(form, "casus")).strip()
    found = []
    if re.fullmatch(r"[0-9a-fA-F]{8}|[0-9a-fA-F-]{36}", number):
        found = await run_in_threadpool(
            lambda: services.referrals.search_cases([meeting.municipality], number=number)
        )
    if len(found) != 1:
        place = place_name(services, meeting.municipality)
        message = (
            f"Geen casus met dit nummer in {place}. Typ het casusnummer zoals de werkvoorraad "
            "het toont (bijvoorbeeld 740ce0b5)."
        )
        return await render_meeting(
            request, services, meeting, attempt, message=message, status=422
        )
    case = found[0]
    if attempt is not None:
        attempt.touches(case)
    cmd = c.ScheduleCase(meeting_id=meeting.id, case_id=case.id)
    ctx = context_of(request, principal)
    try:
        await run_in_threadpool(services.referrals.schedule_case, cmd, ctx)
    except DomainError as exc:
        what = f"Casus {case_number(case.id)} op de agenda zetten"
        message = meeting_words.meeting_refusal(exc, what) or refusal(exc)
        status = 409 if isinstance(exc, IllegalTransitionError) else 422
        return await render_meeting(
            request, services, meeting, attempt, message=message, status=status
        )
    return redirect(f"{PREFIX}/overleg/{meeting.id}?gedaan=agenda")


@router.post(
    "/{meeting_id}/agenda/{case_id}/verwijderen", dependencies=[audited(AccessAction.UPDATE)]
)
async def unschedule(
    request: Request,
    meeting_id: str,
    case_id: UUID,
    principal: Coordinator,
    form: FormData,
    services: ServicesDep,
    attempt: AttemptDep,
) -> Response:
    """Take a case off the agenda (before a decision)."""
    meeting = await run_in_threadpool(meeting_of, services, meeting_id, principal)
    cmd = c.UnscheduleCase(meeting_id=meeting.id, case_id=case_id)
    return await _run(request, services, meeting, attempt, principal, cmd, "van-agenda")


@router.post("/{meeting_id}/afronden", dependencies=[audited(AccessAction.UPDATE)])
async def conclude(
    request: Request,
    meeting_id: str,
    principal: Coordinator,
    form: FormData,
    services: ServicesDep,
    attempt: AttemptDep,
) -> Response:
    """Conclude the meeting: its minutes are fixed."""
    meeting = await run_in_threadpool(meeting_of, services, meeting_id, principal)
    cmd = c.ConcludeMeeting(meeting_id=meeting.id)
    return await _run(request, services, meeting, attempt, principal, cmd, "afgerond")


async def _run(
    request: Request,
    services: ServicesDep,
    meeting: Meeting,
    attempt: AttemptDep,
    principal: Principal,
    cmd: c.UnscheduleCase | c.ConcludeMeeting,
    done: str,
) -> Response:
    app, ctx = services.referrals, context_of(request, principal)
    try:
        if isinstance(cmd, c.UnscheduleCase):
            await run_in_threadpool(app.unschedule_case, cmd, ctx)
        else:
            await run_in_threadpool(app.conclude_meeting, cmd, ctx)
    except DomainError as exc:
        message = meeting_words.meeting_refusal(exc, "Dit") or refusal(exc)
        status = 409 if isinstance(exc, IllegalTransitionError) else 422
        return await render_meeting(
            request, services, meeting, attempt, message=message, status=status
        )
    return redirect(f"{PREFIX}/overleg/{meeting.id}?gedaan={done}")
