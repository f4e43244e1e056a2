"""The monitoring figures that leave the Knooppunt: aggregated, protected, ready to publish.

Promise: nothing published here lets a reader work out a count of fewer than the threshold
(see ``projections.disclosure``): counts are tables per period (month, quarter or year) with a
row per municipality of the region and their totals, protected as one table, and a region-wide
publication is the totals row of that same protected table, so the two never disagree.
Durations are published only over at least ``threshold`` cases, and then only their median and
90th percentile; reach only where the year's number of families is published exactly.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel

from domain.region import Region
from projections.disclosure import Figure, ProtectedTable, Rules, protect
from projections.monitoring import median, percentile
from projections.monitoring_store import Count, Days

Granularity = Literal["month", "quarter", "year"]
Area = Literal["municipality", "region"]

# The count tables, with what each figure means (docs/monitoring.md says more).
TABLES: dict[str, str] = {
    "families_by_reporter": "families signalled, by the reporter of the first signal",
    "families_by_phase": "families signalled, by the phase of the first signal",
    "consent": "consent given, declined and withdrawn (every answer and withdrawal)",
    "offers_matched": "support matched, per offer of the menukaart",
    "cases_closed": "cases closed, per result",
    "evaluation_outcome_by_offer": "evaluations of support per offer, by outcome: every need "
    "met, partly met, or none met",
}
DURATIONS: dict[str, str] = {
    "days_to_consent": "days from the first signal to consent given",
    "days_to_discussion": "days from the first signal to the case discussion",
    "days_to_support": "days from the first signal to support matched",
    "days_to_support_start": "days from the first signal to the first day of support",
}
TOTAL = "total"


def period_of(month: str, granularity: Granularity) -> str:
    """The period a ``YYYY-MM`` month falls in: ``2026-03``, ``2026-Q1`` or ``2026``."""
    if granularity == "month":
        return month
    year, number = month.split("-")
    return year if granularity == "year" else f"{year}-Q{(int(number) - 1) // 3 + 1}"


class Published(BaseModel):
    """One published figure."""

    value: float | None
    status: Literal["exact", "rounded", "suppressed"]


class AreaRef(BaseModel):
    code: str
    name: str


class Table(BaseModel):
    """A protected table of one indicator in one period."""

    indicator: str
    period: str
    areas: list[AreaRef]
    categories: list[str]
    cells: list[list[Published]]
    area_totals: list[Published]
    category_totals: list[Published]
    total: Published


class DurationFigure(BaseModel):
    """Median and 90th percentile of days, or suppressed over too few cases."""

    indicator: str
    period: str
    area: AreaRef
    median: float | None
    p90: float | None
    status: Literal["exact", "suppressed"]


class ReachFigure(BaseModel):
    """Families signalled per 100 live births in a year."""

    year: str
    area: AreaRef
    families: Published
    births: int | None
    per_100_births: float | None
    status: Literal["exact", "suppressed", "no_births"]


class Publication(BaseModel):
    """Everything one export holds, with the rules that made it safe."""

    region: AreaRef
    granularity: Granularity
    area: Area
    threshold: int
    rounding_base: int
    protection: int
    tables: list[Table]
    durations: list[DurationFigure]
    reach: list[ReachFigure]
    notes: list[str]


def _published(figure: Figure) -> Published:
    return Published(value=figure.value, status=figure.status)


def _rows_of(region: Region, seen: Iterable[str]) -> list[str]:
    """The region's Knooppunt municipalities and any other region municipality with figures."""
    present = set(seen)
    return [m.code for m in region.municipalities if m.knooppunt or m.code in present]


def count_tables(
    counts: Sequence[Count], region: Region, rules: Rules, granularity: Granularity
) -> dict[tuple[str, str], ProtectedTable]:
    """Every indicator's protected table per period, a row per municipality."""
    inside = set(region.codes)
    grouped: dict[tuple[str, str], dict[tuple[str, str], int]] = defaultdict(
        lambda: defaultdict(int)
    )
    for c in counts:
        if c.measure in TABLES and c.municipality in inside:
            key = (c.measure, period_of(c.month, granularity))
            grouped[key][(c.municipality, c.category)] += c.n
    tables: dict[tuple[str, str], ProtectedTable] = {}
    for key, cells in sorted(grouped.items()):
        rows = _rows_of(region, (m for m, _ in cells))
        columns = sorted({category for _, category in cells})
        values = [[cells.get((m, col), 0) for col in columns] for m in rows]
        tables[key] = protect(rows, columns, values, rules)
    return tables


def _table(indicator: str, period: str, t: ProtectedTable, region: Region, area: Area) -> Table:
    if area == "region":
        return Table(
            indicator=indicator,
            period=period,
            areas=[AreaRef(code=region.id, name=region.name)],
            categories=t.columns,
            cells=[[_published(f) for f in t.column_totals]],
            area_totals=[_published(t.total)],
            category_totals=[_published(f) for f in t.column_totals],
            total=_published(t.total),
        )
    return Table(
        indicator=indicator,
        period=period,
        areas=[AreaRef(code=c, name=region.name_of(c)) for c in t.rows],
        categories=t.columns,
        cells=[[_published(f) for f in row] for row in t.cells],
        area_totals=[_published(f) for f in t.row_totals],
        category_totals=[_published(f) for f in t.column_totals],
        total=_published(t.total),
    )


def durations(
    days: Sequence[Days], region: Region, rules: Rules, granularity: Granularity, area: Area
) -> list[DurationFigure]:
    """Median and p90 per area and period, over at least ``threshold`` cases."""
    inside = set(region.codes)
    grouped: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for d in days:
        if d.measure in DURATIONS and d.municipality in inside:
            code = region.id if area == "region" else d.municipality
            grouped[(d.measure, period_of(d.month, granularity), code)].append(d.days)
    figures = []
    for (measure, period, code), values in sorted(grouped.items()):
        name = region.name if area == "region" else region.name_of(code)
        enough = len(values) >= rules.threshold
        figures.append(
            DurationFigure(
                indicator=measure,
                period=period,
                area=AreaRef(code=code, name=name),
                median=median(values) if enough else None,
                p90=percentile(values, 90) if enough else None,
                status="exact" if enough else "suppressed",
            )
        )
    return figures


def reach(
    counts: Sequence[Count],
    births: dict[tuple[str, int], int],
    region: Region,
    rules: Rules,
    area: Area,
) -> list[ReachFigure]:
    """Families signalled per 100 live births, per year, where the families are published."""
    yearly = count_tables(counts, region, rules, "year")
    figures: list[ReachFigure] = []
    for (indicator, year), t in yearly.items():
        if indicator != "families_by_reporter":
            continue
        parts = [(region.id, region.name, t.total, t.rows)] if area == "region" else []
        if area == "municipality":
            parts = [
                (code, region.name_of(code), total, [code])
                for code, total in zip(t.rows, t.row_totals, strict=True)
            ]
        for code, name, families, members in parts:
            known = [births.get((m, int(year))) for m in members]
            born = None if None in known else sum(k for k in known if k is not None)
            status: Literal["exact", "suppressed", "no_births"] = "exact"
            per_100: float | None = None
            if families.status != "exact":
                status = "suppressed"
            elif not born:
                status = "no_births"
            else:
                per_100 = round(100 * (families.value or 0) / born, 1)
            figures.append(
                ReachFigure(
                    year=year,
                    area=AreaRef(code=code, name=name),
                    families=_published(families),
                    births=born,
                    per_100_births=per_100,
                    status=status,
                )
            )
    return figures


def publish(
    counts: Sequence[Count],
    days: Sequence[Days],
    *,
    region: Region,
    births: dict[tuple[str, int], int],
    births_note: str,
    rules: Rules,
    granularity: Granularity,
    area: Area,
) -> Publication:
    """The protected publication of these figures (see the module docstring)."""
    tables = [
        _table(indicator, period, t, region, area)
        for (indicator, period), t in count_tables(counts, region, rules, granularity).items()
    ]
    return Publication(
        region=AreaRef(code=region.id, name=region.name),
        granularity=granularity,
        area=area,
        threshold=rules.threshold,
        rounding_base=rules.rounding_base,
        protection=rules.protection,
        tables=tables,
        durations=durations(days, region, rules, granularity, area),
        reach=reach(counts, births, region, rules, area),
        notes=[
            births_note,
            "one granularity per publication: monthly and quarterly tables of the same "
            "figures published side by side could be subtracted from each other",
        ],
    )


CSV_COLUMNS = ("indicator", "period", "area", "area_name", "category", "value", "status")


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def to_csv(publication: Publication) -> str:
    """The publication as one CSV: a line per figure; totals under category ``total``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    region = publication.region
    for t in publication.tables:
        for area, cells, total in zip(t.areas, t.cells, t.area_totals, strict=True):
            for category, f in [*zip(t.categories, cells, strict=True), (TOTAL, total)]:
                writer.writerow(
                    (
                        t.indicator,
                        t.period,
                        area.code,
                        area.name,
                        category,
                        _number(f.value),
                        f.status,
                    )
                )
        if publication.area == "municipality":
            for category, f in [
                *zip(t.categories, t.category_totals, strict=True),
                (TOTAL, t.total),
            ]:
                writer.writerow(
                    (
                        t.indicator,
                        t.period,
                        region.code,
                        region.name,
                        category,
                        _number(f.value),
                        f.status,
                    )
                )
    for d in publication.durations:
        for category, v in (("median", d.median), ("p90", d.p90)):
            writer.writerow(
                (d.indicator, d.period, d.area.code, d.area.name, category, _number(v), d.status)
            )
    for r in publication.reach:
        writer.writerow(
            (
                "reach_per_100_births",
                r.year,
                r.area.code,
                r.area.name,
                "families_per_100_births",
                _number(r.per_100_births),
                r.status,
            )
        )
    return out.getvalue()
