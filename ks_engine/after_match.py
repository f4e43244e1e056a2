"""The application's commands after the match: support started, evaluation, reopening."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import RecordConflictError, Recording

from domain.deadlines import ServiceLevels, step_deadline
from domain.errors import (
    CaseNotFoundError,
    DomainError,
    InvalidValueError,
    VersionConflictError,
)
from domain.person_index import PersonIndex, person_index_id
from domain.referral import Referral
from domain.signal_record import SignalRecord, signal_record_id
from ks_engine import commands as c
from ks_engine.command_result import CommandResult
from ks_engine.signal_intake import SignalOutcome

if TYPE_CHECKING:
    from eventsourcing.domain import Aggregate

    from ks_engine.case_links import CaseLinks, IndexRefs
    from ks_engine.signal_intake import A


class AfterMatchCommands:
    """Recording what became of the matched support; mixed into ``Referrals``."""

    if TYPE_CHECKING:
        clock: Callable[[], datetime]
        service_levels: ServiceLevels
        MAX_CONFLICT_RETRIES: int

        def _case_for(self, cmd: c.CaseCommand) -> Referral: ...
        def _commit(self, case: Referral, *others: Aggregate | None) -> CommandResult: ...
        def _find(
            self, cls: type[A], aggregate_id: UUID, work: dict[UUID, Aggregate]
        ) -> A | None: ...
        def get_case(self, case_id: UUID) -> Referral: ...
        def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]: ...
        def member_pseudonyms(self, case: Referral) -> list[str]: ...

        links: CaseLinks
        refs: IndexRefs

    def start_support(self, cmd: c.StartSupport, ctx: c.Context) -> CommandResult:
        """Record that the matched support began (by a coordinator or the providing partner)."""
        case = self._case_for(cmd)
        case.start_support(
            on=cmd.on,
            lead_professional=cmd.lead_professional,
            actor=ctx.actor,
            at=self.clock(),
            causation_id=ctx.causation_id,
        )
        return self._commit(case)

    def confirm_support_started(
        self, message_key: str, municipality: str, cmd: c.StartSupport, ctx: c.Context
    ) -> SignalOutcome:
        """A provider's confirmation from NATS (``message_key``: its ``source#id``), applied
        at most once: its idempotency record is stored with the case's event, so a delivery
        of the same message again finds it and changes nothing. The family's active consent
        must name the provider (``ctx.actor``); a refusal is returned, not raised."""
        record_id = signal_record_id(message_key)
        for _ in range(self.MAX_CONFLICT_RETRIES):
            done = self._find(SignalRecord, record_id, {})
            if done is not None:
                return SignalOutcome(message_key, done.case_id, duplicate=True)
            try:
                case = self._case_for(cmd)
                if case.municipality != municipality:  # not told apart from no case at all
                    raise CaseNotFoundError(f"there is no case {cmd.case_id} in {municipality}")
                case.require_named_provider(ctx.actor.organisation, self.clock().date())
                case.start_support(
                    on=cmd.on,
                    lead_professional=cmd.lead_professional,
                    actor=ctx.actor,
                    at=self.clock(),
                    causation_id=ctx.causation_id,
                )
            except DomainError as refusal:
                return SignalOutcome(message_key, None, refusal=refusal)
            record = SignalRecord(signal_key=message_key, case_id=case.id, matched_existing=False)
            try:
                recordings = self.save(case, record)
            except RecordConflictError:
                continue  # another delivery or command came first: judge again on what it left
            return SignalOutcome(message_key, case.id, position=recordings[-1].notification.id)
        raise VersionConflictError(
            f"case {cmd.case_id} kept changing while support started was recorded; try again",
            expected=0,
            actual=0,
        )

    def record_evaluation(self, cmd: c.RecordEvaluation, ctx: c.Context) -> CommandResult:
        """Record the evaluation of the support."""
        case = self._case_for(cmd)
        case.record_evaluation(
            on=cmd.on,
            needs=cmd.needs,
            scores=cmd.scores,
            next_step=cmd.next_step,
            actor=ctx.actor,
            at=self.clock(),
            causation_id=ctx.causation_id,
        )
        return self._commit(case)

    def suspend_deadline(self, cmd: c.SuspendDeadline, ctx: c.Context) -> CommandResult:
        """Suspend the running deadline of the case's current step."""
        return self._hold(cmd, ctx, Referral.suspend_deadline, reason=cmd.reason, until=cmd.until)

    def resume_deadline(self, cmd: c.ResumeDeadline, ctx: c.Context) -> CommandResult:
        """Resume the suspended deadline: the working days left count from today."""
        return self._hold(cmd, ctx, Referral.resume_deadline)

    def extend_deadline(self, cmd: c.ExtendDeadline, ctx: c.Context) -> CommandResult:
        """Extend the deadline of the case's current step, once per step."""
        return self._hold(cmd, ctx, Referral.extend_deadline, reason=cmd.reason, due=cmd.due)

    def _hold(
        self, cmd: c.CaseCommand, ctx: c.Context, change: Callable[..., None], **terms: Any
    ) -> CommandResult:
        """Apply ``change`` (with ``terms``) to the deadline of the case's current step."""
        case = self._case_for(cmd)
        change(
            case,
            found=step_deadline(case, self.service_levels),
            **terms,
            actor=ctx.actor,
            at=self.clock(),
            causation_id=ctx.causation_id,
        )
        return self._commit(case)

    def reopen_case(self, cmd: c.Reopen, ctx: c.Context) -> CommandResult:
        """Reopen a recently closed case as a linked follow-up case; returns the new case.

        The person's matching entry then points at the follow-up case, so further signals
        join it. Refused while the person already has another open case.
        """
        earlier = self._case_for(cmd)
        earlier.refuse_if_erased("reopen the case")  # its link to the person is gone
        at = self.clock()
        follow_up = Referral.follow_up(
            earlier,
            actor=ctx.actor,
            at=at,
            causation_id=ctx.causation_id,
            reseal=self.links.resealer(self.links.new_key()),
        )
        earlier.reopen(
            follow_up_id=str(follow_up.id),
            within_months=self.service_levels.reopen_months,
            actor=ctx.actor,
            at=at,
            causation_id=ctx.causation_id,
        )
        person = self.member_pseudonyms(earlier)[0]
        index = self._find(PersonIndex, person_index_id(earlier.municipality, person), {})
        if index is None:
            index = PersonIndex.open(earlier.municipality, person, self.refs.new(follow_up.id))
        elif (open_case := self.refs.case_of(index.open_case_id)) is not None:
            raise InvalidValueError(
                f"cannot reopen case {earlier.id}: the person already has an open case, "
                f"{open_case}; add to that case instead"
            )
        else:
            index.case_opened(self.refs.for_case(index.case_ids, follow_up.id))
        # One transaction: the earlier case's next version guards against a double reopening.
        read_version = earlier.version - len(earlier.pending_events)
        try:
            recordings = self.save(follow_up, earlier, index)
        except RecordConflictError:
            actual = self.get_case(earlier.id).version
            raise VersionConflictError(
                f"case {earlier.id} was changed by someone else at the same moment (now "
                f"version {actual}); reload the case and try again",
                expected=read_version,
                actual=actual,
            ) from None
        return CommandResult(follow_up.id, follow_up.version, recordings[-1].notification.id)

    def earlier_case(self, case: Referral) -> UUID | None:
        """The person's case closed within the reopening period before this case was signalled.

        Shown with a new case, so a coordinator sees the history and may link it.
        """
        if case.follows is not None:
            return UUID(case.follows)
        members = self.member_pseudonyms(case)
        if not members:  # erased: the case no longer knows its person
            return None
        index = self._find(PersonIndex, person_index_id(case.municipality, members[0]), {})
        last = self.refs.case_of(index.last_closed_case_id) if index is not None else None
        if last is None or last == case.id:
            return None
        earlier = self.get_case(last)
        months = self.service_levels.reopen_months
        return earlier.id if earlier.closed_within(case.signalled_at.date(), months) else None
