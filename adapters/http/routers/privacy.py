"""Erasure of a family's personal details (crypto-shredding), for the Knooppunt's admin."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request

from adapters.http.context import AttemptDep, ServicesDep, audited, require
from adapters.http.problems import NotFoundError, problem_responses
from adapters.http.schemas.commands import CommandOut
from domain.errors import CaseNotFoundError
from domain.personal_data import ErasureReason
from domain.referral import Referral
from domain.values import Actor, ActorRole
from ks_engine import commands as c
from ks_engine.access_log import AccessAction
from ks_engine.principals import Principal, Role

router = APIRouter(
    prefix="/cases",
    tags=["privacy"],
    dependencies=[audited(AccessAction.DELETE)],
    responses=problem_responses(401, 403, 404),
)

Admin = Annotated[Principal, require(Role.ADMIN)]


def _case(case_id: UUID, principal: Admin, services: ServicesDep, attempt: AttemptDep) -> Referral:
    try:
        case = services.referrals.get_case(case_id)
    except CaseNotFoundError:
        raise NotFoundError("there is no such case") from None
    if attempt is not None:
        attempt.touches(case)
    return case


@router.post(
    "/{case_id}/erasure",
    summary="Erase the person's details on a case (the family's request; admin only)",
    description="Records PersonalDataErased, destroys the case's data key and removes the "
    "person from the matching index: the details can never be read again, the history still "
    "verifies, and a new signal about the person opens a new case. Repeating it changes "
    "nothing.",
)
def erase(
    case: Annotated[Referral, Depends(_case)],
    principal: Admin,
    request: Request,
    services: ServicesDep,
) -> CommandOut:
    actor = Actor(organisation=principal.organisation, role=ActorRole.ADMIN, user_ref=principal.id)
    ctx = c.Context(actor=actor, causation_id=f"http:{request.state.request_id}")
    result = services.referrals.erase_personal_data(case.id, ctx, ErasureReason.REQUEST)
    return CommandOut(case_id=result.case_id, version=result.version, position=result.position)
