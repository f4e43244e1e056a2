"""The privacy officer's commands on a case: restrict processing and lift the restriction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.errors import VersionConflictError
from ks_engine import commands as c

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from uuid import UUID

    from eventsourcing.domain import Aggregate

    from domain.referral import Referral
    from ks_engine.command_result import CommandResult


class RightsCommands:
    """Restriction (AVG art. 18/21); ``ks_engine.application.Referrals`` provides the helpers."""

    if TYPE_CHECKING:
        clock: Callable[[], datetime]

        def _commit(self, case: Referral, *others: Aggregate | None) -> CommandResult: ...
        def get_case(self, case_id: UUID) -> Referral: ...

    def restrict_processing(self, cmd: c.Restrict, ctx: c.Context) -> CommandResult:
        """Restrict the case: it is kept, and refuses every other command until lifted."""
        case = self._versioned(cmd)
        case.restrict(
            basis=cmd.basis, actor=ctx.actor, at=self.clock(), causation_id=ctx.causation_id
        )
        return self._commit(case)

    def lift_restriction(self, cmd: c.LiftRestriction, ctx: c.Context) -> CommandResult:
        """Lift the restriction: the case takes commands again."""
        case = self._versioned(cmd)
        case.lift_restriction(actor=ctx.actor, at=self.clock(), causation_id=ctx.causation_id)
        return self._commit(case)

    def _versioned(self, cmd: c.CaseCommand) -> Referral:
        case = self.get_case(cmd.case_id)
        if cmd.expected_version is not None and cmd.expected_version != case.version:
            raise VersionConflictError(
                f"case {case.id} changed since version {cmd.expected_version} (now version "
                f"{case.version}); reload the case and try again",
                expected=cmd.expected_version,
                actual=case.version,
            )
        return case
