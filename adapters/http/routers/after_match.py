"""Commands after the match: support started (coordinator or providing partner), evaluation,
reopening of a recently closed case as a linked follow-up case."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from adapters.http.access import load_visible_case
from adapters.http.case_command import CaseCommandDep, ExpectedVersion, run_command
from adapters.http.context import AttemptDep, ServicesDep, audited, require
from adapters.http.problems import NotFoundError, problem_responses
from adapters.http.schemas.after_match import (
    EvaluationIn,
    ExtensionIn,
    ReopeningIn,
    ResumptionIn,
    SupportStartIn,
    SuspensionIn,
)
from adapters.http.schemas.commands import CommandOut
from domain.errors import CaseNotFoundError
from domain.referral import Referral
from domain.values import Actor, ActorRole
from ks_engine import commands as c
from ks_engine.access_log import AccessAction
from ks_engine.principals import Principal, Role

router = APIRouter(
    prefix="/cases",
    tags=["commands"],
    dependencies=[audited(AccessAction.UPDATE)],
    responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 422, 428),
)


def provider_may_confirm(case: Referral, principal: Principal, services: ServicesDep) -> bool:
    """A partner the family's active consent names may confirm that its support started."""
    today = services.referrals.clock().date()
    consent = case.consent
    return (
        principal.role is Role.PARTNER
        and consent is not None
        and case.consent_is_active(today)
        and principal.organisation in consent["scope"]
    )


def _starting_case(
    case_id: UUID,
    principal: Annotated[Principal, require(Role.COORDINATOR, Role.PARTNER)],
    services: ServicesDep,
    attempt: AttemptDep,
) -> tuple[Referral, Principal]:
    if principal.role is Role.COORDINATOR:
        return load_visible_case(case_id, principal, services, attempt), principal
    try:
        case = services.referrals.get_case(case_id)
    except CaseNotFoundError:
        raise NotFoundError("there is no such case") from None
    if attempt is not None:
        attempt.touches(case)
    if not provider_may_confirm(case, principal, services):
        if attempt is not None:
            attempt.hidden = True
        raise NotFoundError("there is no such case")
    return case, principal


@router.post(
    "/{case_id}/support-start",
    summary="Record that the matched support started (coordinator or providing partner)",
)
def start_support(
    body: SupportStartIn,
    found: Annotated[tuple[Referral, Principal], Depends(_starting_case)],
    version: ExpectedVersion,
    request: Request,
    services: ServicesDep,
    response: Response,
) -> CommandOut:
    case, principal = found
    role = ActorRole.COORDINATOR if principal.role is Role.COORDINATOR else ActorRole.PARTNER
    ctx = c.Context(
        actor=Actor(organisation=principal.organisation, role=role, user_ref=principal.id),
        causation_id=f"http:{request.state.request_id}",
    )
    cmd = c.StartSupport(
        case_id=case.id,
        expected_version=version,
        on=body.on,
        lead_professional=body.lead_professional,
    )
    return run_command(
        services, response, "start_support", lambda: services.referrals.start_support(cmd, ctx)
    )


@router.post("/{case_id}/evaluation", summary="Record the evaluation of the support")
def record_evaluation(body: EvaluationIn, call: CaseCommandDep) -> CommandOut:
    return call.run(
        call.referrals.record_evaluation,
        c.RecordEvaluation(
            case_id=call.case.id,
            expected_version=call.version,
            on=body.on,
            needs=body.needs,
            scores=body.scores,
            next_step=body.next_step,
        ),
    )


@router.post(
    "/{case_id}/reopening",
    summary="Reopen a recently closed case as a linked follow-up case",
    status_code=201,
)
def reopen_case(body: ReopeningIn, call: CaseCommandDep) -> CommandOut:
    out = call.run(
        call.referrals.reopen_case, c.Reopen(case_id=call.case.id, expected_version=call.version)
    )
    call.response.headers["Location"] = f"/cases/{out.case_id}"
    return out


@router.post("/{case_id}/suspension", summary="Suspend the running deadline (opschorten)")
def suspend_deadline(body: SuspensionIn, call: CaseCommandDep) -> CommandOut:
    return call.run(
        call.referrals.suspend_deadline,
        c.SuspendDeadline(
            case_id=call.case.id,
            expected_version=call.version,
            reason=body.reason,
            until=body.until,
        ),
    )


@router.post("/{case_id}/resumption", summary="Resume the suspended deadline from today")
def resume_deadline(body: ResumptionIn, call: CaseCommandDep) -> CommandOut:
    return call.run(
        call.referrals.resume_deadline,
        c.ResumeDeadline(case_id=call.case.id, expected_version=call.version),
    )


@router.post("/{case_id}/extension", summary="Extend the deadline of the current step (verlengen)")
def extend_deadline(body: ExtensionIn, call: CaseCommandDep) -> CommandOut:
    return call.run(
        call.referrals.extend_deadline,
        c.ExtendDeadline(
            case_id=call.case.id, expected_version=call.version, reason=body.reason, due=body.due
        ),
    )
