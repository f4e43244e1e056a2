"""Regional monitoring: the protected tables the programme office may read, as charts and tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from adapters.http.context import ServicesDep, audited, get_read_models
from adapters.http.dashboard import charts
from adapters.http.dashboard.labels import label_of
from adapters.http.dashboard.monitoring import Period, PeriodDep
from adapters.http.dashboard.render import page, secured
from adapters.http.dashboard.session import PREFIX, PageError, RegionReader
from ks_engine.access_log import AccessAction
from projections.publication import Publication, Table, to_csv

router = APIRouter(prefix=PREFIX, include_in_schema=False)
VOCABULARY = {
    "families_by_reporter": "reporter_role",
    "families_by_phase": "phase",
    "consent": "consent",
    "cases_closed": "outcome",
}
GRANULARITIES = {"month": "Maand", "quarter": "Kwartaal", "year": "Jaar"}
AREAS = {"municipality": "Per gemeente", "region": "De hele regio"}


@dataclass(frozen=True)
class Choice:
    """How the programme office wants the figures cut."""

    granularity: Literal["month", "quarter", "year"] = "quarter"
    area: Literal["municipality", "region"] = "municipality"


def _choice(
    granularity: Annotated[str, Query(max_length=10)] = "quarter",
    area: Annotated[str, Query(max_length=15)] = "municipality",
) -> Choice:
    return Choice(
        granularity=granularity if granularity in GRANULARITIES else "quarter",  # type: ignore[arg-type]
        area=area if area in AREAS else "municipality",  # type: ignore[arg-type]
    )


ChoiceDep = Annotated[Choice, Depends(_choice)]


async def _publication(services: ServicesDep, choice: Choice, period: Period) -> Publication:
    views = get_read_models(services)
    if services.publisher is None:
        raise PageError(503, "Niet beschikbaar", "De regionale monitoring is niet ingesteld.")
    publisher = services.publisher
    counts, days = await run_in_threadpool(
        views.monitoring.raw, None, Period.first_day(period.since), Period.first_day(period.until)
    )
    return await run_in_threadpool(publisher.publish, counts, days, choice.granularity, choice.area)


def notes_in_dutch(publication: Publication) -> list[str]:
    """The publication's notes for the page, in Dutch."""
    births = publication.notes[0] if publication.notes else ""
    if "illustrative" in births:
        first = "Geboortecijfers: verzonnen voorbeeldcijfers van de demo, geen CBS-cijfers."
    elif "no births file" in births:
        first = "Er is geen geboortebestand ingesteld (KS_BIRTHS_PATH): bereik wordt niet getoond."
    else:
        first = "Geboortecijfers: CBS StatLine, aangeleverd door de beheerder."
    return [
        first,
        "Publiceer per periode één indeling: maand- en kwartaaltabellen van dezelfde cijfers "
        "naast elkaar zijn van elkaar af te trekken.",
    ]


def shown(figure: Any) -> str:
    """A published figure in words: the number, '± n' rounded, or 'afgeschermd'."""
    if figure.status == "suppressed" or figure.value is None:
        return "afgeschermd"
    text = f"{figure.value:g}"
    return f"ongeveer {text}" if figure.status == "rounded" else text


def category_label(indicator: str, category: str, offers: dict[str, str]) -> str:
    if indicator == "offers_matched":
        return offers.get(category, category)
    if indicator == "evaluation_outcome_by_offer":
        offer, _, outcome = category.partition("/")
        return f"{offers.get(offer, offer)}: {label_of('need_result', outcome)}"
    vocabulary = VOCABULARY.get(indicator)
    return label_of(vocabulary, category) if vocabulary else category


def view_of(table: Table, offers: dict[str, str]) -> dict[str, Any]:
    """One table, labelled in Dutch, with the chart of its totals per category."""
    labels = [category_label(table.indicator, c, offers) for c in table.categories]
    totals = [f.value if f.status != "suppressed" else None for f in table.category_totals]
    chart = charts.bars(list(zip(labels, totals, strict=True)))
    return {
        "table": table,
        "title": f"{label_of('measure', table.indicator)}, {table.period}",
        "labels": labels,
        "chart": chart,
        "rows": [
            {"label": lbl, "figure": f}
            for lbl, f in zip(labels, table.category_totals, strict=True)
        ],
    }


@router.get("/regio", dependencies=[audited(AccessAction.READ)])
async def region_page(
    request: Request,
    principal: RegionReader,
    services: ServicesDep,
    choice: ChoiceDep,
    period: PeriodDep,
) -> Response:
    publication = await _publication(services, choice, period)
    offers = {s.id: s.name for s in services.referrals.catalogue.services}
    tables = sorted(publication.tables, key=lambda t: (t.period, t.indicator), reverse=True)
    query = f"granularity={choice.granularity}&area={choice.area}"
    query += "".join(
        f"&{k}={v}" for k, v in (("since", period.since), ("until", period.until)) if v
    )
    context = {
        "publication": publication,
        "views": [view_of(t, offers) for t in tables],
        "choice": choice,
        "period": period,
        "granularities": GRANULARITIES,
        "areas": AREAS,
        "csv_query": query,
        "shown": shown,
        "notes": notes_in_dutch(publication),
    }
    return page(request, "region.html", context)


@router.get("/regio.csv", dependencies=[audited(AccessAction.READ)])
async def region_csv(
    principal: RegionReader, services: ServicesDep, choice: ChoiceDep, period: PeriodDep
) -> Response:
    publication = await _publication(services, choice, period)
    response = Response(to_csv(publication), media_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="regionale-monitoring.csv"'
    return secured(response)
