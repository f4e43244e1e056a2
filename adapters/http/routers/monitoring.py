"""The monitoring export: what may leave the Knooppunt, protected against disclosure."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool

from adapters.http.context import ServicesDep, audited, get_read_models, require
from adapters.http.problems import UnavailableError, problem_responses
from adapters.http.schemas.moments import IsoDate
from ks_engine.access_log import AccessAction
from ks_engine.principals import Principal, Role
from projections.publication import Area, Granularity, Publication, to_csv

router = APIRouter(
    tags=["monitoring"],
    dependencies=[audited(AccessAction.READ)],
    responses=problem_responses(401, 403, 422, 503),
)

ExportReader = Annotated[Principal, require(Role.PROGRAMME_OFFICE, Role.COORDINATOR, Role.AUDITOR)]


@router.get(
    "/monitoring/export",
    summary="The region's monitoring as it may be published: per period and municipality or "
    "region, small counts suppressed so that no hidden cell can be worked out, small totals "
    "rounded (docs/monitoring.md); ?format=csv for a spreadsheet",
    response_model=Publication,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def export(
    principal: ExportReader,
    services: ServicesDep,
    granularity: Annotated[Granularity, Query(description="Period of each table.")] = "quarter",
    area: Annotated[Area, Query(description="A row per municipality, or the region.")] = (
        "municipality"
    ),
    since: Annotated[IsoDate | None, Query(description="From this day's month on.")] = None,
    until: Annotated[
        IsoDate | None, Query(description="Up to and including this day's month.")
    ] = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    views = get_read_models(services)
    if services.publisher is None:
        raise UnavailableError("the monitoring export is not configured")
    publisher = services.publisher
    counts, days = await run_in_threadpool(views.monitoring.raw, None, since, until)
    publication = await run_in_threadpool(publisher.publish, counts, days, granularity, area)
    if format == "csv":
        response = Response(to_csv(publication), media_type="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = 'attachment; filename="monitoring.csv"'
        return response
    return publication


__all__ = ["Publication", "router"]
