"""Signing in to the dashboard: the token in a cookie, who is signed in, and forms' CSRF tokens.

The cookie holds the bearer token ``ks principals add`` printed: HttpOnly (no script reads
it), SameSite=Strict (no other site sends it), Secure over HTTPS, and scoped to the
dashboard's path. Every form carries a CSRF token derived from that token with HMAC, so it
needs no server-side state and no other site can compute it; forms also check Origin.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response

from adapters.http.context import AttemptDep, ServicesDep
from adapters.http.dashboard.labels import moment
from ks_engine.person_sessions import SESSION_PREFIX
from ks_engine.principals import Principal, Role, TokenCheck

PREFIX = "/dashboard"
COOKIE = "ks_dashboard"
SIGN_IN_COOKIE = "ks_dashboard_signin"  # double-submit token of the sign-in form
_CSRF_CONTEXT = b"ks-dashboard-csrf-v1"
SESSION_SECONDS = 8 * 3600  # a working day


class PageError(Exception):
    """A page that cannot be shown: answered with a Dutch error page and this status."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


class SignInRequiredError(PageError):
    """No valid sign-in: the sign-in form is answered instead of the page."""

    def __init__(self, message: str = "Log in met uw toegangscode om verder te gaan.") -> None:
        super().__init__(401, "Inloggen", message)


def csrf_token(token: str) -> str:
    """The CSRF token of forms in the session of ``token``."""
    return hmac.new(token.encode("utf-8"), _CSRF_CONTEXT, hashlib.sha256).hexdigest()


def new_sign_in_nonce() -> str:
    return secrets.token_urlsafe(24)


def set_session(response: Response, request: Request, token: str) -> None:
    """Store the token in the dashboard's cookie."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=SESSION_SECONDS,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(SIGN_IN_COOKIE, path=PREFIX)


def clear_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="strict")


def safe_next(target: str | None) -> str:
    """A dashboard path to return to after signing in; the work queue for anything else."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and "\\" not in target:
            return target
    return f"{PREFIX}/"


def same_origin(request: Request) -> bool:
    """False when the browser says the form came from another site."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


def expired(when: datetime) -> str:
    """The sign-in form's words for a token whose time is up."""
    return (
        f"Deze toegangscode is verlopen op {moment(when)}. Vraag de beheerder om een nieuwe "
        "toegangscode en log daarmee opnieuw in."
    )


def _person_session(
    request: Request, services: ServicesDep, attempt: AttemptDep, token: str
) -> Principal:
    """The principal of a person's session (OpenID Connect); the sign-in form once it ended."""
    opened = services.sessions.use(token) if services.sessions is not None else None
    if opened is None:
        raise SignInRequiredError(
            "Uw sessie is verlopen of beëindigd; log opnieuw in via uw organisatie."
        )
    request.state.principal = opened.principal
    request.state.person_session = opened
    request.state.csrf = csrf_token(token)
    if attempt is not None:
        attempt.principal = opened.principal
        attempt.person = opened.person.reference
    return opened.principal


def signed_in(request: Request, services: ServicesDep, attempt: AttemptDep) -> Principal:
    """The principal of the dashboard cookie; the sign-in form without a valid one."""
    token = request.cookies.get(COOKIE, "")
    if token.startswith(SESSION_PREFIX):
        return _person_session(request, services, attempt, token)
    found = services.principals.check(token) if token else TokenCheck()
    principal = found.valid
    if principal is None:
        if found.expired_at is not None:
            if attempt is not None:
                attempt.principal = found.principal  # who tried, for the auditors
            raise SignInRequiredError(expired(found.expired_at))
        raise SignInRequiredError(
            "Uw sessie is verlopen of de toegangscode is ingetrokken; log opnieuw in."
            if token
            else "Log in met uw toegangscode om verder te gaan."
        )
    request.state.principal = principal
    request.state.csrf = csrf_token(token)
    if attempt is not None:
        attempt.principal = principal
    return principal


SignedIn = Annotated[Principal, Depends(signed_in)]

ROLE_NAMES = {
    Role.COORDINATOR: "coördinatoren",
    Role.AUDITOR: "auditors",
    Role.PARTNER: "ketenpartners",
    Role.ADMIN: "beheerders",
    Role.PRIVACY_OFFICER: "functionarissen gegevensbescherming",
    Role.PROGRAMME_OFFICE: "het programmabureau",
}


def for_roles(*roles: Role) -> Any:
    """Dependency: the signed-in principal must hold one of ``roles`` (403 page otherwise)."""

    def check(principal: SignedIn) -> Principal:
        if principal.role not in roles:
            names = " en ".join(ROLE_NAMES[r] for r in roles)
            raise PageError(403, "Geen toegang", f"Deze pagina is alleen voor {names}.")
        return principal

    return Depends(check)


async def check_form(request: Request, principal: SignedIn) -> dict[str, Any]:
    """The submitted form once its CSRF token and origin are right; a 403 page otherwise."""
    form = await request.form()
    expected = csrf_token(request.cookies.get(COOKIE, ""))
    given = str(form.get("csrf", ""))
    if not same_origin(request) or not expected or not hmac.compare_digest(given, expected):
        raise PageError(
            403,
            "Formulier geweigerd",
            "Het formulier is verlopen of komt niet van deze site. Laad de pagina opnieuw en "
            "probeer het nog eens.",
        )
    return {key: [str(v) for v in form.getlist(key)] for key in form}


Coordinator = Annotated[Principal, for_roles(Role.COORDINATOR)]
Auditor = Annotated[Principal, for_roles(Role.AUDITOR, Role.PRIVACY_OFFICER)]
Reader = Annotated[Principal, for_roles(Role.COORDINATOR, Role.AUDITOR)]
RegionReader = Annotated[
    Principal, for_roles(Role.PROGRAMME_OFFICE, Role.COORDINATOR, Role.AUDITOR)
]
Admin = Annotated[Principal, for_roles(Role.ADMIN)]
FormData = Annotated[dict[str, Any], Depends(check_form)]
