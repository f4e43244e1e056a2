"""The Knooppunt meetings (*casusoverleg*): the coordinator plans, sets the agenda, records
decisions and concludes; an attending partner reads the agenda's cases its consent covers."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from adapters.http.access import load_visible_case, reader_of
from adapters.http.case_reads import record_case_reads
from adapters.http.context import (
    AttemptDep,
    Coordinator,
    ServicesDep,
    audited,
    require,
)
from adapters.http.meeting_command import (
    CoordinatedMeeting,
    MeetingCommandDep,
    find_meeting,
    meeting_out,
)
from adapters.http.problems import ForbiddenError, NotFoundError, problem_responses
from adapters.http.routers.commands import CommandContext
from adapters.http.schemas.meetings import (
    AgendaCaseIn,
    AgendaOut,
    DecisionIn,
    MeetingCommandOut,
    MeetingIn,
    MeetingList,
    MeetingOut,
    MeetingSummary,
)
from domain import meeting_agenda
from domain.errors import CaseNotFoundError
from domain.meeting import Meeting
from domain.reader_policy import Reader
from domain.referral import Referral
from ks_engine import commands as c
from ks_engine.access_log import AccessAction
from ks_engine.principals import Principal, Role

router = APIRouter(
    prefix="/meetings",
    tags=["meetings"],
    responses=problem_responses(400, 401, 403, 404, 413, 422),
)
COMMAND_ERRORS = problem_responses(409, 412)


def agenda_cases(services: ServicesDep, meeting: Meeting) -> list[Referral]:
    """The cases on the agenda, in agenda order (an erased or vanished case is left out)."""
    found = []
    for case_id in meeting.agenda:
        try:
            found.append(services.referrals.get_case(case_id))
        except CaseNotFoundError:
            continue
    return found


@router.post(
    "",
    status_code=201,
    summary="Plan a meeting: date, attending organisations, consented cases",
    dependencies=[audited(AccessAction.CREATE)],
    responses=COMMAND_ERRORS,
)
def plan_meeting(
    body: MeetingIn,
    principal: Coordinator,
    ctx: CommandContext,
    services: ServicesDep,
    attempt: AttemptDep,
) -> MeetingCommandOut:
    if not principal.serves(body.municipality):
        raise ForbiddenError(f"you are not a coordinator of {body.municipality}")
    for case_id in body.case_ids:  # a case outside the remit answers as a missing one
        load_visible_case(case_id, principal, services, attempt)
    cmd = c.PlanMeeting.model_validate(body.model_dump())
    return meeting_out(services.referrals.plan_meeting(cmd, ctx))


@router.get(
    "", summary="The meetings of your municipalities", dependencies=[audited(AccessAction.READ)]
)
def list_meetings(
    principal: Coordinator,
    services: ServicesDep,
    municipality: Annotated[str | None, Query(pattern=r"^GM\d{4}$")] = None,
) -> MeetingList:
    chosen = [municipality] if municipality else list(principal.municipalities)
    if municipality and not principal.serves(municipality):
        raise ForbiddenError(f"you are not a coordinator of {municipality}")
    return MeetingList(
        items=[
            MeetingSummary(
                meeting_id=m.id,
                municipality=m.municipality,
                on=m.on,
                state=m.state.value,
                organisations=list(m.organisations),
                agenda_size=len(m.agenda),
                decided=len(m.decisions),
            )
            for m in services.referrals.meetings_of(chosen)
        ]
    )


@router.get(
    "/{meeting_id}",
    summary="A meeting and its minutes (what was decided per case)",
    dependencies=[audited(AccessAction.READ)],
)
def get_meeting(meeting: CoordinatedMeeting) -> MeetingOut:
    return MeetingOut.model_validate(meeting_agenda.meeting_document(meeting))


@router.get(
    "/{meeting_id}/agenda",
    summary="The agenda as you may see it (a partner: the cases whose consent names it)",
    dependencies=[audited(AccessAction.READ)],
)
async def read_agenda(
    meeting_id: UUID,
    request: Request,
    principal: Annotated[Principal, require(Role.COORDINATOR, Role.PARTNER)],
    services: ServicesDep,
    attempt: AttemptDep,
) -> AgendaOut:
    meeting = await run_in_threadpool(find_meeting, services, meeting_id)
    coordinator = principal.role is Role.COORDINATOR
    allowed = (
        principal.serves(meeting.municipality)
        if coordinator
        else principal.organisation in meeting.organisations
    )
    if not allowed:
        raise NotFoundError("there is no such meeting")
    organisation = None if coordinator else principal.organisation
    cases = await run_in_threadpool(agenda_cases, services, meeting)
    today = services.referrals.clock().date()
    shown = meeting_agenda.visible_items(meeting, cases, organisation, today)
    reader = Reader.COORDINATOR if coordinator else reader_of(principal)
    await run_in_threadpool(record_case_reads, services, request, attempt, shown, what="agenda")
    return AgendaOut(
        meeting_id=meeting.id,
        on=meeting.on,
        organisation=organisation,
        items=[meeting_agenda.agenda_item(case, meeting, reader) for case in shown],
    )


@router.post(
    "/{meeting_id}/agenda",
    summary="Put a consented case on the agenda",
    dependencies=[audited(AccessAction.UPDATE)],
    responses=COMMAND_ERRORS,
)
def schedule_case(body: AgendaCaseIn, command: MeetingCommandDep) -> MeetingCommandOut:
    command.visible_case(body.case_id)
    cmd = c.ScheduleCase(meeting_id=command.meeting.id, case_id=body.case_id)
    return command.run(command.services.referrals.schedule_case, cmd)


@router.delete(
    "/{meeting_id}/agenda/{case_id}",
    summary="Take a case off the agenda (before a decision)",
    dependencies=[audited(AccessAction.UPDATE)],
    responses=COMMAND_ERRORS,
)
def unschedule_case(case_id: UUID, command: MeetingCommandDep) -> MeetingCommandOut:
    cmd = c.UnscheduleCase(meeting_id=command.meeting.id, case_id=case_id)
    return command.run(command.services.referrals.unschedule_case, cmd)


@router.post(
    "/{meeting_id}/decisions",
    summary="Record what the meeting decided about a case (a discussion becomes the case's)",
    dependencies=[audited(AccessAction.UPDATE)],
    responses=COMMAND_ERRORS,
)
def record_decision(body: DecisionIn, command: MeetingCommandDep) -> MeetingCommandOut:
    command.visible_case(body.case_id)
    fields = body.model_dump(exclude={"case_version"}) | {
        "meeting_id": command.meeting.id,
        "expected_case_version": body.case_version,
    }
    cmd = c.RecordMeetingDecision.model_validate(fields)
    return command.run(command.services.referrals.record_meeting_decision, cmd)


@router.post(
    "/{meeting_id}/conclusion",
    summary="Conclude the meeting: its minutes are fixed",
    dependencies=[audited(AccessAction.UPDATE)],
    responses=COMMAND_ERRORS,
)
def conclude_meeting(command: MeetingCommandDep) -> MeetingCommandOut:
    cmd = c.ConcludeMeeting(meeting_id=command.meeting.id)
    return command.run(command.services.referrals.conclude_meeting, cmd)
