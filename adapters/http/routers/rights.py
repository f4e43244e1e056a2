"""The family's rights on a case, served by the privacy officer: restriction (AVG art. 18/21)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from adapters.http.access import load_visible_case
from adapters.http.context import AttemptDep, ServicesDep, audited, require
from adapters.http.problems import problem_responses
from adapters.http.schemas.commands import CommandOut
from domain.referral import Referral
from domain.restriction import RestrictionBasis
from domain.values import Actor, ActorRole
from ks_engine import commands as c
from ks_engine.access_log import AccessAction
from ks_engine.principals import Principal, Role

router = APIRouter(
    prefix="/cases",
    tags=["privacy"],
    dependencies=[audited(AccessAction.UPDATE)],
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)

PrivacyOfficer = Annotated[Principal, require(Role.PRIVACY_OFFICER)]


def _case(
    case_id: UUID, principal: PrivacyOfficer, services: ServicesDep, attempt: AttemptDep
) -> Referral:
    return load_visible_case(case_id, principal, services, attempt)


OverseenCase = Annotated[Referral, Depends(_case)]


def _context(request: Request, principal: PrivacyOfficer) -> c.Context:
    actor = Actor(
        organisation=principal.organisation, role=ActorRole.PRIVACY_OFFICER, user_ref=principal.id
    )
    return c.Context(actor=actor, causation_id=f"http:{request.state.request_id}")


RightsContext = Annotated[c.Context, Depends(_context)]


class RestrictionIn(BaseModel):
    """Why processing is restricted: the article the family invoked."""

    model_config = ConfigDict(extra="forbid")
    basis: RestrictionBasis = Field(
        description="accuracy_contested, unlawful, legal_claim (art. 18(1)a-c) or objection "
        "(art. 18(1)d, art. 21)."
    )


def _out(response: Response, result: object) -> CommandOut:
    out = CommandOut.model_validate(result, from_attributes=True)
    response.headers["ETag"] = f'"{out.version}"'
    return out


@router.post(
    "/{case_id}/restriction",
    summary="Restrict processing of the case (AVG art. 18/21; privacy officer)",
    description="The case is kept, but every command on it is refused (409, state "
    "`restricted`) until the restriction is lifted; the work queue shows it as restricted.",
)
def restrict(
    body: RestrictionIn,
    case: OverseenCase,
    ctx: RightsContext,
    services: ServicesDep,
    response: Response,
) -> CommandOut:
    cmd = c.Restrict(case_id=case.id, basis=body.basis)
    return _out(response, services.referrals.restrict_processing(cmd, ctx))


@router.post(
    "/{case_id}/restriction-lifting",
    summary="Lift the restriction: the case goes on where it stood (privacy officer)",
)
def lift(
    case: OverseenCase, ctx: RightsContext, services: ServicesDep, response: Response
) -> CommandOut:
    cmd = c.LiftRestriction(case_id=case.id)
    return _out(response, services.referrals.lift_restriction(cmd, ctx))
