"""Coordinators' commands on a case: consent, discussion, support, escalation, closure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response

from adapters.http.access import CoordinatedCase
from adapters.http.context import Coordinator, ServicesDep, audited
from adapters.http.problems import IF_MATCH_PATTERN, if_match_version, problem_responses
from adapters.http.schemas.commands import (
    ClosureIn,
    CommandOut,
    ConsentIn,
    DiscussionIn,
    EscalationIn,
    SupportMatchIn,
)
from adapters.http.schemas.consent import consent_record
from domain.errors import DomainError
from domain.values import Actor, ActorRole, Outcome
from ks_engine import commands as c
from ks_engine.access_log import AccessAction
from ks_engine.application import CommandResult

router = APIRouter(
    prefix="/cases",
    tags=["commands"],
    dependencies=[audited(AccessAction.UPDATE)],
    responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 422, 428),
)


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


def _run(
    services: ServicesDep, response: Response, name: str, call: Callable[[], CommandResult]
) -> CommandOut:
    try:
        result = call()
    except DomainError:
        services.metrics.commands.labels(name, "refused").inc()
        raise
    services.metrics.commands.labels(name, "done").inc()
    response.headers["ETag"] = f'"{result.version}"'
    return CommandOut(case_id=result.case_id, version=result.version, position=result.position)


@router.post("/{case_id}/consent-request", summary="Record that the family was asked for consent")
def request_consent(
    case: CoordinatedCase,
    version: ExpectedVersion,
    ctx: CommandContext,
    services: ServicesDep,
    response: Response,
) -> CommandOut:
    cmd = c.RequestConsent(case_id=case.id, expected_version=version)
    return _run(
        services, response, "request_consent", lambda: services.referrals.request_consent(cmd, ctx)
    )


@router.post("/{case_id}/consent", summary="Record the family's consent: given or declined")
def record_consent(
    body: ConsentIn,
    case: CoordinatedCase,
    version: ExpectedVersion,
    ctx: CommandContext,
    services: ServicesDep,
    response: Response,
) -> CommandOut:
    cmd = c.RecordConsent(
        case_id=case.id,
        expected_version=version,
        given=body.decision == "given",
        scope=body.scope,
        expires_on=body.expires_on,
        record=consent_record(body, services.referrals.clock().date()),
    )
    return _run(
        services, response, "record_consent", lambda: services.referrals.record_consent(cmd, ctx)
    )


@router.post("/{case_id}/consent-withdrawal", summary="Record that the family withdrew consent")
def withdraw_consent(
    case: CoordinatedCase,
    version: ExpectedVersion,
    ctx: CommandContext,
    services: ServicesDep,
    response: Response,
) -> CommandOut:
    cmd = c.WithdrawConsent(case_id=case.id, expected_version=version)
    return _run(
        services,
        response,
        "withdraw_consent",
        lambda: services.referrals.withdraw_consent(cmd, ctx),
    )


@router.post("/{case_id}/discussion", summary="Record the case discussion at the Knooppunt")
def record_discussion(
    body: DiscussionIn,
    case: CoordinatedCase,
    version: ExpectedVersion,
    ctx: CommandContext,
    services: ServicesDep,
    response: Response,
) -> CommandOut:
    cmd = c.RecordDiscussion(
        case_id=case.id,
        expected_version=version,
        on=body.on,
        participants=body.participants,
        scores=body.scores,
        needs=body.needs,
    )
    return _run(
        services,
        response,
        "record_discussion",
        lambda: services.referrals.record_discussion(cmd, ctx),
    )


@router.post("/{case_id}/support-match", summary="Record the support matched from the menukaart")
def match_support(
    body: SupportMatchIn,
    case: CoordinatedCase,
    version: ExpectedVersion,
    ctx: CommandContext,
    services: ServicesDep,
    response: Response,
) -> CommandOut:
    cmd = c.MatchSupport(
        case_id=case.id,
        expected_version=version,
        offer_ids=body.offer_ids,
        lead_professional=body.lead_professional,
        planned_start=body.planned_start,
    )
    return _run(
        services, response, "match_support", lambda: services.referrals.match_support(cmd, ctx)
    )


@router.post("/{case_id}/escalation", summary="Escalate under the Meldcode")
def escalate(
    body: EscalationIn,
    case: CoordinatedCase,
    version: ExpectedVersion,
    ctx: CommandContext,
    services: ServicesDep,
    response: Response,
) -> CommandOut:
    cmd = c.Escalate(
        case_id=case.id,
        expected_version=version,
        meldcode_step=body.meldcode_step,
        legal_basis=body.legal_basis,
        justification=body.justification,
    )
    return _run(services, response, "escalate", lambda: services.referrals.escalate(cmd, ctx))


@router.post("/{case_id}/closure", summary="Close the case with its outcome")
def close_case(
    body: ClosureIn,
    case: CoordinatedCase,
    version: ExpectedVersion,
    ctx: CommandContext,
    services: ServicesDep,
    response: Response,
) -> CommandOut:
    cmd = c.Close(
        case_id=case.id,
        expected_version=version,
        outcome=Outcome(body.outcome),
        reason=body.reason,
    )
    return _run(services, response, "close_case", lambda: services.referrals.close_case(cmd, ctx))


# Shared with the routers of further commands on a case (``routers.after_match`` and others).
run_command = _run
