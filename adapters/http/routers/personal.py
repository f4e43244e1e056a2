"""The family's personal details, opened on request with a stated purpose (access-logged)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from adapters.http.access import CoordinatedCase
from adapters.http.context import AttemptDep, ServicesDep, audited
from adapters.http.personal_reads import open_sealed
from adapters.http.problems import problem_responses
from ks_engine.access_log import AccessAction, PersonalDataPurpose
from ks_engine.personal_details import labelled_fields

router = APIRouter(
    prefix="/cases",
    tags=["cases"],
    dependencies=[audited(AccessAction.READ_PERSONAL_DATA)],
    responses=problem_responses(401, 403, 404, 422),
)


class PersonalFieldOut(BaseModel):
    """One field of the household's personal details, with its label and readers."""

    member: str
    member_label: str
    field: str
    field_label: str
    value: str
    confidentiality: str
    readers: list[str]


class PersonalDetailsOut(BaseModel):
    """The household's personal details: present, erased, or none recorded."""

    case_id: UUID
    purpose: PersonalDataPurpose
    status: Literal["present", "erased", "none"]
    erased_on: date | None = None
    fields: list[PersonalFieldOut]


@router.get(
    "/{case_id}/personal",
    summary="The household's personal details, for a stated purpose (access-logged)",
    description="Names, birth dates, phone numbers, addresses and the reporter's note, for "
    "the case's coordinator only. Every opening is an access-log entry with action "
    "`read personal data` and the purpose. The answer is never cached.",
)
async def personal_details(
    case: CoordinatedCase,
    purpose: Annotated[PersonalDataPurpose, Query(description="Why the details are opened.")],
    services: ServicesDep,
    attempt: AttemptDep,
    response: Response,
) -> PersonalDetailsOut:
    view = await open_sealed(services.referrals.personal_details, case, purpose, attempt, response)
    return PersonalDetailsOut(
        case_id=case.id,
        purpose=purpose,
        status=view.status,
        erased_on=view.erased_on,
        fields=[
            PersonalFieldOut(**{**vars(f), "readers": list(f.readers)})
            for f in labelled_fields(case, view)
        ],
    )
