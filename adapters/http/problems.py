"""RFC 9457 problem details: every error the API answers, translated once, here.

Clients get a status, a short title, a detail a coordinator or partner understands and the
request id; never a stack trace, an internal name or the value they sent (it may be a BSN).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import (
    CaseNotFoundError,
    CaseRestrictedError,
    DomainError,
    IllegalTransitionError,
    ServiceNotFoundError,
    UnknownOfferError,
    VersionConflictError,
)
from domain.redaction import redact_bsns
from ks_engine.log import redact_text

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:ks-engine:problem:"


class FieldError(BaseModel):
    """One invalid field of a request."""

    field: str = Field(description="Where: 'body.scope', 'query.limit', 'header.if-match'.")
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem details object, with the extensions ks-engine uses."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = Field(default=None, description="422: each invalid field.")
    state: str | None = Field(default=None, description="409: the case's current state.")
    allowed: list[str] | None = Field(default=None, description="409: actions allowed now.")
    current_version: int | None = Field(default=None, description="412: the case's version.")
    code: str | None = Field(default=None, description="A machine-readable reason code.")


class ApiError(Exception):
    """An error the API answers with a problem document."""

    status = 500
    slug = "internal-error"
    title = "Internal error"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class UnauthorizedError(ApiError):
    """No bearer token, or one that belongs to nobody."""

    status, slug, title = 401, "unauthorized", "Authentication required"


class TokenExpiredError(UnauthorizedError):
    """A principal's token whose time is up (or whose rotation's grace period ended)."""

    slug, title = "token-expired", "Token expired"


class ForbiddenError(ApiError):
    """The principal's role may not do this."""

    status, slug, title = 403, "forbidden", "Not allowed for your role"


class NotFoundError(ApiError):
    """Nothing here, or nothing the principal may see (answered alike)."""

    status, slug, title = 404, "not-found", "Not found"


class InvalidRequestError(ApiError):
    """The request is well-formed but its content is refused."""

    status, slug, title = 422, "invalid-request", "Invalid request"


class PreconditionRequiredError(ApiError):
    """A command that must name the case version it is based on, and did not (RFC 6585)."""

    status, slug, title = 428, "precondition-required", "If-Match required"


class PayloadTooLargeError(ApiError):
    """A request body past the limit."""

    status, slug, title = 413, "too-large", "Request too large"


class UnavailableError(ApiError):
    """A part the request needs (NATS, the read models) is not reachable."""

    status, slug, title = 503, "unavailable", "Service unavailable"


_STATUS_TITLES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Not allowed for your role"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("refused-transition", "Refused by the case's lifecycle"),
    412: ("stale-version", "The case changed"),
    413: ("too-large", "Request too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("invalid-request", "Invalid request"),
    428: ("precondition-required", "If-Match required"),
    500: ("internal-error", "Internal error"),
    503: ("unavailable", "Service unavailable"),
}


class ProblemWhileReading(StarletteHTTPException):
    """An ApiError raised while a body is read: FastAPI lets only HTTP exceptions through."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(error.status, error.detail)
        self.error = error


def problem_response(
    request: Request,
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A problem+json response carrying the request id."""
    default_slug, default_title = _STATUS_TITLES.get(status, ("error", "Error"))
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + (slug or default_slug),
        "title": title or default_title,
        "status": status,
        "detail": redact_text(detail),
        "instance": request.url.path,
        "request_id": getattr(request.state, "request_id", None),
    }
    body.update({k: v for k, v in extensions.items() if v is not None})
    if isinstance(errors := body.get("errors"), list):  # as the detail: a domain message
        body["errors"] = [{k: redact_text(str(v)) for k, v in e.items()} for e in errors]
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def field_errors(errors: Sequence[Any]) -> list[dict[str, str]]:
    """pydantic / FastAPI errors as ``{field, message}``, without the submitted values."""
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        if err.get("type") == "missing":
            message = "this field is required"
        # A location can name what the sender chose (an unknown body key or query parameter).
        where = redact_bsns(redact_text(".".join(loc))) or "body"
        out.append({"field": where, "message": redact_text(message)})
    return out


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return problem_response(
        request,
        exc.status,
        exc.detail,
        slug=exc.slug,
        title=exc.title,
        headers=headers,
        **exc.extensions,
    )


IF_MATCH = ("header", "if-match")
# A version as an entity tag: "3" (W/"3" and a bare 3 are taken too). Not "*": a change names
# the version it is based on, or it could overwrite a change its sender never saw.
IF_MATCH_PATTERN = r'^(?:W/)?(?:"[1-9][0-9]{0,8}"|[1-9][0-9]{0,8})$'


def if_match_version(value: str) -> int:
    """The version in an If-Match value that matched IF_MATCH_PATTERN."""
    return int(value.removeprefix("W/").strip('"'))


def _precondition_required(request: Request) -> JSONResponse:
    case = request.path_params.get("case_id")
    where = (
        f"the case version this command is based on: the ETag of GET /cases/{case} or the "
        "version in the work queue. If the case changed since"
        if case is not None
        else "the version this change is based on: the ETag you last read. If it changed since"
    )
    return problem_response(
        request,
        428,
        f'send If-Match: "<version>" with {where}, the answer is 412 and nothing is recorded; '
        "If-Match: * is not accepted.",
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = [dict(err) for err in exc.errors()]
    for err in raw:
        if tuple(err.get("loc", ())) == IF_MATCH:
            if err.get("type") == "missing" or str(err.get("input", "")).strip() == "*":
                return _precondition_required(request)
            kind = "a case version" if "case_id" in request.path_params else "a version"
            err["msg"] = f'not {kind}: send If-Match: "<version>", e.g. "3"'
    errors = field_errors(raw)
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return problem_response(
        request, 422, f"the request has invalid fields: {summary}", errors=errors
    )


async def http_problem(request: Request, exc: Exception) -> JSONResponse:
    """An HTTP exception (FastAPI's or ours) as problem details."""
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, ProblemWhileReading):
        return await _api_error(request, exc.error)
    detail = exc.detail if isinstance(exc.detail, str) else "the request cannot be served"
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        detail = "there is nothing at this address"
    if exc.status_code == 405 and (allowed := _allowed(request)):
        # Starlette names only the methods of the first route on the path; name them all.
        detail = f"{request.method} is not served here; use {', '.join(allowed)}"
        headers["Allow"] = ", ".join(allowed)
    return problem_response(request, exc.status_code, detail, headers=headers or None)


def _allowed(request: Request) -> list[str]:
    """Every method the API document serves on the request's path."""
    paths: dict[str, dict[str, Any]] = request.app.openapi().get("paths", {})
    # A path without parameters first: /cases/search is not a /cases/{case_id}.
    for template, operations in sorted(paths.items(), key=lambda item: "{" in item[0]):
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            return sorted(method.upper() for method in operations)
    return []


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    if isinstance(exc, CaseNotFoundError):
        return problem_response(request, 404, "there is no such case")
    if isinstance(exc, ServiceNotFoundError):
        return problem_response(request, 404, str(exc))
    if isinstance(exc, VersionConflictError):
        return problem_response(request, 412, str(exc), current_version=exc.actual)
    if isinstance(exc, IllegalTransitionError):
        return problem_response(request, 409, str(exc), state=exc.state, allowed=exc.allowed)
    if isinstance(exc, CaseRestrictedError):
        return problem_response(request, 409, str(exc), state="restricted", allowed=[])
    if isinstance(exc, UnknownOfferError):
        errors = [{"field": "body.offer_ids", "message": str(exc)}]
        return problem_response(request, 422, str(exc), errors=errors)
    return problem_response(request, 422, str(exc), errors=[{"field": "body", "message": str(exc)}])


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error as problem details (500s are turned into problems by middleware)."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, http_problem)
    app.add_exception_handler(DomainError, _domain_error)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": title}
    for status, (_, title) in _STATUS_TITLES.items()
    if status in (400, 401, 403, 404, 405, 409, 412, 413, 422, 428, 503)
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the problem statuses an operation can answer."""
    return {s: PROBLEM_RESPONSES[s] for s in statuses}
