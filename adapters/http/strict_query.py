"""Unknown query parameters are refused, not ignored: `GET /cases?stat=open` would otherwise
answer every case as if the filter had been applied. A documented operation that declares
query parameters answers 422 naming the parameter it does not know and the ones it takes."""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from domain.redaction import redact_bsns

_known: dict[int, frozenset[str]] = {}


def _query_names(dependant: Dependant) -> set[str]:
    """The query parameters of an operation and of every dependency it has, at any depth."""
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _known_of(route: APIRoute) -> frozenset[str]:
    known = _known.get(id(route))
    if known is None:
        known = _known[id(route)] = frozenset(_query_names(route.dependant))
    return known


def refuse_unknown_query_parameters(request: Request) -> None:
    """422 for a query parameter the operation does not declare (called as an audited
    request's access-log entry begins, so the refusal is logged like any other)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not route.include_in_schema:
        return  # the dashboard's pages keep their own, lenient, links
    known = _known_of(route)
    if not known:
        return
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        taken = ", ".join(sorted(known))
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("query", shown),
                    "msg": f"this operation has no query parameter {shown!r}; it takes: {taken}",
                    "input": None,
                }
                for shown in (redact_bsns(name) for name in unknown)  # a name may hold a BSN
            ]
        )
