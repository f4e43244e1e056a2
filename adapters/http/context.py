"""Request-scoped context: the services a route needs, who is asking, and what to log.

The dependencies here only look things up in memory (the principals file is re-read only when
it changed), so they are ``async``: FastAPI runs them on the event loop instead of handing each
to a worker thread and back, which under many concurrent requests cost more than the work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from adapters.http.metrics import ApiMetrics
from adapters.http.ports import Publisher, ReadinessCheck, ReadModels, SignalGateway
from adapters.http.problems import ForbiddenError, UnauthorizedError, UnavailableError
from domain.referral import Referral
from ks_engine.access_log import AccessAction, AccessLog, Purpose
from ks_engine.application import Referrals
from ks_engine.principals import Principal, PrincipalRegistry, Role
from ks_engine.supervision import StatusBoard


@dataclass
class Services:
    """What the routes use, handed over by the composition root."""

    referrals: Referrals
    access_log: AccessLog
    principals: PrincipalRegistry
    metrics: ApiMetrics
    pseudonymise: Callable[[str], str]
    read_models: ReadModels | None = None
    publisher: Publisher | None = None
    signals: SignalGateway | None = None
    readiness: dict[str, ReadinessCheck] = field(default_factory=dict)
    components: StatusBoard | None = None  # supervised by `ks run`; None for `ks api` alone


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
}


@dataclass
class AccessAttempt:
    """What the access log will record for this request, filled in as the request proceeds."""

    action: AccessAction
    object: str
    principal: Principal | None = None
    case_id: UUID | None = None
    person_pseudonym: str | None = None
    hidden: bool = False  # the case exists but the principal may not see it
    stated_purpose: Purpose | None = None  # the purpose the request named, if it names one

    def touches(self, case: Referral) -> None:
        """Name the case (and its person's pseudonym) this request concerns."""
        self.case_id = case.id
        self.person_pseudonym = case.person_pseudonym

    @property
    def purpose(self) -> Purpose:
        if self.stated_purpose is not None:
            return self.stated_purpose
        return PURPOSES[self.principal.role] if self.principal else Purpose.CARE


def audited(action: AccessAction) -> Any:
    """Dependency marking a route whose every request goes into the access log."""

    async def start(request: Request) -> AccessAttempt:
        route = request.scope.get("route")
        path = getattr(route, "path", request.url.path)
        query = f"?{request.url.query}" if request.url.query else ""
        attempt = AccessAttempt(action=action, object=f"{request.method} {path}{query}")
        request.state.access = attempt
        return attempt

    return Depends(start)


async def current_attempt(request: Request) -> AccessAttempt | None:
    attempt: AccessAttempt | None = getattr(request.state, "access", None)
    return attempt


AttemptDep = Annotated[AccessAttempt | None, Depends(current_attempt)]


_bearer = HTTPBearer(auto_error=False, description="The token `ks principals add` printed.")


async def authenticate(
    request: Request,
    services: ServicesDep,
    attempt: AttemptDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The principal of the request's bearer token; 401 without a valid one."""
    if credentials is None or not credentials.credentials.strip():
        raise UnauthorizedError("send a bearer token in the Authorization header")
    principal = services.principals.authenticate(credentials.credentials.strip())
    if principal is None:
        raise UnauthorizedError("the bearer token is not valid (revoked or mistyped)")
    request.state.principal = principal
    if attempt is not None:
        attempt.principal = principal
    return principal


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
