"""Adding a coordinator's note from the case page: stored sealed, never kept in the form.

The notes themselves are shown on the case page only when the coordinator asks for them with
a purpose from the closed list (``case.py``): that page view is then an access-log entry with
action ``read personal data`` and the purpose.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from adapters.http.context import AttemptDep, ServicesDep, audited
from adapters.http.dashboard.case import render_case, visible_case
from adapters.http.dashboard.forms import one
from adapters.http.dashboard.messages import refusal
from adapters.http.dashboard.render import redirect
from adapters.http.dashboard.session import PREFIX, Coordinator, FormData
from domain.errors import DomainError
from domain.values import Actor, ActorRole
from ks_engine import commands as c
from ks_engine.access_log import AccessAction

router = APIRouter(prefix=f"{PREFIX}/casus", include_in_schema=False)


@router.post("/{case_id}/notitie", dependencies=[audited(AccessAction.CREATE)])
async def add_note(
    request: Request,
    case_id: str,
    principal: Coordinator,
    form: FormData,
    services: ServicesDep,
    attempt: AttemptDep,
) -> Response:
    """Store a coordinator's note sealed, then show the case page again."""
    case = visible_case(case_id, principal, services, attempt)
    actor = Actor(
        organisation=principal.organisation, role=ActorRole.COORDINATOR, user_ref=principal.id
    )
    ctx = c.Context(actor=actor, causation_id=f"dashboard:{request.state.request_id}")
    try:
        cmd = c.AddNote(case_id=case.id, text=one(form, "text"))
        await run_in_threadpool(services.referrals.add_note, cmd, ctx)
    except ValidationError:
        message = "Schrijf een notitie van 1 tot 4000 tekens; er is niets vastgelegd."
        return await render_case(request, services, case, message=message, status=422)
    except DomainError as exc:
        return await render_case(request, services, case, message=refusal(exc), status=409)
    return redirect(f"{PREFIX}/casus/{case.id}?gedaan=notitie#notities")
