"""Coordinators' household commands: record a birth, merge two cases of one household."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from adapters.http.case_command import CaseCommandDep
from adapters.http.context import audited
from adapters.http.problems import NotFoundError, problem_responses
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
def record_birth(body: BirthIn, call: CaseCommandDep) -> CommandOut:
    return call.run(
        call.referrals.record_birth,
        c.RecordBirth(
            case_id=call.case.id,
            expected_version=call.version,
            child_pseudonym=call.services.pseudonymise(body.bsn),
            birth_date=body.birth_date,
            name=body.name,
        ),
    )


@router.post(
    "/{case_id}/merge",
    summary="Merge another open case of the same household into this one (CasesMerged on both)",
    description="This case stays open and takes in the other's members and signals; the other "
    "closes with outcome `merged`, its history kept. Both must be in your remit.",
)
def merge_cases(body: MergeIn, call: CaseCommandDep) -> CommandOut:
    try:
        other = call.referrals.get_case(body.other_case_id)
    except CaseNotFoundError:
        raise NotFoundError("there is no such other case") from None
    if other.municipality != call.case.municipality:  # outside the remit looks like missing
        raise NotFoundError("there is no such other case")
    return call.run(
        call.referrals.merge_cases,
        c.MergeCases(case_id=call.case.id, expected_version=call.version, other_case_id=other.id),
    )
