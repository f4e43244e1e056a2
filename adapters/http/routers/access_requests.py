"""The family's right of access (AVG art. 15), served by the privacy officer.

The BSN travels only in the request's body (never in a URL), is pseudonymised at once and is
neither stored nor logged. The answer is JSON, or a printable Dutch page (``format: html``).
Each case the report covers gets an access-log entry of its own (action ``read personal
data``, purpose ``rights``), beside the request's own entry.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from adapters.http.context import AccessAttempt, AttemptDep, Services, ServicesDep, audited, require
from adapters.http.dashboard.access_report import PAGE_HEADERS, render_access_report
from adapters.http.problems import problem_responses
from domain.values import Bsn
from ks_engine.access_log import AccessAction, AccessOutcome, Purpose
from ks_engine.principals import Principal, Role
from ks_engine.privacy.access_request import AccessReport, access_report

router = APIRouter(
    prefix="/privacy",
    tags=["privacy"],
    dependencies=[audited(AccessAction.READ_PERSONAL_DATA)],
    responses=problem_responses(400, 401, 403, 413, 422),
)

PrivacyOfficer = Annotated[Principal, require(Role.PRIVACY_OFFICER)]


class AccessRequestIn(BaseModel):
    """Whose data: the person's BSN (any household member), and the answer's form."""

    model_config = ConfigDict(extra="forbid")
    bsn: Bsn = Field(description="The person's BSN; only its keyed pseudonym is used.")
    format: Literal["json", "html"] = Field(
        default="json", description="`json`, or `html`: a printable page in Dutch."
    )


class PersonalFieldOut(BaseModel):
    """One field of the person's (or their child's) details."""

    member: str
    member_label: str
    field: str
    field_label: str
    value: str


class PersonalOut(BaseModel):
    """The personal details handed over; ``withheld`` names whose were not (another adult)."""

    status: Literal["present", "erased", "none"]
    erased_on: date | None = None
    fields: list[PersonalFieldOut]
    withheld: list[str]


class EventOut(BaseModel):
    """One step recorded in the case: what, when, by whom, and what it recorded."""

    event: str
    version: int
    occurred_at: datetime
    organisation: str | None
    role: str | None
    details: dict[str, Any]


class AccessOut(BaseModel):
    """One access-log entry about the case: who read or changed it, when and why."""

    occurred_at: datetime
    action: str
    outcome: str
    organisation: str | None
    role: str | None
    purpose: str
    object: str


class NoteOut(BaseModel):
    """One of the coordinators' notes on the case."""

    number: int
    at: datetime
    organisation: str
    text: str


class NotesOut(BaseModel):
    """The coordinators' notes on the case, or that they were erased."""

    status: Literal["present", "erased"]
    notes: list[NoteOut]


class CaseReportOut(BaseModel):
    """What one case records about the person and their household."""

    case_id: UUID
    case_number: str
    municipality: str
    state: str
    role: str = Field(description="The person's place in the household: parent, co_parent, child.")
    opened_at: datetime
    household: list[dict[str, Any]]
    personal_details: PersonalOut
    consent: dict[str, Any] | None
    notes: NotesOut
    events: list[EventOut]
    access_log: list[AccessOut]


class AccessReportOut(BaseModel):
    """Everything recorded about the person in the privacy officer's municipalities."""

    produced_at: datetime
    municipalities: list[str]
    cases: list[CaseReportOut]


def _log_cases(
    services: Services, request: Request, principal: Principal, report: AccessReport
) -> None:
    for case in report.cases:
        found = services.referrals.get_case(case.case_id)
        services.access_log.record(
            action=AccessAction.READ_PERSONAL_DATA,
            outcome=AccessOutcome.ALLOWED,
            principal_id=principal.id,
            role=principal.role.value,
            organisation=principal.organisation,
            purpose=Purpose.RIGHTS,
            source_address=request.client.host if request.client else "unknown",
            request_id=request.state.request_id,
            case_id=found.id,
            person_pseudonym=found.person_pseudonym,
            municipality=found.municipality,
            object=f"{request.method} {request.url.path} (access request, AVG art. 15)",
            status=200,
        )


async def answer_access_request(
    services: Services,
    request: Request,
    principal: Principal,
    bsn: str,
    attempt: AccessAttempt | None,
) -> AccessReport:
    """The report for the person with ``bsn`` over the officer's municipalities, each case
    it covers access-logged with purpose ``rights``; the BSN goes no further than here."""
    if attempt is not None:
        attempt.stated_purpose = Purpose.RIGHTS
    pseudonym = services.pseudonymise(bsn)
    report = await run_in_threadpool(
        access_report,
        services.referrals,
        services.access_log,
        pseudonym,
        list(principal.municipalities),
    )
    await run_in_threadpool(_log_cases, services, request, principal, report)
    if attempt is not None:
        attempt.object = f"{request.method} {request.url.path} ({len(report.cases)} cases found)"
    return report


@router.post(
    "/access-requests",
    summary="Everything recorded about a person and their household (AVG art. 15)",
    description="For the privacy officer, over the cases of their municipalities: the cases' "
    "events, the personal details (the person's own and their children's; another adult's are "
    "withheld), the consent, and who accessed each case and when (the access log). As JSON, or "
    "with `format: html` as a printable Dutch page. The BSN is sent in the body only; each case "
    "reported is an access-log entry with purpose `rights`.",
    response_model=AccessReportOut,
    responses={200: {"content": {"text/html": {}}}},
)
async def access_request(
    body: AccessRequestIn,
    principal: PrivacyOfficer,
    services: ServicesDep,
    attempt: AttemptDep,
    request: Request,
) -> Any:
    report = await answer_access_request(services, request, principal, body.bsn, attempt)
    if body.format == "html":
        return HTMLResponse(render_access_report(report), headers=PAGE_HEADERS)
    out = AccessReportOut.model_validate(report.as_json())
    return JSONResponse(out.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
