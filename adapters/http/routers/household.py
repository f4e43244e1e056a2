"""Coordinators' household commands: record a birth, merge two cases of one household."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from adapters.http.access import CoordinatedCase
from adapters.http.context import ServicesDep, audited
from adapters.http.problems import NotFoundError, problem_responses
from adapters.http.routers.commands import CommandContext, ExpectedVersion, _run
from adapters.http.schemas.commands import CommandOut
from domain.errors import CaseNotFoundError
from domain.values import Bsn
from ks_engine import commands as c
from ks_engine.access_log import AccessAction

router = APIRouter(
    prefix="/cases",
    tags=["commands"],
    dependencies=[audited(AccessAction.UPDATE)],
    responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 422, 428),
)


class BirthIn(BaseModel):
    """The expected child was born: the child's BSN (pseudonymised at once) and birth date."""

    model_config = ConfigDict(extra="forbid")
    bsn: Bsn = Field(description="The child's BSN; only its keyed pseudonym is kept.")
    birth_date: date
    name: str | None = Field(default=None, max_length=200)


class MergeIn(BaseModel):
    """The other open case of the same household, to be taken into this one."""

    model_config = ConfigDict(extra="forbid")
    other_case_id: UUID


@router.post(
    "/{case_id}/birth",
    summary="Record the birth of the expected child (ChildBorn); its BSN then finds the case",
)
def record_birth(
    body: BirthIn,
    case: CoordinatedCase,
    version: ExpectedVersion,
    ctx: CommandContext,
    services: ServicesDep,
    response: Response,
) -> CommandOut:
    cmd = c.RecordBirth(
        case_id=case.id,
        expected_version=version,
        child_pseudonym=services.pseudonymise(body.bsn),
        birth_date=body.birth_date,
        name=body.name,
    )
    return _run(
        services, response, "record_birth", lambda: services.referrals.record_birth(cmd, ctx)
    )


@router.post(
    "/{case_id}/merge",
    summary="Merge another open case of the same household into this one (CasesMerged on both)",
    description="This case stays open and takes in the other's members and signals; the other "
    "closes with outcome `merged`, its history kept. Both must be in your remit.",
)
def merge_cases(
    body: MergeIn,
    case: CoordinatedCase,
    version: ExpectedVersion,
    ctx: CommandContext,
    services: ServicesDep,
    response: Response,
) -> CommandOut:
    try:
        other = services.referrals.get_case(body.other_case_id)
    except CaseNotFoundError:
        raise NotFoundError("there is no such other case") from None
    if other.municipality != case.municipality:  # outside the remit looks like missing
        raise NotFoundError("there is no such other case")
    cmd = c.MergeCases(case_id=case.id, expected_version=version, other_case_id=other.id)
    return _run(services, response, "merge_cases", lambda: services.referrals.merge_cases(cmd, ctx))
