"""The privacy officer's page of a case (*rechten van het gezin*): restriction, retraction of
a signal about the wrong person and correction of the personal details (AVG art. 16, 18, 21),
and the family's access request (art. 15) from a BSN typed into a form (never in a URL).

The page shows the case's process fields only (the reader policy's row for the privacy
officer): its state, its signals by number, day, reporter and phase, what was retracted and
corrected, never a personal detail. Each form runs the same command as the API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import TypeAdapter, ValidationError

from adapters.http.access import load_visible_case
from adapters.http.context import AttemptDep, ServicesDep, audited
from adapters.http.dashboard.access_report import PAGE_HEADERS, render_access_report
from adapters.http.dashboard.forms import Form, many, one
from adapters.http.dashboard.labels import DONE
from adapters.http.dashboard.messages import invalid_fields, refusal
from adapters.http.dashboard.render import page, redirect
from adapters.http.dashboard.session import PREFIX, FormData, PageError, for_roles
from adapters.http.problems import NotFoundError
from adapters.http.routers.access_requests import answer_access_request
from domain.correction import RetractionReason
from domain.errors import DomainError
from domain.referral import Referral
from domain.restriction import RestrictionBasis
from domain.values import Actor, ActorRole, Bsn
from ks_engine import commands as c
from ks_engine.access_log import AccessAction
from ks_engine.application import CommandResult, Referrals
from ks_engine.principals import Principal, Role

router = APIRouter(prefix=f"{PREFIX}/rechten", include_in_schema=False)
PrivacyOfficer = Annotated[Principal, for_roles(Role.PRIVACY_OFFICER)]
_BSN: TypeAdapter[str] = TypeAdapter(Bsn)
NOT_FOUND = "Deze casus bestaat niet of valt niet onder de gemeenten waarvoor u werkt."

REASONS = {
    RetractionReason.WRONG_PERSON: "Ging over een andere persoon (verkeerd BSN)",
    RetractionReason.SENT_IN_ERROR: "Per vergissing verstuurd",
}
BASES = {
    RestrictionBasis.ACCURACY_CONTESTED: "Juistheid betwist (art. 18 lid 1 a)",
    RestrictionBasis.UNLAWFUL: "Onrechtmatige verwerking (art. 18 lid 1 b)",
    RestrictionBasis.LEGAL_CLAIM: "Nodig voor een rechtsvordering (art. 18 lid 1 c)",
    RestrictionBasis.OBJECTION: "Bezwaar gemaakt (art. 18 lid 1 d, art. 21)",
}
FIELDS = {
    "name": "Naam",
    "birth_date": "Geboortedatum",
    "phone": "Telefoon",
    "address": "Adres",
    "note": "Toelichting van de melder",
}


def _retraction(app: Referrals, case_id: UUID, version: int, form: Form) -> Any:
    number = one(form, "signal_number")
    fields = {"case_id": case_id, "expected_version": version, "reason": one(form, "reason")}
    return app.retract_signal, c.RetractSignal.model_validate(fields | {"signal_number": number})


def _correction(app: Referrals, case_id: UUID, version: int, form: Form) -> Any:
    given = {k: one(form, k) for k in ("name", "birth_date", "phone", "address") if one(form, k)}
    fields = {"case_id": case_id, "expected_version": version, "remove": many(form, "remove")}
    return app.correct_personal_details, c.CorrectPersonalDetails.model_validate(fields | given)


def _restriction(app: Referrals, case_id: UUID, version: int, form: Form) -> Any:
    fields = {"case_id": case_id, "expected_version": version, "basis": one(form, "basis")}
    return app.restrict_processing, c.Restrict.model_validate(fields)


def _lifting(app: Referrals, case_id: UUID, version: int, form: Form) -> Any:
    fields = {"case_id": case_id, "expected_version": version}
    return app.lift_restriction, c.LiftRestriction.model_validate(fields)


Prepared = Callable[[Referrals, UUID, int, Form], tuple[Callable[..., CommandResult], Any]]
COMMANDS: dict[str, Prepared] = {
    "retraction": _retraction,
    "correction": _correction,
    "restriction": _restriction,
    "restriction-lifting": _lifting,
}


def _overseen(
    case_id: str, principal: Principal, services: ServicesDep, attempt: AttemptDep
) -> Referral:
    try:
        return load_visible_case(UUID(case_id), principal, services, attempt)
    except (ValueError, NotFoundError):
        raise PageError(404, "Casus niet gevonden", NOT_FOUND) from None


def _render(
    request: Request,
    case: Referral,
    *,
    done: str | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    signals = [
        {
            "number": n,
            "at": s["at"],
            "reporter": s["reporter"]["organisation"],
            "role": s["reporter"]["role"],
            "phase": s["phase"],
        }
        for n, s in enumerate(case.signals, start=1)
    ]
    context = {
        "case_id": str(case.id),
        "state": case.state.value,
        "version": case.version,
        "municipality": case.municipality,
        "signals": signals,
        "retractions": case.retractions,
        "restriction": case.restriction,
        "erased": case.personal_erased is not None,
        "reasons": REASONS,
        "bases": BASES,
        "fields": FIELDS,
        "done": DONE.get(done or ""),
        "message": message,
    }
    return page(request, "rights.html", context, status=status)


@router.get("", dependencies=[audited(AccessAction.READ)])
def find(
    request: Request,
    principal: PrivacyOfficer,
    services: ServicesDep,
    casus: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """Open a case of your municipalities by its number."""
    message = None
    if casus.strip():
        found = services.referrals.search_cases(list(principal.municipalities), number=casus)
        if len(found) == 1:
            return redirect(f"{PREFIX}/rechten/{found[0].id}")
        message = "Geen casus met dit nummer in de gemeenten waarvoor u werkt."
    return page(request, "rights_find.html", {"message": message, "casus": casus})


@router.post("/inzage", dependencies=[audited(AccessAction.READ_PERSONAL_DATA)])
async def access_request(
    request: Request,
    principal: PrivacyOfficer,
    form: FormData,
    services: ServicesDep,
    attempt: AttemptDep,
) -> Response:
    """The family's access request (AVG art. 15): the printable report for a BSN."""
    try:
        bsn = _BSN.validate_python(one(form, "bsn").replace(" ", ""))
    except ValidationError:
        message = (
            "Dit is geen geldig BSN (negen cijfers die de elfproef doorstaan). "
            "Het ingevulde nummer is niet bewaard."
        )
        return page(request, "rights_find.html", {"message": message, "casus": ""}, status=422)
    report = await answer_access_request(services, request, principal, bsn, attempt)
    return HTMLResponse(render_access_report(report), headers=PAGE_HEADERS)


@router.get("/{case_id}", dependencies=[audited(AccessAction.READ)])
def case_rights(
    request: Request,
    case_id: str,
    principal: PrivacyOfficer,
    services: ServicesDep,
    attempt: AttemptDep,
    gedaan: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    case = _overseen(case_id, principal, services, attempt)
    return _render(request, case, done=gedaan)


@router.post("/{case_id}/{action}", dependencies=[audited(AccessAction.UPDATE)])
async def act(
    request: Request,
    case_id: str,
    action: str,
    principal: PrivacyOfficer,
    form: FormData,
    services: ServicesDep,
    attempt: AttemptDep,
) -> Response:
    """Run one of the page's forms as the privacy officer's command."""
    case = _overseen(case_id, principal, services, attempt)
    prepare = COMMANDS.get(action)
    if prepare is None:
        raise PageError(404, "Onbekende actie", "Deze actie bestaat niet op deze pagina.")
    if attempt is not None:
        attempt.object = f"POST {PREFIX}/rechten/{{case_id}}/{action}"
    version = one(form, "version")
    actor = Actor(
        organisation=principal.organisation, role=ActorRole.PRIVACY_OFFICER, user_ref=principal.id
    )
    ctx = c.Context(actor=actor, causation_id=f"dashboard:{request.state.request_id}")
    try:
        expected = int(version) if version.isdigit() else 0
        run, cmd = prepare(services.referrals, case.id, expected, form)
        await run_in_threadpool(run, cmd, ctx)
    except ValidationError as exc:
        return _render(request, case, message=invalid_fields(exc), status=422)
    except DomainError as exc:
        current = await run_in_threadpool(services.referrals.get_case, case.id)
        return _render(request, current, message=refusal(exc), status=409)
    return redirect(f"{PREFIX}/rechten/{case.id}?gedaan={action}")
