"""Search for a case: POST /cases/search with a JSON body (never a BSN in a URL or a log)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.http.context import AttemptDep, Coordinator, ServicesDep, audited
from adapters.http.problems import problem_responses
from domain.case_lookup import case_number
from domain.values import Bsn
from ks_engine.access_log import AccessAction

router = APIRouter(
    prefix="/cases",
    tags=["cases"],
    dependencies=[audited(AccessAction.READ)],
    responses=problem_responses(400, 401, 403, 422),
)


class CaseSearchIn(BaseModel):
    """One way of finding a case: a BSN, a case number, or a family name with a birth date."""

    model_config = ConfigDict(extra="forbid")
    bsn: Bsn | None = Field(default=None, description="Of any household member (exact).")
    case_number: str | None = Field(
        default=None,
        pattern=r"^[0-9a-fA-F-]{8,36}$",
        description="The short number the dashboard shows (8 characters) or the full id.",
    )
    family_name: str | None = Field(default=None, min_length=1, max_length=200)
    birth_date: date | None = None

    @model_validator(mode="after")
    def _one_way(self) -> CaseSearchIn:
        ways = [self.bsn is not None, self.case_number is not None, self.family_name is not None]
        if sum(ways) != 1:
            raise ValueError("search by bsn, by case_number, or by family_name with birth_date")
        if (self.family_name is None) != (self.birth_date is None):
            raise ValueError("family_name and birth_date go together")
        return self

    @property
    def kind(self) -> Literal["bsn", "case_number", "name"]:
        if self.bsn is not None:
            return "bsn"
        return "case_number" if self.case_number is not None else "name"


class FoundCase(BaseModel):
    """A case the search found: codes and dates only."""

    case_id: UUID
    case_number: str
    municipality: str
    state: str
    signalled_at: datetime
    outcome: str | None = None


class CaseSearchOut(BaseModel):
    """The cases found in your municipalities, newest first (none outside them)."""

    items: list[FoundCase]


@router.post(
    "/search",
    summary="Find open and closed cases of your municipalities (access-logged)",
    description="By a household member's `bsn` (through its pseudonym), by `case_number`, or "
    "by `family_name` and `birth_date` (through a keyed blind index). Outside your "
    "municipalities nothing is found. The access log records the kind of search, never the "
    "values searched for.",
)
async def search_cases(
    body: CaseSearchIn, principal: Coordinator, services: ServicesDep, attempt: AttemptDep
) -> CaseSearchOut:
    app = services.referrals
    municipalities = list(principal.municipalities)
    pseudonym = services.pseudonymise(body.bsn) if body.bsn is not None else None
    found = await run_in_threadpool(
        lambda: app.search_cases(
            municipalities,
            pseudonym=pseudonym,
            number=body.case_number,
            family_name=body.family_name,
            birth_date=body.birth_date,
        )
    )
    if attempt is not None:
        attempt.object = f"POST /cases/search by {body.kind} ({len(found)} found)"
        if len(found) == 1:
            attempt.touches(found[0])
    return CaseSearchOut(
        items=[
            FoundCase(
                case_id=c.id,
                case_number=case_number(c.id),
                municipality=c.municipality,
                state=c.state.value,
                signalled_at=c.signalled_at,
                outcome=c.outcome["code"] if c.outcome else None,
            )
            for c in found
        ]
    )


@router.api_route("/search", methods=["GET", "PUT", "PATCH", "DELETE"], include_in_schema=False)
async def search_takes_only_post() -> None:
    """Searching is a POST (the searched values stay out of URLs); without this route a GET
    would be taken for ``GET /cases/{case_id}`` and answered as a malformed case id."""
    raise StarletteHTTPException(405)
