"""The Knooppunt meeting pages (*casusoverleg*): plan one, set its agenda, read and print it.

The coordinator sees every case on the agenda; "bekijk als" shows (and prints) the agenda as
one attending organisation may read it: only the cases whose family's consent names it, each
as far as the reader policy allows. Every case shown is access-logged with its purpose.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from adapters.http.access import reader_of
from adapters.http.case_reads import record_case_reads
from adapters.http.context import AttemptDep, ServicesDep, audited
from adapters.http.dashboard import forms, meeting_words
from adapters.http.dashboard.case import catalogue_names
from adapters.http.dashboard.messages import invalid_fields, refusal
from adapters.http.dashboard.render import page, redirect
from adapters.http.dashboard.session import PREFIX, Coordinator, FormData, PageError
from adapters.http.routers.meetings import agenda_cases
from domain import meeting_agenda
from domain.case_lookup import case_number
from domain.errors import DomainError, MeetingNotFoundError
from domain.meeting import Meeting
from domain.reader_policy import Reader
from domain.values import Actor, ActorRole
from ks_engine import commands as c
from ks_engine.access_log import AccessAction
from ks_engine.principals import Principal, Role

router = APIRouter(prefix=f"{PREFIX}/overleg", include_in_schema=False)

NOT_FOUND = "Dit overleg bestaat niet of valt niet onder de gemeenten waarvoor u werkt."


def meeting_of(services: ServicesDep, meeting_id: str, principal: Principal) -> Meeting:
    """The meeting if the coordinator serves its municipality; the same 404 page otherwise."""
    try:
        meeting = services.referrals.get_meeting(UUID(meeting_id))
    except (ValueError, MeetingNotFoundError):
        raise PageError(404, "Overleg niet gevonden", NOT_FOUND) from None
    if not principal.serves(meeting.municipality):
        raise PageError(404, "Overleg niet gevonden", NOT_FOUND)
    return meeting


def context_of(request: Request, principal: Principal) -> c.Context:
    """The command context of a coordinator's form."""
    actor = Actor(
        organisation=principal.organisation, role=ActorRole.COORDINATOR, user_ref=principal.id
    )
    return c.Context(actor=actor, causation_id=f"dashboard:{request.state.request_id}")


def organisation_names(services: ServicesDep) -> dict[str, str]:
    """Names of organisations to show instead of ids: the menukaart's providers."""
    return catalogue_names(services)["providers"]


def organisation_reader(services: ServicesDep, organisation: str) -> Reader:
    """The reader-policy row of an organisation: its partners' domain when they agree on one,
    else a partner of no known domain (process information only)."""
    partners = [
        p
        for p in services.principals.principals()
        if p.role is Role.PARTNER and p.organisation == organisation
    ]
    readers = {reader_of(p) for p in partners}
    return readers.pop() if len(readers) == 1 else Reader.PARTNER


def _choices(services: ServicesDep, municipalities: Sequence[str]) -> list[tuple[str, str]]:
    """Organisations to invite, by name: the menukaart's providers with an offer in the
    coordinator's municipalities, and the partners signed up."""
    catalogue = services.referrals.catalogue
    names = organisation_names(services)
    local = {
        s.organization_id for s in catalogue.services if set(s.service_area) & {*municipalities}
    }
    found = {o: names.get(o, o) for o in sorted(local)}
    for p in services.principals.principals():
        if p.role is Role.PARTNER:
            found.setdefault(p.organisation, p.organisation)
    return sorted(found.items(), key=lambda item: item[1].lower())


@router.get("", dependencies=[audited(AccessAction.READ)])
async def meetings(request: Request, principal: Coordinator, services: ServicesDep) -> Response:
    """The coordinator's meetings, the latest first, and the form to plan one."""
    found = await run_in_threadpool(services.referrals.meetings_of, list(principal.municipalities))
    return _list_page(request, principal, services, found, message=None)


def _list_page(
    request: Request,
    principal: Principal,
    services: ServicesDep,
    found: list[Meeting],
    *,
    message: str | None,
    status: int = 200,
    typed: forms.Form | None = None,
) -> Response:
    context = {
        "meetings": found,
        "municipalities": [(m, place_name(services, m)) for m in principal.municipalities],
        "choices": _choices(services, principal.municipalities),
        "names": organisation_names(services),
        "states": meeting_words.MEETING_STATES,
        "today": services.referrals.clock().date().isoformat(),
        "message": message,
        "typed": {k: list(v) for k, v in (typed or {}).items() if k != "csrf"},
    }
    return page(request, "meetings.html", context, status=status)


def place_name(services: ServicesDep, code: str) -> str:
    region = services.referrals.region
    return region.name_of(code) if region is not None else code


@router.post("", dependencies=[audited(AccessAction.CREATE)])
async def plan(
    request: Request, principal: Coordinator, form: FormData, services: ServicesDep
) -> Response:
    """Plan a meeting from the form."""
    municipality = forms.one(form, "municipality") or principal.municipalities[0]
    if not principal.serves(municipality):
        raise PageError(403, "Geen toegang", "U bent geen coördinator voor deze gemeente.")
    organisations = forms.many(form, "organisations") + forms.listed(
        forms.one(form, "organisations_other")
    )
    ctx = context_of(request, principal)
    try:
        cmd = c.PlanMeeting(
            municipality=municipality,
            on=forms.one(form, "on"),  # pydantic parses the date
            organisations=list(dict.fromkeys(organisations)),
        )
        result = await run_in_threadpool(services.referrals.plan_meeting, cmd, ctx)
    except (ValidationError, DomainError) as exc:
        message = (
            invalid_fields(exc)
            if isinstance(exc, ValidationError)
            else meeting_words.meeting_refusal(exc, "Het overleg plannen") or refusal(exc)
        )
        found = await run_in_threadpool(
            services.referrals.meetings_of, list(principal.municipalities)
        )
        return _list_page(
            request, principal, services, found, message=message, status=422, typed=form
        )
    return redirect(f"{PREFIX}/overleg/{result.meeting_id}?gedaan=gepland")


@router.get("/{meeting_id}", dependencies=[audited(AccessAction.READ)])
async def meeting_page(
    request: Request,
    meeting_id: str,
    principal: Coordinator,
    services: ServicesDep,
    attempt: AttemptDep,
    organisatie: Annotated[str, Query(max_length=300)] = "",
    gedaan: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The agenda and minutes; ``organisatie``: as that attending organisation may read it."""
    meeting = await run_in_threadpool(meeting_of, services, meeting_id, principal)
    return await render_meeting(
        request,
        services,
        meeting,
        attempt,
        organisation=organisatie if organisatie in meeting.organisations else None,
        done=meeting_words.DONE.get(gedaan),
    )


async def render_meeting(
    request: Request,
    services: ServicesDep,
    meeting: Meeting,
    attempt: AttemptDep,
    *,
    organisation: str | None = None,
    done: str | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    """The meeting page, its agenda as the coordinator or one organisation may read it."""
    cases = await run_in_threadpool(agenda_cases, services, meeting)
    today = services.referrals.clock().date()
    shown = meeting_agenda.visible_items(meeting, cases, organisation, today)
    reader = (
        Reader.COORDINATOR if organisation is None else organisation_reader(services, organisation)
    )
    await run_in_threadpool(record_case_reads, services, request, attempt, shown, what="agenda")
    items = [
        meeting_agenda.agenda_item(case, meeting, reader)
        | {"number": case_number(case.id), "attendees": meeting.attendees_named_by(case)}
        for case in shown
    ]
    waiting = await _waiting_cases(services, meeting, today) if organisation is None else []
    context = {
        "meeting": meeting,
        "meeting_id": str(meeting.id),
        "municipality_name": place_name(services, meeting.municipality),
        "items": items,
        "organisation": organisation,
        "names": organisation_names(services),
        "offers": catalogue_names(services)["offers"],
        "states": meeting_words.MEETING_STATES,
        "decisions": meeting_words.DECISIONS,
        "follow_ups": meeting_words.FOLLOW_UPS,
        "planned": meeting.state.value == "planned",
        "held": today >= meeting.on,
        "waiting": waiting,
        "done": done,
        "message": message,
    }
    return page(request, "meeting.html", context, status=status)


async def _waiting_cases(
    services: ServicesDep, meeting: Meeting, today: date
) -> list[dict[str, Any]]:
    """Consented cases of the municipality that wait for a discussion and are not on the
    agenda yet (from the work queue; empty while the read models do not run)."""
    views = services.read_models
    if views is None or meeting.state.value != "planned":
        return []
    found = await run_in_threadpool(
        lambda: views.listing.open_cases(
            now=services.referrals.clock(),
            municipalities=[meeting.municipality],
            states=["consented"],
            sort="deadline",
            limit=25,
        )
    )
    on_agenda = {str(i) for i in meeting.agenda}
    rows = [i.model_dump(mode="json") for i in found.items]
    return [
        {"case_id": r["case_id"], "number": r["case_id"][:8], "urgency": r["urgency"]}
        for r in rows
        if r["case_id"] not in on_agenda
    ]
