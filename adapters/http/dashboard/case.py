"""The case page (*casus*): state, allowed actions as forms, spider chart and timeline."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from adapters.http.access import load_visible_case
from adapters.http.context import AttemptDep, ServicesDep, audited, get_read_models
from adapters.http.dashboard import (
    after_match_forms,
    charts,
    forms,
    owner_forms,
    transfer_forms,
)
from adapters.http.dashboard.household import household_context
from adapters.http.dashboard.labels import DONE
from adapters.http.dashboard.messages import invalid_fields, refusal
from adapters.http.dashboard.render import page, redirect
from adapters.http.dashboard.session import PREFIX, Coordinator, FormData, PageError
from adapters.http.problems import NotFoundError
from adapters.http.routers.cases import without_personal_data
from adapters.http.routers.ownership import check_assignee
from domain import reader_policy
from domain.after_match import CLOSING_RESULTS, NeedResult, NextStep
from domain.deadlines import next_deadline
from domain.errors import DomainError, IllegalTransitionError, VersionConflictError
from domain.escalation import EscalationPurpose
from domain.household import unborn_due_dates
from domain.lifecycle import Action
from domain.reader_policy import Reader
from domain.referral import Referral
from domain.values import Actor, ActorRole, Dimension, MeldcodeStep, Need, Outcome
from ks_engine import commands as c
from ks_engine.access_log import AccessAction, PersonalDataPurpose, Purpose
from ks_engine.principals import Principal

router = APIRouter(prefix=f"{PREFIX}/casus", include_in_schema=False)

WAIT_SECONDS = 5.0
NO_VERSION = (
    "Het formulier zegt niet welke versie van de casus u zag, dus is er niets vastgelegd. "
    "Laad de pagina opnieuw en probeer het nog eens."
)
NOT_FOUND = "Deze casus bestaat niet of valt niet onder de gemeenten waarvoor u werkt."


def visible_case(
    case_id: str, principal: Principal, services: ServicesDep, attempt: AttemptDep
) -> Referral:
    """The case if the principal may see it; the same 404 page for missing and hidden."""
    try:
        uid = UUID(case_id)
    except ValueError:
        raise PageError(404, "Casus niet gevonden", NOT_FOUND) from None
    try:
        return load_visible_case(uid, principal, services, attempt)
    except NotFoundError:
        raise PageError(404, "Casus niet gevonden", NOT_FOUND) from None


async def case_view(
    services: ServicesDep,
    case_id: UUID,
    after: int | None = None,
    reader: Reader = Reader.COORDINATOR,
) -> tuple[dict[str, Any] | None, bool]:
    """The case's read-model document as ``reader`` may see it (never personal data), and
    whether it lags behind."""
    views = get_read_models(services)
    behind = after is not None and not await views.wait_for_async(after, WAIT_SECONDS)
    document = await run_in_threadpool(views.cases.get, case_id)
    if document is None:
        return None, behind
    return reader_policy.case_document(
        without_personal_data(document.model_dump(mode="json")), reader
    ), behind


def catalogue_names(services: ServicesDep) -> dict[str, dict[str, str]]:
    """The names of offers, providers and other organisations, to show instead of their ids."""
    catalogue = services.referrals.catalogue
    return {
        "offers": {s.id: s.name for s in catalogue.services},
        "providers": {o.id: o.name for o in catalogue.organizations},
        "organisations": services.referrals.organisation_names(),
    }


def participants(case: Referral, on: date, services: ServicesDep) -> list[tuple[str, str]]:
    """The organisations that may take part in a discussion on ``on`` (the consent's scope
    and what an escalation names for a discussion), as (ids, name), by name."""
    named = list((case.consent or {}).get("scope", []))
    named += [o for e in case.escalations for o in e.get("organisations") or []]
    ok = [o for o in dict.fromkeys(named) if case.shares_with(o, Action.RECORD_DISCUSSION, on)]
    return services.referrals.organisations_named(ok)


async def render_case(
    request: Request,
    services: ServicesDep,
    case: Referral,
    *,
    after: int | None = None,
    done: str | None = None,
    message: str | None = None,
    status: int = 200,
    typed: forms.Form | None = None,
    invalid: frozenset[str] = frozenset(),
    notes_for: PersonalDataPurpose | None = None,
) -> Response:
    """The case page; after a refused step, with what was typed and the refused fields; with
    the coordinators' notes opened when ``notes_for`` names why (the caller logs it)."""
    view, behind = await case_view(services, case.id, after)
    actions = [a.value for a in case.allowed_actions() if a is not Action.ADD_SIGNAL]
    today = services.referrals.clock().date()
    suggestions = []
    if Action.MATCH_SUPPORT.value in actions:
        ranked = await run_in_threadpool(services.referrals.suggest_support, case.id)
        suggestions = [
            {"s": s, "covered": case.shares_with(s.provider.id, Action.MATCH_SUPPORT, today)}
            for s in ranked
        ]
    discussions = (view or {}).get("discussions", [])
    names = catalogue_names(services)
    context = {
        "typed": {k: list(v) for k, v in (typed or {}).items() if k not in ("csrf", "version")},
        "invalid": invalid,
        "case_id": str(case.id),
        "state": case.state.value,
        "version": case.version,
        "municipality": case.municipality,
        "municipality_name": (
            services.referrals.region.name_of(case.municipality)
            if services.referrals.region
            else case.municipality
        ),
        "view": view,
        "behind": behind,
        "actions": actions,
        "suggestions": suggestions,
        "spider": charts.spider(discussions[-1]["scores"]) if discussions else None,
        "organisations": services.referrals.organisations_for(case),
        "participants": participants(case, today, services),
        "escalation_purposes": list(EscalationPurpose),
        "dimensions": list(Dimension),
        "needs": list(Need),
        "steps": list(MeldcodeStep),
        "outcomes": list(Outcome),
        "today": today.isoformat(),
        "done": DONE.get(done or ""),
        "names": names,
        "message": message,
        **household_context(case, view),
    }
    context |= await run_in_threadpool(after_match_context, services, case)
    context |= owner_forms.ownership_context(services, case, request.state.principal)
    if notes_for is not None:
        opened = await run_in_threadpool(owner_forms.notes_context, services, case, notes_for)
        context["case_notes"] = opened
    return page(request, "case.html", context, status=status)


def lead_professional(case: Referral) -> str | None:
    """The lead professional the case has now: of the support started, else of the last
    match (the coordinator's own record, not published)."""
    if case.support_started:
        return str(case.support_started["lead_professional"])
    return str(case.support[-1]["lead_professional"]) if case.support else None


def after_match_context(services: ServicesDep, case: Referral) -> dict[str, Any]:
    """What the forms and facts after the match need: results, needs found, linked cases."""
    found = [n for n in Need if any(n.value in d["needs"] for d in case.discussions)]
    started = case.support_started
    deadline = next_deadline(case, services.referrals.service_levels)
    today = services.referrals.clock().date()
    return {
        "deadline": deadline,
        "deadline_overdue": (
            deadline is not None and deadline.suspended_until is None and today > deadline.due
        ),
        "closing_results": [Outcome(o) for o in CLOSING_RESULTS],
        "need_results": list(NeedResult),
        "next_steps": list(NextStep),
        "evaluated_needs": found or list(Need),
        "support_started": started,
        "lead_professional": lead_professional(case),
        "due_dates": unborn_due_dates(case),
        "evaluations": list(case.evaluations),
        "earlier_case": services.referrals.earlier_case(case),
        "followed_by": case.followed_by,
        **transfer_context(services, case),
    }


def transfer_context(services: ServicesDep, case: Referral) -> dict[str, Any]:
    """A transfer waiting for its answer, and the region's other Knooppunten to ask."""
    region = services.referrals.region
    asked = case.transfer_request
    knooppunten = region.knooppunten if region else ()
    return {
        "transfer_request": asked,
        "transfer_to_name": region.name_of(asked["to_municipality"]) if region and asked else "",
        "transfer_targets": [
            (m, region.name_of(m) if region else m) for m in knooppunten if m != case.municipality
        ],
    }


@router.get("/{case_id}", dependencies=[audited(AccessAction.READ)])
async def case_page(
    request: Request,
    case_id: str,
    principal: Coordinator,
    services: ServicesDep,
    attempt: AttemptDep,
    na: int | None = None,
    gedaan: str | None = None,
    notities: str | None = None,
) -> Response:
    notes_for = _notes_purpose(notities)
    case = visible_case(case_id, principal, services, attempt)
    if notes_for is not None and attempt is not None:  # reading the notes: logged as such
        attempt.action = AccessAction.READ_PERSONAL_DATA
        attempt.stated_purpose = Purpose(notes_for.value)
    after = na if na is not None and na > 0 else None
    return await render_case(request, services, case, after=after, done=gedaan, notes_for=notes_for)


def _notes_purpose(chosen: str | None) -> PersonalDataPurpose | None:
    """The purpose the coordinator chose to read the notes for; a 422 page for another."""
    if not chosen:
        return None
    try:
        return PersonalDataPurpose(chosen)
    except ValueError:
        raise PageError(422, "Doel ontbreekt", "Kies waarvoor u de notities wilt inzien.") from None


@router.post("/{case_id}/{action}", dependencies=[audited(AccessAction.UPDATE)])
async def act(
    request: Request,
    case_id: str,
    action: str,
    principal: Coordinator,
    form: FormData,
    services: ServicesDep,
    attempt: AttemptDep,
) -> Response:
    """Run one of the case page's forms as the application's command."""
    case = visible_case(case_id, principal, services, attempt)
    command = (
        after_match_forms.COMMANDS.get(action)
        or owner_forms.COMMANDS.get(action)
        or transfer_forms.COMMANDS.get(action)
        or forms.COMMANDS.get(action)
    )
    if command is None:
        raise PageError(404, "Onbekende actie", "Deze actie bestaat niet op de casuspagina.")
    if attempt is not None:  # the log names the step, not the route's {action} placeholder
        attempt.object = f"POST {PREFIX}/casus/{{case_id}}/{action}"
    version = forms.one(form, "version")
    if not (version.isdigit() and 0 < int(version) < 10**9):
        # Like the API's If-Match: a form names the version it was shown, never "any".
        return await render_case(request, services, case, message=NO_VERSION, status=428)
    expected = int(version)
    actor = Actor(
        organisation=principal.organisation, role=ActorRole.COORDINATOR, user_ref=principal.id
    )
    ctx = c.Context(actor=actor, causation_id=f"dashboard:{request.state.request_id}")
    try:
        if action == "assignment":  # only to a coordinator of the case's municipality
            check_assignee(
                services, case, principal, forms.one(form, "coordinator") or principal.id
            )
        result = await run_in_threadpool(command, services.referrals, case.id, expected, form, ctx)
    except ValidationError as exc:
        wrong = frozenset(_field_names(exc))
        return await render_case(
            request,
            services,
            case,
            message=invalid_fields(exc),
            status=422,
            typed=form,
            invalid=wrong,
        )
    except DomainError as exc:
        status = 409 if isinstance(exc, IllegalTransitionError | VersionConflictError) else 422
        current = await run_in_threadpool(services.referrals.get_case, case.id)
        kept = form if current.version == case.version else None  # changed meanwhile: fresh
        return await render_case(
            request,
            services,
            current,
            after=None,
            message=refusal(exc, services.referrals.organisation_names()),
            status=status,
            typed=kept,
        )
    # A reopening answers with the follow-up case: the page shows that one next.
    return redirect(f"{PREFIX}/casus/{result.case_id}?na={result.position}&gedaan={action}")


def _field_names(exc: ValidationError) -> list[str]:
    """The form's names of the fields pydantic refused (a score is ``score_<dimension>``)."""
    names = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        if loc and loc[0] == "scores" and len(loc) > 1:
            names.append(f"score_{loc[1]}")
        elif loc:
            names.append(loc[0])
    return names
