"""Moving house: a coordinator asks another municipality's Knooppunt to take a case over; a
coordinator there accepts or refuses it, having seen only the request until then."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from adapters.http.access import CoordinatedCase
from adapters.http.case_command import command_out
from adapters.http.context import (
    AttemptDep,
    Coordinator,
    ServicesDep,
    audited,
    get_read_models,
)
from adapters.http.problems import NotFoundError, problem_responses
from adapters.http.routers.commands import CommandContext, ExpectedVersion
from adapters.http.schemas.commands import CommandOut
from domain.errors import CaseNotFoundError
from domain.referral import Referral
from domain.transfer import TransferBasis, TransferConsent
from domain.values import MunicipalityCode
from ks_engine import commands as c
from ks_engine.access_log import AccessAction

router = APIRouter(
    tags=["commands"],
    dependencies=[audited(AccessAction.UPDATE)],
    responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 422, 428),
)


def _incoming_case(
    case_id: UUID, principal: Coordinator, services: ServicesDep, attempt: AttemptDep
) -> Referral:
    """A case whose transfer was asked of one of the principal's municipalities."""
    try:
        case = services.referrals.get_case(case_id)
    except CaseNotFoundError:
        raise NotFoundError("there is no such case") from None
    if attempt is not None:
        attempt.touches(case)
    asked = case.transfer_request
    if asked is None or not principal.serves(asked["to_municipality"]):
        if attempt is not None:
            attempt.hidden = True
        raise NotFoundError("there is no transfer of this case asked of your municipality")
    return case


IncomingCase = Annotated[Referral, Depends(_incoming_case)]


class TransferIn(BaseModel):
    """Where the family moved to, and on what basis the case may go along."""

    model_config = ConfigDict(extra="forbid")
    to_municipality: MunicipalityCode = Field(
        description="CBS code of the municipality the family moved to; it must run a "
        "Knooppunt in the region (ks_engine/data/region-zuid-limburg.yaml or KS_REGION_PATH)."
    )
    basis: TransferBasis = Field(
        description="family_consent (the family agreed: `consent` says who, how and when) or "
        "meldcode (the case was escalated under the Meldcode)."
    )
    consent: TransferConsent | None = None


@router.post(
    "/cases/{case_id}/transfer",
    summary="Ask another municipality's Knooppunt to take the case over (the family moved)",
    description="`TransferRequested`. The receiving coordinators see the request "
    "(`GET /transfers`), not the case, until they accept it.",
)
def request_transfer(
    body: TransferIn,
    case: CoordinatedCase,
    version: ExpectedVersion,
    ctx: CommandContext,
    services: ServicesDep,
    response: Response,
) -> CommandOut:
    cmd = c.RequestTransfer(case_id=case.id, expected_version=version, **body.model_dump())
    return command_out(response, services.referrals.request_transfer(cmd, ctx))


@router.post(
    "/cases/{case_id}/transfer-acceptance",
    summary="Accept the transfer: the case goes on here (receiving coordinator)",
    description="`CaseTransferred`: the case, its history and its state move to the receiving "
    "municipality; the family's later signals there join it. The sending municipality keeps "
    "read access to its own part of the history only (`GET /cases/{case_id}/history`).",
)
def accept_transfer(
    case: IncomingCase,
    version: ExpectedVersion,
    ctx: CommandContext,
    services: ServicesDep,
    response: Response,
) -> CommandOut:
    cmd = c.AcceptTransfer(case_id=case.id, expected_version=version)
    return command_out(response, services.referrals.accept_transfer(cmd, ctx))


class RefusalIn(BaseModel):
    """Why the receiving Knooppunt declines (kept in the engine, never published)."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=500)


@router.post(
    "/cases/{case_id}/transfer-refusal",
    summary="Refuse the transfer: the case stays where it is (receiving coordinator)",
)
def refuse_transfer(
    body: RefusalIn,
    case: IncomingCase,
    version: ExpectedVersion,
    ctx: CommandContext,
    services: ServicesDep,
    response: Response,
) -> CommandOut:
    cmd = c.RefuseTransfer(case_id=case.id, expected_version=version, reason=body.reason)
    return command_out(response, services.referrals.refuse_transfer(cmd, ctx))


class IncomingTransferOut(BaseModel):
    """A transfer asked of your Knooppunt: the case, from where, on what basis, since when."""

    case_id: str
    from_municipality: str
    to_municipality: str
    basis: str
    requested_at: datetime
    version: int = Field(description="Send it as If-Match with the acceptance or refusal.")


listing = APIRouter(
    tags=["cases"],
    dependencies=[audited(AccessAction.READ)],
    responses=problem_responses(401, 403, 503),
)


@listing.get(
    "/transfers",
    summary="Transfers asked of your municipalities, waiting for your answer, oldest first",
)
async def incoming(principal: Coordinator, services: ServicesDep) -> list[IncomingTransferOut]:
    views = get_read_models(services)
    found = await run_in_threadpool(views.transfers.waiting, list(principal.municipalities))
    return [IncomingTransferOut.model_validate(t.model_dump()) for t in found]
