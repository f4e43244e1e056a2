"""What every coordinator's command on one case needs, given to a route as one dependency."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request, Response

from adapters.http.access import CoordinatedCase
from adapters.http.context import Coordinator, Services, ServicesDep
from adapters.http.problems import IF_MATCH_PATTERN, if_match_version
from adapters.http.schemas.commands import CommandOut
from domain.errors import DomainError
from domain.referral import Referral
from domain.values import Actor, ActorRole
from ks_engine import commands as c
from ks_engine.application import CommandResult, Referrals

C = TypeVar("C")


def _expected_version(
    if_match: Annotated[
        str,
        Header(
            pattern=IF_MATCH_PATTERN,
            description="The case version the command is based on, as the `ETag` of "
            '`GET /cases/{case_id}` or the work queue\'s `version` give it: `"3"`. A case '
            "that changed since answers 412 and nothing is recorded; without `If-Match` (or "
            "with `*`) the answer is 428.",
        ),
    ],
) -> int:
    return if_match_version(if_match)


ExpectedVersion = Annotated[int, Depends(_expected_version)]


def _context(request: Request, principal: Coordinator) -> c.Context:
    actor = Actor(
        organisation=principal.organisation, role=ActorRole.COORDINATOR, user_ref=principal.id
    )
    return c.Context(actor=actor, causation_id=f"http:{request.state.request_id}")


CommandContext = Annotated[c.Context, Depends(_context)]


def run_command(
    services: Services, response: Response, name: str, call: Callable[[], CommandResult]
) -> CommandOut:
    """Run one command, count it as done or refused, and answer with the case's new version."""
    try:
        result = call()
    except DomainError:
        services.metrics.commands.labels(name, "refused").inc()
        raise
    services.metrics.commands.labels(name, "done").inc()
    return command_out(response, result)


def command_out(response: Response, result: CommandResult) -> CommandOut:
    """The answer to a command on a case: its new version, also as the `ETag`."""
    response.headers["ETag"] = f'"{result.version}"'
    return CommandOut(case_id=result.case_id, version=result.version, position=result.position)


@dataclass(frozen=True)
class CaseCommand:
    """A coordinator's command on a case in remit, based on the version the `If-Match` names."""

    case: Referral
    version: int
    ctx: c.Context
    services: Services
    response: Response

    @property
    def referrals(self) -> Referrals:
        return self.services.referrals

    def run(self, handler: Callable[[C, c.Context], CommandResult], command: C) -> CommandOut:
        """Hand the command to the application; the handler's name labels the metric."""
        return run_command(
            self.services, self.response, handler.__name__, lambda: handler(command, self.ctx)
        )


def _case_command(
    case: CoordinatedCase,
    version: ExpectedVersion,
    ctx: CommandContext,
    services: ServicesDep,
    response: Response,
) -> CaseCommand:
    return CaseCommand(case=case, version=version, ctx=ctx, services=services, response=response)


CaseCommandDep = Annotated[CaseCommand, Depends(_case_command)]
