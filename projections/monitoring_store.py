"""The monitoring tables, their projection and the read API (aggregates only).

Read API::

    stats = Monitoring(db, threshold=10)
    rows = stats.rows(municipalities=["GM0928"], since=date(2026, 1, 1), until=None)
    # -> list[MonitoringRow]: municipality, month, measure, category, value, suppressed
    to_csv(rows)                        # -> CSV text with a header line

Counts are rows with the count as ``value``; each duration measure gives three rows per
municipality and month: ``cases``, ``median`` and ``p90`` (days). A count below the
threshold, and every figure of a duration over fewer cases than the threshold, is reported
with ``value`` empty and ``suppressed`` true. No row names a case or a person.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, NamedTuple

import orjson
from pydantic import BaseModel

from projections import monitoring
from projections.event import ReferralEvent
from projections.monitoring import (
    CaseFacts,
    Figure,
    median,
    month_of,
    percentile,
    suppressed,
)
from projections.store import Folded, Transaction, ViewDatabase, Writes, apply_folded, plain

NAME = "monitoring"
DEFAULT_THRESHOLD = 10

_DDL = (
    "CREATE TABLE IF NOT EXISTS monitoring_case ("
    " case_id TEXT PRIMARY KEY, municipality TEXT NOT NULL, doc TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS monitoring_count ("
    " municipality TEXT NOT NULL, month TEXT NOT NULL, measure TEXT NOT NULL,"
    " category TEXT NOT NULL, n INTEGER NOT NULL,"
    " PRIMARY KEY (municipality, month, measure, category))",
    "CREATE TABLE IF NOT EXISTS monitoring_duration ("
    " case_id TEXT NOT NULL, measure TEXT NOT NULL, municipality TEXT NOT NULL,"
    " month TEXT NOT NULL, days INTEGER NOT NULL, PRIMARY KEY (case_id, measure))",
)


class MonitoringProjection:
    """Counts per municipality and month, and the durations behind the percentiles."""

    name = NAME

    def create_tables(self, tx: Transaction) -> None:
        for statement in _DDL:
            tx.execute(statement)

    def clear(self, tx: Transaction) -> None:
        for table in ("monitoring_case", "monitoring_count", "monitoring_duration"):
            tx.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    select = "SELECT case_id, doc FROM monitoring_case WHERE case_id IN ({})"

    def apply_all(self, tx: Transaction, events: Sequence[ReferralEvent]) -> None:
        apply_folded(tx, self, events)

    def fold(self, stored: Mapping[str, str], events: Sequence[ReferralEvent]) -> Folded:
        # Counts are added to what the table holds: batches folded apart add up the same.
        cases = {case_id: plain(CaseFacts, doc) for case_id, doc in stored.items()}
        changed: set[str] = set()
        counts: Counter[Figure] = Counter()
        durations: list[tuple[str, str, str, str, int]] = []
        for event in events:
            facts, figures, reached = monitoring.fold(cases.get(event.case_id), event)
            if facts is None:
                continue
            cases[event.case_id] = facts
            changed.add(event.case_id)
            counts.update(figures)
            durations.extend((event.case_id, m, place, month, n) for place, month, m, n in reached)
        rows = [
            (f["case_id"], f["municipality"], orjson.dumps(f).decode())
            for case_id, f in cases.items()
            if case_id in changed
        ]
        writes: Writes = [
            (_UPSERT_CASE, rows),
            (_ADD_COUNT, [(*key, n) for key, n in counts.items()]),
            (_ADD_DURATION, durations),
        ]
        return Folded(writes, {row[0]: row[2] for row in rows})


_UPSERT_CASE = (
    "INSERT INTO monitoring_case (case_id, municipality, doc) VALUES (?, ?, ?)"
    " ON CONFLICT (case_id) DO UPDATE SET municipality = excluded.municipality, doc = excluded.doc"
)
_ADD_COUNT = (
    "INSERT INTO monitoring_count (municipality, month, measure, category, n)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (municipality, month, measure, category)"
    " DO UPDATE SET n = monitoring_count.n + excluded.n"
)
# The first time a case reaches a step is the one that counts.
_ADD_DURATION = (
    "INSERT INTO monitoring_duration (case_id, measure, municipality, month, days)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (case_id, measure) DO NOTHING"
)


class Count(NamedTuple):
    """An exact count of one category of a measure in one municipality and month."""

    municipality: str
    month: str
    measure: str
    category: str
    n: int


class Days(NamedTuple):
    """The days one case took to reach a step, counted in the month it was reached."""

    municipality: str
    month: str
    measure: str
    days: int


class MonitoringRow(BaseModel):
    """One published figure: a count, or a duration's number of cases, median or p90."""

    municipality: str
    month: str
    measure: str
    category: str
    value: float | None
    suppressed: bool


def _filters(
    municipalities: Sequence[str] | None, since: date | None, until: date | None
) -> tuple[str, list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if municipalities is not None:
        marks = ", ".join("?" for _ in municipalities)
        where.append(f"municipality IN ({marks})" if municipalities else "1 = 0")
        params.extend(municipalities)
    if since is not None:
        where.append("month >= ?")
        params.append(month_of(since))
    if until is not None:
        where.append("month <= ?")
        params.append(month_of(until))
    return (" WHERE " + " AND ".join(where) if where else ""), params


class Monitoring:
    """Read API of the monitoring figures (see the module docstring)."""

    def __init__(self, db: ViewDatabase, threshold: int = DEFAULT_THRESHOLD) -> None:
        self.db = db
        self.threshold = threshold

    def raw(
        self,
        municipalities: Sequence[str] | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> tuple[list[Count], list[Days]]:
        """The exact counts and the days behind each duration (no case ids), unsuppressed:
        for the coordinators' own figures and for ``projections.publication`` to protect."""
        where, params = _filters(municipalities, since, until)
        # ``where`` holds fixed clauses only; every value is a bound parameter.
        with self.db.read() as tx:
            counts = tx.fetchall(
                "SELECT municipality, month, measure, category, n FROM monitoring_count"  # noqa: S608
                + where,
                params,
            )
            days = tx.fetchall(
                "SELECT municipality, month, measure, days FROM monitoring_duration"  # noqa: S608
                + where,
                params,
            )
        return (
            [Count(m, mo, me, c, int(n)) for m, mo, me, c, n in counts],
            [Days(m, mo, me, int(d)) for m, mo, me, d in days],
        )

    def rows(
        self,
        municipalities: Sequence[str] | None = None,
        since: date | None = None,
        until: date | None = None,
        *,
        exact: bool = False,
    ) -> list[MonitoringRow]:
        """Every figure of the chosen municipalities and months; cells below the threshold
        suppressed unless ``exact`` (a coordinator's own municipalities: they see the cases)."""
        counts, days = self.raw(municipalities, since, until)
        threshold = 0 if exact else self.threshold
        rows = [self._row(m, mo, me, c, n, threshold) for m, mo, me, c, n in counts]
        grouped: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        for m, mo, me, d in days:
            grouped[(m, mo, me)].append(d)
        for (m, mo, me), values in grouped.items():
            hide = suppressed(len(values), threshold)
            rows.append(self._row(m, mo, me, "cases", len(values), threshold))
            for category, figure in (("median", median(values)), ("p90", percentile(values, 90))):
                rows.append(
                    MonitoringRow(
                        municipality=m,
                        month=mo,
                        measure=me,
                        category=category,
                        value=None if hide else figure,
                        suppressed=hide,
                    )
                )
        return sorted(rows, key=lambda r: (r.municipality, r.month, r.measure, r.category))

    def _row(
        self, m: str, month: str, measure: str, category: str, n: int, threshold: int
    ) -> MonitoringRow:
        hide = suppressed(n, threshold)
        return MonitoringRow(
            municipality=m,
            month=month,
            measure=measure,
            category=category,
            value=None if hide else float(n),
            suppressed=hide,
        )


CSV_COLUMNS = ("municipality", "month", "measure", "category", "value", "suppressed")


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else f"{value:.1f}"


def to_csv(rows: Sequence[MonitoringRow]) -> str:
    """The figures as CSV; a suppressed figure has an empty value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        value = "" if r.value is None else _number(r.value)
        writer.writerow(
            (r.municipality, r.month, r.measure, r.category, value, str(r.suppressed).lower())
        )
    return out.getvalue()
