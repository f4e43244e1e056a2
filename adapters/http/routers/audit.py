"""The access log, for auditors: who read or changed which case, when, and with what outcome."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from adapters.http.context import ServicesDep, audited, require
from adapters.http.problems import problem_responses
from adapters.http.schemas.moments import IsoMoment
from ks_engine.access_log import AccessAction, AccessEntry, AccessQuery
from ks_engine.principals import Principal, Role

router = APIRouter(
    prefix="/audit",
    tags=["audit"],
    dependencies=[audited(AccessAction.READ)],
    responses=problem_responses(401, 403, 422),
)

Auditor = Annotated[Principal, require(Role.AUDITOR, Role.PRIVACY_OFFICER)]


class AccessLogOut(BaseModel):
    """A page of access-log entries, oldest first."""

    entries: list[AccessEntry]
    next_cursor: int | None = Field(description="Pass as ?cursor= for the next page.")


@router.get(
    "/access",
    summary="The NEN 7513 access log, by case, principal and period",
    description="Only entries about cases of the municipalities assigned to the auditor or "
    "privacy officer.",
)
async def access_log(
    principal: Auditor,
    services: ServicesDep,
    case_id: Annotated[UUID | None, Query()] = None,
    principal_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[IsoMoment | None, Query(description="From this moment on.")] = None,
    until: Annotated[IsoMoment | None, Query(description="Before this moment.")] = None,
    cursor: Annotated[int, Query(ge=0, description="Position to continue after.")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AccessLogOut:
    query = AccessQuery(
        case_id=case_id,
        principal_id=principal_id,
        since=since,
        until=until,
        municipalities=frozenset(principal.municipalities),
    )
    page = await run_in_threadpool(services.access_log.find, query, after=cursor, limit=limit)
    return AccessLogOut(entries=page.entries, next_cursor=page.next_cursor)
