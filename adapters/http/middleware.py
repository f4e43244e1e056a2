"""Around every request: its id, the body guard, the access-log entry, the headers every
answer carries, metrics and one canonical log line.

Plain ASGI (no ``BaseHTTPMiddleware``: that runs the app in a task of its own and streams the
answer through a memory channel, which cost a sixth of the API's time under load). The answer's
start is held back until the request's access-log entry is stored: an answer is never given
for an access that is not logged; if the entry cannot be stored, a 500 is answered instead.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


async def _record_access(
    services: Services, request: Request, attempt: AccessAttempt, status: int
) -> None:
    outcome = outcome_of(status, attempt)
    _, record = services.access_log.prepare(
        action=attempt.action,
        outcome=outcome,
        **attempt.reader(request),
        case_id=attempt.case_id,
        person_pseudonym=attempt.person_pseudonym,
        municipality=attempt.municipality,
        object=attempt.object,
        query_length=attempt.query_length,
        status=status,
    )
    await services.access_writer.write(record)
    services.metrics.access_entries.labels(outcome.value).inc()


class RequestMiddleware:
    """Request id, access-log entry before the answer, headers, metrics and the log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request = Request(scope)
        request_id = _request_id(request)
        request.state.request_id = request_id
        request.state.access = None
        request.state.principal = None
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        answer = _Answer(request, send)
        try:
            await self.app(scope, receive, answer.send)
        except Exception:
            log.exception("http.unhandled_error", path=request.url.path)
            if answer.status is not None:
                raise  # the answer has begun: nothing better can be said on this connection
            failed = problem_response(
                request, 500, "the request could not be completed; quote the request id to support"
            )
            await failed(scope, receive, answer.send)
        _account(request, answer.status or 500, time.perf_counter() - started)


class _Answer:
    """The ``send`` the app answers through: holds the answer's start until the access is
    logged, and adds the headers every answer carries."""

    def __init__(self, request: Request, send: Send) -> None:
        self.request = request
        self._send = send
        self.status: int | None = None
        self._withheld = False  # the app's own answer, replaced by a 500 (logging failed)

    async def send(self, message: Message) -> None:
        if self._withheld:
            return  # the rest of the answer that was refused
        if message["type"] == "http.response.start":
            status = int(message["status"])
            if not await self._logged(status):
                self._withheld = True
                await self._refuse()
                return
            self.status = status
            self._stamp(message)
        await self._send(message)

    async def _logged(self, status: int) -> bool:
        request = self.request
        attempt: AccessAttempt | None = request.state.access
        if attempt is None:
            return True
        services: Services = request.app.state.services
        try:
            await _record_access(services, request, attempt, status)
        except Exception:
            # No access without a log entry: the answer is withheld.
            log.exception("http.access_log_failed", path=request.url.path)
            return False
        return True

    async def _refuse(self) -> None:
        refused = problem_response(
            self.request, 500, "the access could not be logged, so it is refused; try again"
        )
        self.status = 500
        start: Message = {
            "type": "http.response.start",
            "status": 500,
            "headers": refused.raw_headers,
        }
        self._stamp(start)
        await self._send(start)
        await self._send({"type": "http.response.body", "body": refused.body})

    def _stamp(self, message: Message) -> None:
        headers = MutableHeaders(scope=message)
        headers[REQUEST_ID_HEADER] = self.request.state.request_id
        for name, value in ALWAYS.items():
            headers.setdefault(name, value)


def _account(request: Request, status: int, elapsed: float) -> None:
    """Metrics and the canonical log line of one answered request."""
    services: Services = request.app.state.services
    method = request.method
    route = getattr(request.scope.get("route"), "path", "unmatched")
    services.metrics.requests.labels(method, route, str(status)).inc()
    services.metrics.latency.labels(method, route).observe(elapsed)
    if (method, route) == ("POST", "/signals") and status in (400, 422):
        services.metrics.signals.labels("rejected").inc()  # by the schema or the contract
    principal: Principal | None = request.state.principal
    attempt: AccessAttempt | None = request.state.access
    fields: dict[str, Any] = {
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(elapsed * 1000, 1),
        "principal": principal.id if principal else None,
        "role": principal.role.value if principal else None,
        "case_id": str(attempt.case_id) if attempt and attempt.case_id else None,
    }
    log.info("http.request", **fields)


def install_request_middleware(app: FastAPI) -> None:
    """Register the middleware that wraps every request (the body guard inside it)."""
    app.add_middleware(BodyGuard, limit=MAX_BODY_BYTES, before_body=authenticate_before_body)
    app.add_middleware(RequestMiddleware)
