"""Around every request: its id, the body guard, the access-log entry, the headers every
answer carries, metrics and one canonical log line."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable

import structlog
from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from adapters.http.body import MAX_BODY_BYTES, BodyGuard
from adapters.http.context import AccessAttempt, Services, authenticate_before_body
from adapters.http.problems import problem_response
from domain.redaction import holds_bsn
from ks_engine.access_log import AccessOutcome
from ks_engine.principals import Principal

log = structlog.get_logger("ks.http")

REQUEST_ID_HEADER = "X-Request-ID"
# Answers hold case data: no cache may keep them, no browser may guess another content type.
ALWAYS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def _request_id(request: Request) -> str:
    """The caller's request id when it is a safe token (and no BSN: it is stored as the cause
    of what the request does), else a new one."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _SAFE_ID.fullmatch(given) and not holds_bsn(given) else uuid.uuid4().hex


def outcome_of(status: int, attempt: AccessAttempt) -> AccessOutcome:
    """Allowed below 400; denied for 401/403 and for a case hidden from the principal."""
    if status < 400:
        return AccessOutcome.ALLOWED
    if status in (401, 403) or (status == 404 and attempt.hidden):
        return AccessOutcome.DENIED
    return AccessOutcome.ERROR


def _record_access(
    services: Services, request: Request, attempt: AccessAttempt, status: int
) -> None:
    principal = attempt.principal
    outcome = outcome_of(status, attempt)
    services.access_log.record(
        action=attempt.action,
        outcome=outcome,
        principal_id=principal.id if principal else None,
        role=principal.role.value if principal else None,
        organisation=principal.organisation if principal else None,
        purpose=attempt.purpose,
        source_address=request.client.host if request.client else "unknown",
        request_id=request.state.request_id,
        case_id=attempt.case_id,
        person_pseudonym=attempt.person_pseudonym,
        municipality=attempt.municipality,
        object=attempt.object,
        query_length=attempt.query_length,
        person=attempt.person,
        status=status,
    )
    services.metrics.access_entries.labels(outcome.value).inc()


def install_request_middleware(app: FastAPI) -> None:
    """Register the middleware that wraps every request (the body guard inside it)."""
    app.add_middleware(BodyGuard, limit=MAX_BODY_BYTES, before_body=authenticate_before_body)

    @app.middleware("http")
    async def around_request(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        services: Services = request.app.state.services
        started = time.perf_counter()
        request_id = _request_id(request)
        request.state.request_id = request_id
        request.state.access = None
        request.state.principal = None
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        response: Response
        try:
            response = await call_next(request)
        except Exception:
            log.exception("http.unhandled_error", path=request.url.path)
            response = problem_response(
                request, 500, "the request could not be completed; quote the request id to support"
            )
        attempt: AccessAttempt | None = request.state.access
        if attempt is not None:
            try:
                await run_in_threadpool(
                    _record_access, services, request, attempt, response.status_code
                )
            except Exception:
                # No access without a log entry: the answer is withheld.
                log.exception("http.access_log_failed", path=request.url.path)
                response = problem_response(
                    request, 500, "the access could not be logged, so it is refused; try again"
                )
        response.headers[REQUEST_ID_HEADER] = request_id
        for name, value in ALWAYS.items():
            response.headers.setdefault(name, value)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        elapsed = time.perf_counter() - started
        services.metrics.requests.labels(request.method, route, str(response.status_code)).inc()
        services.metrics.latency.labels(request.method, route).observe(elapsed)
        if (request.method, route) == ("POST", "/signals") and response.status_code in (400, 422):
            services.metrics.signals.labels("rejected").inc()  # by the schema or the contract
        principal: Principal | None = request.state.principal
        log.info(
            "http.request",
            method=request.method,
            route=route,
            status=response.status_code,
            duration_ms=round(elapsed * 1000, 1),
            principal=principal.id if principal else None,
            role=principal.role.value if principal else None,
            case_id=str(attempt.case_id) if attempt and attempt.case_id else None,
        )
        return response
