"""What every coordinator's command on one meeting needs, given to a route as one dependency."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar
from uuid import UUID

from fastapi import Depends

from adapters.http.access import load_visible_case
from adapters.http.context import AccessAttempt, AttemptDep, Coordinator, Services, ServicesDep
from adapters.http.problems import NotFoundError
from adapters.http.routers.commands import CommandContext
from adapters.http.schemas.meetings import MeetingCommandOut
from domain.errors import MeetingNotFoundError
from domain.meeting import Meeting
from domain.referral import Referral
from ks_engine import commands as c
from ks_engine.meetings import MeetingResult
from ks_engine.principals import Principal

C = TypeVar("C")


def find_meeting(services: ServicesDep, meeting_id: UUID) -> Meeting:
    """The meeting, or NotFoundError."""
    try:
        return services.referrals.get_meeting(meeting_id)
    except MeetingNotFoundError:
        raise NotFoundError("there is no such meeting") from None


def _coordinated_meeting(
    meeting_id: UUID, principal: Coordinator, services: ServicesDep
) -> Meeting:
    meeting = find_meeting(services, meeting_id)
    if not principal.serves(meeting.municipality):
        raise NotFoundError("there is no such meeting")
    return meeting


CoordinatedMeeting = Annotated[Meeting, Depends(_coordinated_meeting)]


def meeting_out(result: MeetingResult) -> MeetingCommandOut:
    """The answer to a command on a meeting: its new version and position."""
    return MeetingCommandOut(
        meeting_id=result.meeting_id, version=result.version, position=result.position
    )


@dataclass(frozen=True)
class MeetingCommand:
    """A coordinator's command on a meeting of one of their municipalities."""

    meeting: Meeting
    principal: Principal
    ctx: c.Context
    services: Services
    attempt: AccessAttempt | None

    def visible_case(self, case_id: UUID) -> Referral:
        """The case the command names, if the coordinator may see it; 404 alike otherwise."""
        return load_visible_case(case_id, self.principal, self.services, self.attempt)

    def run(
        self, handler: Callable[[C, c.Context], MeetingResult], command: C
    ) -> MeetingCommandOut:
        """Hand the command to the application and answer with the meeting's new version."""
        return meeting_out(handler(command, self.ctx))


def _meeting_command(
    meeting: CoordinatedMeeting,
    principal: Coordinator,
    ctx: CommandContext,
    services: ServicesDep,
    attempt: AttemptDep,
) -> MeetingCommand:
    return MeetingCommand(meeting, principal, ctx, services, attempt)


MeetingCommandDep = Annotated[MeetingCommand, Depends(_meeting_command)]
