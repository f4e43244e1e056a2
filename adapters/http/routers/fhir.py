"""A case as an HL7 FHIR R4 Bundle, under the same access rules and consent scope as the JSON."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool

from adapters.fhir.case_bundle import Reader, case_bundle
from adapters.http.access import load_visible_case, reader_of
from adapters.http.context import AttemptDep, ServicesDep, audited, require
from adapters.http.problems import problem_responses
from domain.reader_policy import SEES
from ks_engine.access_log import AccessAction, AccessQuery
from ks_engine.principals import Principal, Role

router = APIRouter(
    prefix="/cases",
    tags=["cases"],
    dependencies=[audited(AccessAction.READ)],
    responses=problem_responses(401, 403, 404, 422),
)

FHIR_JSON = "application/fhir+json"
READERS = {Role.COORDINATOR: Reader.COORDINATOR, Role.PARTNER: Reader.PARTNER}
MAX_AUDIT_EVENTS = 1000  # the newest; the full log is `ks audit export --format fhir`

FhirReader = Annotated[
    Principal, require(Role.COORDINATOR, Role.PARTNER, Role.AUDITOR, Role.PRIVACY_OFFICER)
]


@router.get(
    "/{case_id}/fhir",
    summary="The case as a FHIR R4 Bundle (ServiceRequest, Consent, Task, CarePlan, ...)",
    response_class=Response,
    responses={200: {"content": {FHIR_JSON: {"schema": {"type": "object"}}}}},
)
async def case_as_fhir(
    case_id: UUID, principal: FhirReader, services: ServicesDep, attempt: AttemptDep
) -> Response:
    """A coordinator gets the whole case, a partner what the family's consent lets it see, an
    auditor the case's process and its access log as AuditEvents. Families appear as
    pseudonymous, case-scoped references."""
    case = load_visible_case(case_id, principal, services, attempt)
    reader = READERS.get(principal.role, Reader.AUDITOR)
    referrals = services.referrals

    def build() -> str:
        events = list(referrals.events.get(case.id)) if reader is not Reader.PARTNER else []
        access = []
        if reader is Reader.AUDITOR:
            query = AccessQuery(case_id=case.id, municipalities=frozenset(principal.municipalities))
            page = services.access_log.find(query, limit=MAX_AUDIT_EVENTS)
            access = page.entries
        bundle = case_bundle(
            case,
            reader=reader,
            events=events,
            access=access,
            today=referrals.clock().date(),
            labels=SEES[reader_of(principal)],
        )
        return bundle.model_dump_json(exclude_none=True)

    return Response(await run_in_threadpool(build), media_type=FHIR_JSON)
