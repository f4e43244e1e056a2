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
from typing import Any

from pydantic import BaseModel

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


Facts = dict[str, Any]  # a CaseFacts as plain JSON values
Figure = tuple[str, str, str, str]  # municipality, month, measure, category: one more of it
Reached = tuple[str, str, str, int]  # municipality, month, measure, days to the step


def apply(
    facts: CaseFacts | None, event: ReferralEvent
) -> tuple[CaseFacts | None, list[Tally], list[Duration]]:
    """The case's facts after ``event`` and the figures the event adds (``facts`` are left as
    they were). The fold itself is :func:`fold`."""
    after, figures, days = fold(None if facts is None else facts.model_dump(mode="json"), event)
    return (
        None if after is None else CaseFacts.model_validate(after),
        [Tally(*f) for f in figures],
        [Duration(*d) for d in days],
    )


def fold(
    facts: Facts | None, event: ReferralEvent
) -> tuple[Facts | None, list[Figure], list[Reached]]:
    """The case's facts after ``event`` (changed in place: the caller owns them) and the
    figures the event adds, on the event's plain JSON fields."""
    b = event.body
    name = event.name
    day = b["occurred_at"][:10]  # the date in the event's own (Dutch) time, as JSON writes it
    place, month = event.municipality, day[:7]
    figures: list[Figure] = []

    def count(measure: str, *categories: str) -> None:
        figures.extend((place, month, measure, c) for c in categories)

    if name == "Signalled":
        facts = {
            "case_id": event.case_id,
            "municipality": place,
            "signalled_on": day,
            "risk_factors": [],
            "reached": [],
            "offers": [],
        }
        count("cases_opened", "all")
        # A family counts once, by the first signal's reporter and phase.
        count("families_by_reporter", b["signal"]["reporter"]["role"])
        count("families_by_phase", b["signal"]["phase"])
    elif facts is None:
        return None, [], []
    if name in ("Signalled", "SignalAdded"):
        signal = b["signal"]
        count("signals_by_role", signal["reporter"]["role"])
        count("signals_by_phase", signal["phase"])
        known = facts["risk_factors"]
        new = [r for r in signal["risk_factors"] if r not in known]
        known += new
        count("risk_factor", *new)
    elif name in _CONSENT:
        count("consent", _CONSENT[name])
    elif name == "SupportMatched":
        offers = [o["offer_id"] for o in b["offers"]]
        count("offers_matched", *offers)
        facts["offers"] = offers
    elif name == "Evaluated":
        results = list(b["needs"].values())
        offers = facts["offers"]
        count("evaluation_by_offer", *(f"{o}/{r}" for o in offers for r in results))
        if results:
            outcome = evaluation_outcome(results)
            count("evaluation_outcome_by_offer", *(f"{o}/{outcome}" for o in offers))
    elif name == "Closed":
        count("cases_closed", b["outcome"])
    elif name == "CasesMerged" and b["merged_case_id"] == event.case_id:
        count("cases_closed", "merged")
    elif name == "Escalated":
        count("escalations", b["meldcode_step"])
    days: list[Reached] = []
    measure = DURATION_MEASURES.get(name)
    if measure is not None and measure not in facts["reached"]:
        # A discussion counts from the day it was held, which may precede its recording.
        reached_on = b["on"] if name in ("Discussed", "SupportStarted") else day
        facts["reached"].append(measure)
        taken = date.fromisoformat(reached_on) - date.fromisoformat(facts["signalled_on"])
        days.append((place, reached_on[:7], measure, taken.days))
    return facts, figures, days


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
