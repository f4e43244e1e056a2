"""Request-scoped context: the services a route needs, who is asking, and what to log.

The dependencies here only look things up in memory (the principals file is re-read only when
it changed), so they are ``async``: FastAPI runs them on the event loop instead of handing each
to a worker thread and back, which under many concurrent requests cost more than the work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar
from urllib.parse import unquote_plus
from uuid import UUID

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from adapters.http.access_writer import AccessWriter
from adapters.http.metrics import ApiMetrics
from adapters.http.oidc_client import OidcClient
from adapters.http.ports import Publisher, ReadinessCheck, ReadModels, SignalGateway
from adapters.http.problems import (
    ForbiddenError,
    TokenExpiredError,
    UnauthorizedError,
    UnavailableError,
)
from adapters.http.strict_query import refuse_unknown_query_parameters
from domain.redaction import redact_bsns
from domain.referral import Referral
from ks_engine.access_log import AccessAction, AccessLog, Purpose
from ks_engine.application import Referrals
from ks_engine.audit.last_verify import VerifyRecord
from ks_engine.log import redact_text
from ks_engine.person_sessions import PersonSessions
from ks_engine.principals import Principal, PrincipalRegistry, Role
from ks_engine.signal_rules import SignalRules
from ks_engine.supervision import StatusBoard

T = TypeVar("T")


@dataclass
class Services:
    """What the routes use, handed over by the composition root."""

    referrals: Referrals
    access_log: AccessLog
    access_writer: AccessWriter  # the requests' own entries, stored in groups
    principals: PrincipalRegistry
    metrics: ApiMetrics
    pseudonymise: Callable[[str], str]
    signal_rules: SignalRules
    read_models: ReadModels | None = None
    publisher: Publisher | None = None
    signals: SignalGateway | None = None
    readiness: dict[str, ReadinessCheck] = field(default_factory=dict)
    components: StatusBoard | None = None  # supervised by `ks run`; None for `ks api` alone
    oidc: OidcClient | None = None  # people sign in at their organisation when configured
    sessions: PersonSessions | None = None
    last_verify: Callable[[], VerifyRecord | None] | None = None  # `ks audit verify`'s result
    # The stores are files on this machine (SQLite): a short read runs on the event loop
    # (``quick_read``). On PostgreSQL every read is a round trip and goes to a worker thread.
    local_reads: bool = False


async def quick_read(services: Services, read: Callable[..., T], *args: Any) -> T:
    """The result of a short read of the stores (one case, one page of a view).

    On local files it runs on the event loop: it takes a fraction of a millisecond, and
    handing it to a worker thread and back cost more CPU than the read (the thread's wakeup,
    its result's return to the loop, the interpreter lock passed to and fro). Under `ks run`
    with 32 clients, a case's detail took 3.5-4.7 ms of CPU per request inline against
    5.4-5.6 ms through the thread pool (bench/NOTES.md)."""
    if services.local_reads:
        return read(*args)
    return await run_in_threadpool(read, *args)


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_read_models(services: ServicesDep) -> ReadModels:
    if services.read_models is None:
        raise UnavailableError(
            "the read models (work queue, case view, monitoring) are not running"
        )
    return services.read_models


PURPOSES = {
    Role.PARTNER: Purpose.CARE,
    Role.COORDINATOR: Purpose.COORDINATION,
    Role.AUDITOR: Purpose.AUDIT,
    Role.ADMIN: Purpose.OPERATIONS,
    Role.PROGRAMME_OFFICE: Purpose.RESEARCH,
    Role.PRIVACY_OFFICER: Purpose.RIGHTS,
}


QUERY_KEPT = 2048  # characters of a query string the access log keeps


@dataclass
class AccessAttempt:
    """What the access log will record for this request, filled in as the request proceeds."""

    action: AccessAction
    object: str
    principal: Principal | None = None
    case_id: UUID | None = None
    person_pseudonym: str | None = None
    municipality: str | None = None
    hidden: bool = False  # the case exists but the principal may not see it
    stated_purpose: Purpose | None = None  # the purpose the request named, if it names one
    query_length: int | None = None  # of the whole query string; ``object`` keeps QUERY_KEPT
    person: str | None = None  # issuer#subject of a person signed in at an identity provider

    def touches(self, case: Referral) -> None:
        """Name the case (and its person's pseudonym) this request concerns."""
        self.case_id = case.id
        self.person_pseudonym = case.person_pseudonym
        self.municipality = case.municipality

    @property
    def purpose(self) -> Purpose:
        if self.stated_purpose is not None:
            return self.stated_purpose
        return PURPOSES[self.principal.role] if self.principal else Purpose.CARE

    def reader(self, request: Request) -> dict[str, Any]:
        """Who read, why and from where: the fields every access-log entry of the request has."""
        principal = self.principal
        return {
            "principal_id": principal.id if principal else None,
            "role": principal.role.value if principal else None,
            "organisation": principal.organisation if principal else None,
            "purpose": self.purpose,
            "source_address": request.client.host if request.client else "unknown",
            "request_id": request.state.request_id,
            "person": self.person,
        }


def _without_bsns(query: str) -> str:
    """The query as sent, or decoded with its BSNs redacted when it holds one however typed
    (grouped by spaces it arrives as ``+`` or ``%20``; glued to letters)."""
    decoded = unquote_plus(query)
    redacted = redact_bsns(redact_text(decoded))
    return query if redacted == decoded else redacted


def start_attempt(request: Request, action: AccessAction) -> AccessAttempt:
    """The request's access-log entry to be, begun once (before its body, or by its route)."""
    existing = getattr(request.state, "access", None)
    if isinstance(existing, AccessAttempt):
        return existing
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    query = request.url.query
    # Bounded (a caller chooses its length) and without BSN-like numbers (a caller chooses it).
    shown = f"?{_without_bsns(query[:QUERY_KEPT])}" if query else ""
    attempt = AccessAttempt(
        action=action,
        object=f"{request.method} {path}{shown}",
        query_length=len(query) if query else None,
    )
    request.state.access = attempt
    return attempt


def audited(action: AccessAction) -> Any:
    """Dependency marking a route whose every request goes into the access log."""

    async def start(request: Request) -> AccessAttempt:
        attempt = start_attempt(request, action)
        refuse_unknown_query_parameters(request)  # logged like any refusal: after the start
        return attempt

    start.access_action = action  # type: ignore[attr-defined] # found by the body guard
    return Depends(start)


async def current_attempt(request: Request) -> AccessAttempt | None:
    attempt: AccessAttempt | None = getattr(request.state, "access", None)
    return attempt


AttemptDep = Annotated[AccessAttempt | None, Depends(current_attempt)]


_bearer = HTTPBearer(auto_error=False, description="The token `ks principals add` printed.")


def identify(
    token: str, request: Request, services: Services, attempt: AccessAttempt | None
) -> Principal:
    """The principal of a bearer token that works now; 401 saying why otherwise."""
    if not token:
        raise UnauthorizedError("send a bearer token in the Authorization header")
    found = services.principals.check(token)
    if found.principal is None:
        raise UnauthorizedError("the bearer token is not valid (revoked or mistyped)")
    if found.expired_at is not None:
        if attempt is not None:
            attempt.principal = found.principal  # who tried, for the auditors
        raise TokenExpiredError(
            f"the bearer token expired at {found.expired_at.isoformat(timespec='minutes')}; "
            "ask your administrator for a new one "
            f"(`ks principals rotate {found.principal.id}`)",
            code="token_expired",
        )
    request.state.principal = found.principal
    if attempt is not None:
        attempt.principal = found.principal
    return found.principal


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The principal of the request's bearer token; 401 without a valid one.

    Nearly every route depends on this one, some through two paths: the services and the
    access-log entry are looked up here directly rather than as dependencies of their own,
    since FastAPI walks a dependency's own dependencies again on every path to it."""
    token = credentials.credentials.strip() if credentials is not None else ""
    return identify(token, request, request.app.state.services, await current_attempt(request))


def _dependency_calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _dependency_calls(sub)


async def authenticate_before_body(scope: Scope) -> None:
    """Before any byte of a body is read: who sends it, for a route that needs a bearer token.

    FastAPI reads a route's body before it solves the dependencies that authenticate, so the
    body guard calls this first; the route's access-log entry begins here for the same reason.
    """
    route = scope.get("route")
    if not isinstance(route, APIRoute):
        return
    calls = list(_dependency_calls(route.dependant))
    if authenticate not in calls:
        return
    request = Request(scope)
    actions = [getattr(call, "access_action", None) for call in calls]
    action = next((a for a in actions if isinstance(a, AccessAction)), None)
    attempt = start_attempt(request, action) if action is not None else None
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    token = token.strip() if scheme.lower() == "bearer" else ""
    identify(token, request, request.app.state.services, attempt)


PrincipalDep = Annotated[Principal, Depends(authenticate)]


def require(*roles: Role) -> Any:
    """Dependency: the principal must hold one of ``roles`` (403 otherwise)."""

    async def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            names = " or ".join(r.value for r in roles)
            raise ForbiddenError(f"this is for the {names} role; you are {principal.role.value}")
        return principal

    return Depends(check)


Coordinator = Annotated[Principal, require(Role.COORDINATOR)]
