"""Signing in to the dashboard at the person's own organisation (OpenID Connect).

``/dashboard/oidc/inloggen`` sends the browser to the identity provider with a PKCE challenge,
a state bound to this browser (a short-lived cookie) and a nonce; ``/dashboard/oidc/terug``
takes the code back, checks the ID token and maps the person to a role with the identity map.
A person without a rule is refused, and that refusal is in the access log like any other.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from adapters.http.context import ServicesDep, audited
from adapters.http.dashboard.render import page, secured, sign_in_page
from adapters.http.dashboard.session import (
    PREFIX,
    PageError,
    csrf_token,
    safe_next,
    set_session,
)
from adapters.http.oidc_client import OidcClient, Pending, SignInFailedError
from ks_engine.access_log import AccessAction
from ks_engine.person_sessions import PersonSessions

router = APIRouter(prefix=f"{PREFIX}/oidc", include_in_schema=False)
STATE_COOKIE = "ks_oidc_state"
STATE_SECONDS = 600


def _configured(services: ServicesDep) -> tuple[OidcClient, PersonSessions]:
    if services.oidc is None or services.sessions is None:
        raise PageError(
            404,
            "Niet ingesteld",
            "Inloggen via uw organisatie is hier niet ingesteld; log in met uw toegangscode.",
        )
    return services.oidc, services.sessions


@router.get("/inloggen", dependencies=[audited(AccessAction.EXECUTE)])
async def start_sign_in(
    request: Request, services: ServicesDep, next: str | None = None
) -> Response:
    oidc, sessions = _configured(services)
    try:
        pending = await oidc.start()
    except SignInFailedError as e:
        raise PageError(503, "Inloggen niet mogelijk", _provider_down(str(e))) from None
    await run_in_threadpool(
        sessions.remember, pending.state, pending.nonce, pending.code_verifier, safe_next(next)
    )
    response = secured(RedirectResponse(pending.url, status_code=303))
    # Lax, not Strict: the provider sends the browser back with a cross-site navigation.
    response.set_cookie(
        STATE_COOKIE,
        pending.state,
        max_age=STATE_SECONDS,
        path=f"{PREFIX}/oidc",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/terug", dependencies=[audited(AccessAction.EXECUTE)])
async def finish_sign_in(
    request: Request,
    services: ServicesDep,
    code: str = "",
    state: str = "",
    error: str = "",
) -> Response:
    oidc, sessions = _configured(services)
    attempt = request.state.access
    # The code and state are one-time credentials of this sign-in: not kept in the log.
    attempt.object, attempt.query_length = f"GET {PREFIX}/oidc/terug", None
    bound = request.cookies.get(STATE_COOKIE, "")
    if error:
        return _refused(request, "De inlog bij uw organisatie is afgebroken of geweigerd.", 401)
    if not state or not bound or not hmac.compare_digest(state, bound):
        return _refused(request, "Deze inlogpoging is verlopen; begin opnieuw.", 403)
    remembered = await run_in_threadpool(sessions.take, state)
    if remembered is None or not code:
        return _refused(request, "Deze inlogpoging is verlopen; begin opnieuw.", 403)
    nonce, verifier, next_path = remembered
    try:
        signed = await oidc.finish(code, Pending(state, nonce, verifier, ""))
    except SignInFailedError as e:
        return _refused(request, _provider_down(str(e)), 502)
    attempt.person = signed.person.reference
    principal = await run_in_threadpool(sessions.principal_of, signed.person)
    if principal is None:
        return _refused(
            request,
            "U bent bij uw organisatie ingelogd, maar uw account heeft (nog) geen toegang tot "
            "het dashboard. Vraag de beheerder van ks-engine om u toegang te geven.",
            403,
        )
    attempt.principal = principal
    token = await run_in_threadpool(sessions.open, signed.person, signed.id_token)
    request.state.principal = principal
    request.state.csrf = csrf_token(token)
    response = page(request, "signed_in.html", {"next": safe_next(next_path)})
    set_session(response, request, token)
    response.delete_cookie(STATE_COOKIE, path=f"{PREFIX}/oidc")
    return response


def _refused(request: Request, message: str, status: int) -> Response:
    response = sign_in_page(request, message, status=status, next_path=f"{PREFIX}/")
    response.delete_cookie(STATE_COOKIE, path=f"{PREFIX}/oidc")
    return response


def _provider_down(reason: str) -> str:
    return (
        f"Inloggen via uw organisatie lukt nu niet ({reason}). Probeer het later opnieuw of "
        "log in met een toegangscode."
    )
