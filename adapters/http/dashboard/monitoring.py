"""The monitoring page: per municipality and month, charts and tables of the figures; CSV."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from adapters.http.context import ServicesDep, audited, get_read_models
from adapters.http.dashboard import charts
from adapters.http.dashboard.labels import label_of
from adapters.http.dashboard.render import page, secured
from adapters.http.dashboard.session import PREFIX, PageError, Reader
from adapters.http.routers.stats import to_csv
from ks_engine.access_log import AccessAction
from ks_engine.principals import Principal, Role

router = APIRouter(prefix=PREFIX, include_in_schema=False)

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_MUNICIPALITY = re.compile(r"^GM\d{4}$")
CSV_COLUMNS = ("municipality", "month", "measure", "category", "value", "suppressed")
CHARTED = ("signals_by_role", "consent", "offers_matched")


@dataclass(frozen=True)
class Period:
    """The chosen municipality and months (empty: all the reader may see)."""

    municipality: str = ""
    since: str = ""
    until: str = ""

    @staticmethod
    def first_day(month: str) -> date | None:
        found = _MONTH.fullmatch(month)
        return date(int(found.group(1)), int(found.group(2)), 1) if found else None


def _period(
    municipality: Annotated[str, Query(max_length=10)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
) -> Period:
    return Period(
        municipality=municipality if _MUNICIPALITY.fullmatch(municipality) else "",
        since=since if _MONTH.fullmatch(since) else "",
        until=until if _MONTH.fullmatch(until) else "",
    )


PeriodDep = Annotated[Period, Depends(_period)]


@dataclass
class Section:
    """The figures of one municipality in one month."""

    municipality: str
    month: str
    opened: dict[str, Any] | None = None
    figures: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    durations: dict[str, dict[str, Any]] = field(default_factory=dict)
    start_durations: dict[str, dict[str, Any]] = field(default_factory=dict)
    evaluations: list[dict[str, Any]] = field(default_factory=list)

    def bars(self, measure: str) -> charts.Bars:
        return charts.bars([(r["label"], r["value"]) for r in self.figures.get(measure, [])])


async def _rows(
    principal: Principal, services: ServicesDep, period: Period
) -> list[dict[str, Any]]:
    municipalities: list[str] | None
    if principal.role is Role.COORDINATOR:
        if period.municipality and not principal.serves(period.municipality):
            raise PageError(403, "Geen toegang", "U bent geen coördinator voor deze gemeente.")
        chosen = period.municipality
        municipalities = [chosen] if chosen else list(principal.municipalities)
    else:
        municipalities = [period.municipality] if period.municipality else None
    views = get_read_models(services)
    documents = await run_in_threadpool(
        partial(views.monitoring.rows, exact=principal.role is Role.COORDINATOR),
        municipalities,
        Period.first_day(period.since),
        Period.first_day(period.until),
    )
    return [d.model_dump(mode="json") for d in documents]


def sections(rows: Sequence[dict[str, Any]], offer_names: dict[str, str]) -> list[Section]:
    """The rows grouped per municipality and month, newest month first, labelled in Dutch."""
    found: dict[tuple[str, str], Section] = {}
    for row in rows:
        key = (row["municipality"], row["month"])
        section = found.setdefault(key, Section(*key))
        measure, category = row["measure"], row["category"]
        if measure == "cases_opened":
            section.opened = row
        elif measure in CHARTED:
            vocabulary = {"signals_by_role": "reporter_role", "consent": "consent"}.get(measure)
            label = (
                label_of(vocabulary, category)
                if vocabulary
                else offer_names.get(category, category)
            )
            section.figures.setdefault(measure, []).append(row | {"label": label})
        elif measure == "days_to_support":
            section.durations[category] = row
        elif measure == "days_to_support_start":
            section.start_durations[category] = row
        elif measure == "evaluation_by_offer":
            offer, _, result = category.partition("/")
            label = f"{offer_names.get(offer, offer)}: {label_of('need_result', result)}"
            section.evaluations.append(row | {"label": label})
    return sorted(found.values(), key=lambda s: (s.month, s.municipality), reverse=True)


@router.get("/monitoring", dependencies=[audited(AccessAction.READ)])
async def monitoring(
    request: Request, principal: Reader, services: ServicesDep, period: PeriodDep
) -> Response:
    rows = await _rows(principal, services, period)
    names = {s.id: s.name for s in services.referrals.catalogue.services}
    threshold = getattr(get_read_models(services).monitoring, "threshold", None)
    options: Sequence[str] = principal.municipalities
    context = {
        "sections": sections(rows, names),
        "period": period,
        "threshold": threshold,
        "exact": principal.role is Role.COORDINATOR,
        "options": options,
        "csv_query": "&".join(f"{k}={v}" for k, v in vars(period).items() if v),
    }
    return page(request, "monitoring.html", context)


@router.get("/monitoring.csv", dependencies=[audited(AccessAction.READ)])
async def monitoring_csv(principal: Reader, services: ServicesDep, period: PeriodDep) -> Response:
    rows = await _rows(principal, services, period)
    text = to_csv(rows) if rows else ",".join(CSV_COLUMNS) + "\n"
    response = Response(text, media_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="monitoring.csv"'
    return secured(response)
