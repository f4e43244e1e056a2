"""Moving house on the dashboard: the case page's form to ask for a transfer, and the receiving
coordinator's answer to a transfer asked of their municipality (from the work queue)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from adapters.http.context import AttemptDep, ServicesDep, audited, get_read_models
from adapters.http.dashboard.forms import Form, one
from adapters.http.dashboard.messages import invalid_fields, refusal
from adapters.http.dashboard.render import page, redirect
from adapters.http.dashboard.session import PREFIX, Coordinator, FormData, PageError
from domain.errors import CaseNotFoundError, DomainError
from domain.referral import Referral
from domain.values import Actor, ActorRole
from ks_engine import commands as c
from ks_engine.access_log import AccessAction
from ks_engine.application import CommandResult, Referrals
from ks_engine.principals import Principal

router = APIRouter(prefix=f"{PREFIX}/overdracht", include_in_schema=False)
NOT_ASKED = "Er wacht geen overdracht van deze casus op een antwoord van uw gemeente."


def request_transfer(
    app: Referrals, case_id: UUID, version: int, form: Form, ctx: c.Context
) -> CommandResult:
    """The case page's form: to which municipality, on what basis, who agreed and how."""
    fields: dict[str, Any] = {
        "case_id": case_id,
        "expected_version": version,
        "to_municipality": one(form, "to_municipality"),
        "basis": one(form, "basis"),
    }
    if fields["basis"] == "family_consent" and (one(form, "given_by") or one(form, "method")):
        fields["consent"] = {
            "given_by": one(form, "given_by"),
            "method": one(form, "method"),
            "given_on": one(form, "given_on"),
        }
    return app.request_transfer(c.RequestTransfer.model_validate(fields), ctx)


COMMANDS = {"transfer": request_transfer}


def incoming_case(case_id: str, principal: Principal, services: ServicesDep) -> Referral:
    """A case whose transfer was asked of one of the coordinator's municipalities."""
    try:
        case = services.referrals.get_case(UUID(case_id))
    except (ValueError, CaseNotFoundError):
        raise PageError(404, "Geen overdracht gevonden", NOT_ASKED) from None
    asked = case.transfer_request
    if asked is None or not principal.serves(asked["to_municipality"]):
        raise PageError(404, "Geen overdracht gevonden", NOT_ASKED)
    return case


async def incoming_transfers(principal: Principal, services: ServicesDep) -> list[dict[str, Any]]:
    """The transfers waiting for the coordinator's answer, for the work queue page."""
    views = get_read_models(services)
    found = await run_in_threadpool(views.transfers.waiting, list(principal.municipalities))
    region = services.referrals.region
    rows = [t.model_dump(mode="json") for t in found]
    for row in rows:
        row["from_name"] = region.name_of(row["from_municipality"]) if region else ""
    return rows


@router.post("/{case_id}/{answer}", dependencies=[audited(AccessAction.UPDATE)])
async def answer(
    request: Request,
    case_id: str,
    answer: str,
    principal: Coordinator,
    form: FormData,
    services: ServicesDep,
    attempt: AttemptDep,
) -> Response:
    """Accept (``acceptatie``) or refuse (``weigering``) a transfer asked of your Knooppunt."""
    if answer not in ("acceptatie", "weigering"):
        raise PageError(404, "Onbekende actie", "Een overdracht wordt geaccepteerd of geweigerd.")
    case = incoming_case(case_id, principal, services)
    if attempt is not None:
        attempt.touches(case)
        attempt.object = f"POST {PREFIX}/overdracht/{{case_id}}/{answer}"
    version = one(form, "version")
    actor = Actor(
        organisation=principal.organisation, role=ActorRole.COORDINATOR, user_ref=principal.id
    )
    ctx = c.Context(actor=actor, causation_id=f"dashboard:{request.state.request_id}")
    app = services.referrals
    try:
        expected = int(version) if version.isdigit() else None
        if answer == "acceptatie":
            accept = c.AcceptTransfer(case_id=case.id, expected_version=expected)
            result = await run_in_threadpool(app.accept_transfer, accept, ctx)
        else:
            reason = one(form, "reason")
            refuse = c.RefuseTransfer(case_id=case.id, expected_version=expected, reason=reason)
            result = await run_in_threadpool(app.refuse_transfer, refuse, ctx)
    except ValidationError as exc:
        return _refused(request, invalid_fields(exc), 422)
    except DomainError as exc:
        return _refused(request, refusal(exc), 409)
    if answer == "acceptatie":
        target = f"{PREFIX}/casus/{result.case_id}?na={result.position}&gedaan=transfer-acceptance"
        return redirect(target)
    return redirect(f"{PREFIX}/werkvoorraad?gedaan=transfer-refusal")


def _refused(request: Request, message: str, status: int) -> Response:
    context = {"title": "Overdracht niet vastgelegd", "message": message}
    return page(request, "error.html", context, status=status)
