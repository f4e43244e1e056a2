"""The coordinators' Knooppunt meetings (*casusoverleg*): plan, set the agenda, decide, conclude.

Promise: a decision and the case discussion it records are saved together or not at all; the
meeting, its municipality's calendar and every case it touches change in one transaction, so
a concurrent change to any of them refuses the whole command (VersionConflictError).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError

from domain.errors import InvalidValueError, MeetingNotFoundError, VersionConflictError
from domain.meeting import Decision, Meeting, MeetingCalendar, calendar_id
from ks_engine import commands as c
from ks_engine.signal_intake import SignalIntake

if TYPE_CHECKING:
    from eventsourcing.domain import Aggregate

    from domain.referral import Referral


@dataclass(frozen=True)
class MeetingResult:
    """The meeting's version after a command and the log position of its last event."""

    meeting_id: UUID
    version: int
    position: int


class MeetingCommands(SignalIntake):
    """Meetings; ``ks_engine.application.Referrals`` provides the helpers."""

    if TYPE_CHECKING:

        def get_case(self, case_id: UUID) -> Referral: ...

    def plan_meeting(self, cmd: c.PlanMeeting, ctx: c.Context) -> MeetingResult:
        """Plan a meeting and put its first cases on the agenda."""
        at = self.clock()
        meeting = Meeting.plan(
            municipality=cmd.municipality,
            on=cmd.on,
            organisations=cmd.organisations,
            actor=ctx.actor,
            at=at,
            causation_id=ctx.causation_id,
        )
        for case_id in dict.fromkeys(cmd.case_ids):
            meeting.schedule(
                self.get_case(case_id), actor=ctx.actor, at=at, causation_id=ctx.causation_id
            )
        calendar = self._find(MeetingCalendar, calendar_id(cmd.municipality), {})
        calendar = calendar or MeetingCalendar(municipality=cmd.municipality)
        calendar.add(meeting.id, meeting.on)
        return self._commit_meeting(meeting, calendar)

    def schedule_case(self, cmd: c.ScheduleCase, ctx: c.Context) -> MeetingResult:
        """Put a consented case on the agenda; refused without the family's consent."""
        meeting = self.get_meeting(cmd.meeting_id)
        case = self.get_case(cmd.case_id)
        meeting.schedule(case, actor=ctx.actor, at=self.clock(), causation_id=ctx.causation_id)
        return self._commit_meeting(meeting)

    def unschedule_case(self, cmd: c.UnscheduleCase, ctx: c.Context) -> MeetingResult:
        """Take a case off the agenda."""
        meeting = self.get_meeting(cmd.meeting_id)
        meeting.unschedule(
            cmd.case_id, actor=ctx.actor, at=self.clock(), causation_id=ctx.causation_id
        )
        return self._commit_meeting(meeting)

    def record_meeting_decision(
        self, cmd: c.RecordMeetingDecision, ctx: c.Context
    ) -> MeetingResult:
        """Record the decision on a case; a discussed case gets the meeting's discussion
        (dated the meeting's day) as its discussion step."""
        meeting = self.get_meeting(cmd.meeting_id)
        case = self.get_case(cmd.case_id)
        case.refuse_if_restricted("change")
        expected = cmd.expected_case_version
        if expected is not None and expected != case.version:
            raise VersionConflictError(
                f"case {case.id} changed since version {expected} (now version {case.version}); "
                "reload the case and try again",
                expected=expected,
                actual=case.version,
            )
        if cmd.decision is Decision.DISCUSSED and cmd.discussion is None:
            raise InvalidValueError(
                f"case {case.id} was discussed: name the participants, scores and needs found"
            )
        at = self.clock()
        changed: list[Aggregate] = []
        case_version = None
        if cmd.discussion is not None and cmd.decision is Decision.DISCUSSED:
            case.record_discussion(
                on=meeting.on,
                participants=cmd.discussion.participants,
                scores=cmd.discussion.scores,
                needs=cmd.discussion.needs,
                actor=ctx.actor,
                at=at,
                causation_id=ctx.causation_id,
            )
            case_version = case.version
            changed.append(case)
        meeting.record_decision(
            case,
            decision=cmd.decision,
            follow_up=cmd.follow_up,
            lead_organisation=cmd.lead_organisation,
            case_version=case_version,
            actor=ctx.actor,
            at=at,
            causation_id=ctx.causation_id,
        )
        return self._commit_meeting(meeting, *changed)

    def conclude_meeting(self, cmd: c.ConcludeMeeting, ctx: c.Context) -> MeetingResult:
        """Conclude the meeting: its minutes are fixed."""
        meeting = self.get_meeting(cmd.meeting_id)
        meeting.conclude(actor=ctx.actor, at=self.clock(), causation_id=ctx.causation_id)
        return self._commit_meeting(meeting)

    # -- queries --------------------------------------------------------------------------
    def get_meeting(self, meeting_id: UUID) -> Meeting:
        """The meeting as it is now; MeetingNotFoundError if there is none."""
        try:
            found: Aggregate = self.repository.get(meeting_id)
        except AggregateNotFoundError:
            raise MeetingNotFoundError(f"there is no meeting {meeting_id}") from None
        if not isinstance(found, Meeting):
            raise MeetingNotFoundError(f"there is no meeting {meeting_id}")
        return found

    def meetings_of(self, municipalities: list[str]) -> list[Meeting]:
        """The meetings of ``municipalities``, the latest date first."""
        found: list[Meeting] = []
        for municipality in dict.fromkeys(municipalities):
            calendar = self._find(MeetingCalendar, calendar_id(municipality), {})
            if calendar is not None:
                found += [self.get_meeting(UUID(m)) for m in calendar.meetings]
        return sorted(found, key=lambda m: (m.on, m.planned_at), reverse=True)

    # -- helpers --------------------------------------------------------------------------
    def _commit_meeting(self, meeting: Meeting, *others: Aggregate) -> MeetingResult:
        try:
            recordings = self.save(meeting, *others)
        except RecordConflictError:
            raise VersionConflictError(
                f"meeting {meeting.id} or one of its cases was changed by someone else at the "
                "same moment; reload the page and try again",
                expected=meeting.version,
                actual=meeting.version,
            ) from None
        return MeetingResult(meeting.id, meeting.version, recordings[-1].notification.id)
