"""Coordinators' commands on a case: consent, discussion, support, escalation, closure."""

from __future__ import annotations

from fastapi import APIRouter

from adapters.http.case_command import (
    CaseCommandDep,
    CommandContext,
    ExpectedVersion,
    run_command,
)
from adapters.http.context import audited
from adapters.http.problems import problem_responses
from adapters.http.schemas.commands import (
    ClosureIn,
    CommandOut,
    ConsentIn,
    DiscussionIn,
    EscalationIn,
    SupportMatchIn,
)
from adapters.http.schemas.consent import consent_record
from domain.values import Outcome
from ks_engine import commands as c
from ks_engine.access_log import AccessAction

router = APIRouter(
    prefix="/cases",
    tags=["commands"],
    dependencies=[audited(AccessAction.UPDATE)],
    responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 422, 428),
)


@router.post("/{case_id}/consent-request", summary="Record that the family was asked for consent")
def request_consent(call: CaseCommandDep) -> CommandOut:
    return call.run(
        call.referrals.request_consent,
        c.RequestConsent(case_id=call.case.id, expected_version=call.version),
    )


@router.post("/{case_id}/consent", summary="Record the family's consent: given or declined")
def record_consent(body: ConsentIn, call: CaseCommandDep) -> CommandOut:
    return call.run(
        call.referrals.record_consent,
        c.RecordConsent(
            case_id=call.case.id,
            expected_version=call.version,
            given=body.decision == "given",
            scope=body.scope,
            expires_on=body.expires_on,
            record=consent_record(body, call.referrals.clock().date()),
        ),
    )


@router.post("/{case_id}/consent-withdrawal", summary="Record that the family withdrew consent")
def withdraw_consent(call: CaseCommandDep) -> CommandOut:
    return call.run(
        call.referrals.withdraw_consent,
        c.WithdrawConsent(case_id=call.case.id, expected_version=call.version),
    )


@router.post("/{case_id}/discussion", summary="Record the case discussion at the Knooppunt")
def record_discussion(body: DiscussionIn, call: CaseCommandDep) -> CommandOut:
    return call.run(
        call.referrals.record_discussion,
        c.RecordDiscussion(
            case_id=call.case.id,
            expected_version=call.version,
            on=body.on,
            participants=body.participants,
            scores=body.scores,
            needs=body.needs,
        ),
    )


@router.post("/{case_id}/support-match", summary="Record the support matched from the menukaart")
def match_support(body: SupportMatchIn, call: CaseCommandDep) -> CommandOut:
    return call.run(
        call.referrals.match_support,
        c.MatchSupport(
            case_id=call.case.id,
            expected_version=call.version,
            offer_ids=body.offer_ids,
            lead_professional=body.lead_professional,
            planned_start=body.planned_start,
        ),
    )


@router.post("/{case_id}/escalation", summary="Escalate under the Meldcode")
def escalate(body: EscalationIn, call: CaseCommandDep) -> CommandOut:
    return call.run(
        call.referrals.escalate,
        c.Escalate(
            case_id=call.case.id,
            expected_version=call.version,
            meldcode_step=body.meldcode_step,
            legal_basis=body.legal_basis,
            justification=body.justification,
            organisations=body.organisations,
            purpose=body.purpose,
        ),
    )


@router.post("/{case_id}/closure", summary="Close the case with its outcome")
def close_case(body: ClosureIn, call: CaseCommandDep) -> CommandOut:
    return call.run(
        call.referrals.close_case,
        c.Close(
            case_id=call.case.id,
            expected_version=call.version,
            outcome=Outcome(body.outcome),
            reason=body.reason,
        ),
    )


# Older names, kept for routers that still import them from here.
_run = run_command
__all__ = ["CommandContext", "ExpectedVersion", "router", "run_command"]
