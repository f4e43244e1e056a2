"""Monitoring of the Knooppunt: pure event -> figures logic, and the statistics of a report.

Figures are kept per municipality and calendar month (Dutch local time of the event):

- ``cases_opened``; ``families_by_reporter`` and ``families_by_phase`` (each case once, by
  its first signal); ``signals_by_role`` and ``signals_by_phase`` (every signal, the first
  one and every later one); ``risk_factor`` (cases naming the factor, counted once per case
  in the month it was first named);
- ``consent`` given / declined / withdrawn (every such event);
- ``offers_matched`` per offer; ``cases_closed`` per outcome; ``escalations`` per Meldcode
  step;
- ``days_to_consent``, ``days_to_discussion``, ``days_to_support``: calendar days from the
  first signal to the first consent, discussion (the day it was held) and support match,
  counted in the month the step was reached, reported as the number of cases, the median and
  the 90th percentile (nearest rank); ``days_to_support_start`` likewise to the first day the
  support really began (the programme's key indicator);
- ``evaluation_by_offer``: per offer matched to the case and per need evaluated, whether the
  need was met, partly met or not met (category ``<offer>/<result>``);
- ``evaluation_outcome_by_offer``: per evaluation and per offer matched to the case, one
  outcome for the evaluation as a whole: ``met`` (every need evaluated was met), ``not_met``
  (none was met or partly met) or ``partly`` (category ``<offer>/<outcome>``). A family counts
  once per evaluation, not once per need, so this is the count monitoring may publish.

Cells below the threshold are suppressed in reports: counts per case or signal of small
numbers could identify a family.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel

from projections import event as ev
from projections.event import ReferralEvent

DURATION_MEASURES: dict[str, str] = {
    "ConsentGiven": "days_to_consent",
    "Discussed": "days_to_discussion",
    "SupportMatched": "days_to_support",
    "SupportStarted": "days_to_support_start",
}
_CONSENT: dict[str, str] = {
    "ConsentGiven": "given",
    "ConsentDeclined": "declined",
    "ConsentWithdrawn": "withdrawn",
}


class CaseFacts(BaseModel):
    """What monitoring remembers of one case to count each fact once."""

    case_id: str
    municipality: str
    signalled_on: date
    risk_factors: list[str] = []
    reached: list[str] = []
    offers: list[str] = []  # the offers of the latest match


@dataclass(frozen=True)
class Tally:
    """One more of ``category`` in ``measure`` for a municipality and month."""

    municipality: str
    month: str
    measure: str
    category: str


@dataclass(frozen=True)
class Duration:
    """Days a case took to reach a step, counted in the month it was reached."""

    municipality: str
    month: str
    measure: str
    days: int


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def apply(
    facts: CaseFacts | None, event: ReferralEvent, *, owned: bool = False
) -> tuple[CaseFacts | None, list[Tally], list[Duration]]:
    """The case's facts after ``event`` and the figures the event adds.

    ``facts`` are left as they were, unless the caller hands them over (``owned``) because it
    will not use them again: then they are changed in place instead of copied first."""
    data = event.data
    day = data.occurred_at.date()
    month = month_of(day)
    tallies: list[Tally] = []

    def count(measure: str, *categories: str) -> None:
        tallies.extend(Tally(event.municipality, month, measure, c) for c in categories)

    if isinstance(data, ev.Signalled):
        facts = CaseFacts(case_id=event.case_id, municipality=event.municipality, signalled_on=day)
        count("cases_opened", "all")
        # A family counts once, by the first signal's reporter and phase.
        count("families_by_reporter", data.signal.reporter.role.value)
        count("families_by_phase", data.signal.phase.value)
    elif facts is None:
        return None, [], []
    elif not owned:
        facts = facts.model_copy(deep=True)
    if isinstance(data, ev.Signalled | ev.SignalAdded):
        count("signals_by_role", data.signal.reporter.role.value)
        count("signals_by_phase", data.signal.phase.value)
        new = [r.value for r in data.signal.risk_factors if r.value not in facts.risk_factors]
        facts.risk_factors += new
        count("risk_factor", *new)
    elif isinstance(data, ev.ConsentGiven | ev.ConsentDeclined | ev.ConsentWithdrawn):
        count("consent", _CONSENT[event.name])
    elif isinstance(data, ev.SupportMatched):
        count("offers_matched", *(o.offer_id for o in data.offers))
        facts.offers = [o.offer_id for o in data.offers]
    elif isinstance(data, ev.Evaluated):
        results = [r.value for r in data.needs.values()]
        count("evaluation_by_offer", *(f"{o}/{r}" for o in facts.offers for r in results))
        if results:
            outcome = evaluation_outcome(results)
            count("evaluation_outcome_by_offer", *(f"{o}/{outcome}" for o in facts.offers))
    elif isinstance(data, ev.Closed):
        count("cases_closed", data.outcome.value)
    elif isinstance(data, ev.CasesMerged) and data.merged_case_id == event.case_id:
        count("cases_closed", "merged")
    elif isinstance(data, ev.Escalated):
        count("escalations", data.meldcode_step.value)
    durations: list[Duration] = []
    measure = DURATION_MEASURES.get(event.name)
    if measure is not None and measure not in facts.reached:
        # A discussion counts from the day it was held, which may precede its recording.
        reached_on = data.on if isinstance(data, ev.Discussed | ev.SupportStarted) else day
        facts.reached.append(measure)
        days = (reached_on - facts.signalled_on).days
        durations.append(Duration(event.municipality, month_of(reached_on), measure, days))
    return facts, tallies, durations


def evaluation_outcome(results: Sequence[str]) -> str:
    """One evaluation's outcome: ``met`` if every need was, ``not_met`` if none, else ``partly``."""
    if all(r == "met" for r in results):
        return "met"
    return "not_met" if all(r == "not_met" for r in results) else "partly"


def median(values: Sequence[int]) -> float:
    """The median (mean of the two middle values for an even count)."""
    return float(statistics.median(values))


def percentile(values: Sequence[int], p: float) -> float:
    """The ``p``-th percentile by nearest rank: the smallest value with p% at or below it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return float(ordered[rank - 1])


def suppressed(n: int, threshold: int) -> bool:
    """Whether a cell of ``n`` must be hidden (below the threshold, and not zero)."""
    return 0 < n < threshold
