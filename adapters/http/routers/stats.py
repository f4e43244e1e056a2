"""Monitoring figures of the Knooppunten, as JSON or CSV (aggregates only, no pseudonyms)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool

from adapters.http.context import ServicesDep, audited, get_read_models, require
from adapters.http.problems import ForbiddenError, problem_responses
from adapters.http.schemas.moments import IsoDate
from adapters.http.schemas.queries import StatsOut
from ks_engine.access_log import AccessAction
from ks_engine.principals import Principal, Role

router = APIRouter(
    tags=["monitoring"],
    dependencies=[audited(AccessAction.READ)],
    responses=problem_responses(401, 403, 422, 503),
)

StatsReader = Annotated[Principal, require(Role.COORDINATOR, Role.AUDITOR)]


def flatten(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested figures as one level of ``a.b`` columns."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, list | tuple):
            flat[name] = ";".join(str(v) for v in value)
        else:
            flat[name] = value
    return flat


def to_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows as CSV with the union of their columns, in first-seen order."""
    flat = [flatten(r) for r in rows]
    columns: dict[str, None] = {}
    for r in flat:
        columns.update(dict.fromkeys(r))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)
    return out.getvalue()


@router.get(
    "/stats",
    summary="Monitoring per municipality and month: exact for a coordinator's own "
    "municipalities, small cells suppressed for auditors (?format=csv for a spreadsheet)",
    response_model=StatsOut,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def stats(
    principal: StatsReader,
    services: ServicesDep,
    municipality: Annotated[str | None, Query(pattern=r"^GM\d{4}$")] = None,
    since: Annotated[IsoDate | None, Query(description="From this day's month on.")] = None,
    until: Annotated[
        IsoDate | None, Query(description="Up to and including this day's month.")
    ] = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    municipalities: list[str] | None
    if principal.role is Role.COORDINATOR:
        if municipality is not None and not principal.serves(municipality):
            raise ForbiddenError(f"you do not coordinate for municipality {municipality}")
        municipalities = [municipality] if municipality else list(principal.municipalities)
    else:
        municipalities = [municipality] if municipality else None
    views = get_read_models(services)
    # Coordinators see their own municipalities' cases one by one: their figures are exact.
    exact = principal.role is Role.COORDINATOR
    documents = await run_in_threadpool(
        partial(views.monitoring.rows, exact=exact), municipalities, since, until
    )
    rows = [d.model_dump(mode="json") for d in documents]
    if format == "csv":
        return Response(to_csv(rows), media_type="text/csv; charset=utf-8")
    return StatsOut(rows=[dict(r) for r in rows])
