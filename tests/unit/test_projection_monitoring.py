"""Monitoring figures from events and the statistics of a report (pure logic)."""

from __future__ import annotations

import pytest

from projections.monitoring import Duration, Tally, apply, median, percentile, suppressed
from tests.unit.test_projection_scenario import make_event

SIGNAL = {
    "reporter": {"organisation": "org-jgz", "role": "youth_health_care"},
    "phase": "postnatal",
    "phase_date": "2026-10-20",
    "risk_factors": ["debts", "stress"],
    "urgency": "routine",
}


def at(day: str) -> dict[str, str]:
    return {"occurred_at": f"{day}T10:00:00+01:00"}


def test_a_first_signal_opens_a_case_and_counts_role_phase_and_risks() -> None:
    facts, tallies, durations = apply(
        None,
        make_event(
            "Signalled", {"municipality": "GM0928", "person_pseudonym": "p" * 64, "signal": SIGNAL}
        ),
    )
    assert facts is not None
    assert facts.signalled_on.isoformat() == "2026-11-02"
    assert set(tallies) == {
        Tally("GM0928", "2026-11", "cases_opened", "all"),
        Tally("GM0928", "2026-11", "families_by_reporter", "youth_health_care"),
        Tally("GM0928", "2026-11", "families_by_phase", "postnatal"),
        Tally("GM0928", "2026-11", "signals_by_role", "youth_health_care"),
        Tally("GM0928", "2026-11", "signals_by_phase", "postnatal"),
        Tally("GM0928", "2026-11", "risk_factor", "debts"),
        Tally("GM0928", "2026-11", "risk_factor", "stress"),
    }
    assert durations == []


def test_a_later_signal_counts_itself_but_only_new_risk_factors() -> None:
    facts, _, _ = apply(
        None,
        make_event(
            "Signalled", {"municipality": "GM0928", "person_pseudonym": "p" * 64, "signal": SIGNAL}
        ),
    )
    later = dict(
        SIGNAL,
        risk_factors=["stress", "housing"],
        reporter={"organisation": "org-gp", "role": "general_practitioner"},
    )
    facts, tallies, _ = apply(
        facts, make_event("SignalAdded", {"signal": later} | at("2026-12-01"), seq=2, version=2)
    )
    assert facts is not None
    assert facts.risk_factors == ["debts", "stress", "housing"]
    assert set(tallies) == {
        Tally("GM0928", "2026-12", "signals_by_role", "general_practitioner"),
        Tally("GM0928", "2026-12", "signals_by_phase", "postnatal"),
        Tally("GM0928", "2026-12", "risk_factor", "housing"),
    }


def test_durations_count_only_the_first_time_a_step_is_reached() -> None:
    facts, _, _ = apply(
        None,
        make_event(
            "Signalled", {"municipality": "GM0928", "person_pseudonym": "p" * 64, "signal": SIGNAL}
        ),
    )
    scores = dict.fromkeys(
        (
            "bodily_functions",
            "mental_wellbeing",
            "meaningfulness",
            "quality_of_life",
            "participation",
            "daily_functioning",
        ),
        5,
    )
    discussed = {"participants": ["ggd"], "scores": scores, "needs": []}
    # Held on 30 November, recorded on 1 December: counts from the day it was held
    facts, _, first = apply(
        facts,
        make_event(
            "Discussed", discussed | {"on": "2026-11-30"} | at("2026-12-01"), seq=2, version=2
        ),
    )
    facts, _, again = apply(
        facts,
        make_event(
            "Discussed", discussed | {"on": "2026-12-03"} | at("2026-12-03"), seq=3, version=3
        ),
    )
    assert first == [Duration("GM0928", "2026-11", "days_to_discussion", 28)]
    assert again == []


def test_consent_support_closing_and_escalation_are_counted_by_code() -> None:
    facts, _, _ = apply(
        None,
        make_event(
            "Signalled",
            {"municipality": "GM0882", "person_pseudonym": "p" * 64, "signal": SIGNAL},
            municipality="GM0882",
        ),
    )
    steps = [
        ("ConsentGiven", {"scope": ["ggd"]}, Tally("GM0882", "2026-11", "consent", "given")),
        (
            "SupportMatched",
            {
                "offers": [{"offer_id": "voorzorg", "provider": "ggd"}],
                "planned_start": "2026-12-01",
            },
            Tally("GM0882", "2026-11", "offers_matched", "voorzorg"),
        ),
        ("ConsentWithdrawn", {}, Tally("GM0882", "2026-11", "consent", "withdrawn")),
        (
            "Escalated",
            {"meldcode_step": "consult", "legal_basis": "Wmo 2015 art. 5.2.6"},
            Tally("GM0882", "2026-11", "escalations", "consult"),
        ),
        (
            "Closed",
            {"outcome": "moved_away"},
            Tally("GM0882", "2026-11", "cases_closed", "moved_away"),
        ),
    ]
    for version, (name, data, expected) in enumerate(steps, start=2):
        facts, tallies, _ = apply(
            facts, make_event(name, data, seq=version, version=version, municipality="GM0882")
        )
        assert tallies == [expected]


@pytest.mark.parametrize(
    ("values", "mid", "p90"),
    [
        ([4], 4.0, 4.0),
        ([7, 4], 5.5, 7.0),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5.5, 9.0),
        ([3, 1, 2], 2.0, 3.0),
        (list(range(1, 21)), 10.5, 18.0),
    ],
)
def test_median_and_nearest_rank_percentile(values: list[int], mid: float, p90: float) -> None:
    assert (median(values), percentile(values, 90)) == (mid, p90)


def test_cells_below_the_threshold_are_suppressed() -> None:
    assert [suppressed(n, 10) for n in (1, 9, 10, 11)] == [True, True, False, False]
    assert not suppressed(1, 1)
    assert not suppressed(1, 0)


@pytest.mark.parametrize(
    ("results", "outcome"),
    [
        ({"financial": "met", "housing": "met"}, "met"),
        ({"financial": "met", "housing": "not_met"}, "partly"),
        ({"financial": "partly"}, "partly"),
        ({"financial": "not_met", "housing": "not_met"}, "not_met"),
    ],
)
def test_an_evaluation_counts_one_outcome_per_offer_of_the_match(
    results: dict[str, str], outcome: str
) -> None:
    facts, _, _ = apply(
        None,
        make_event(
            "Signalled", {"municipality": "GM0928", "person_pseudonym": "p" * 64, "signal": SIGNAL}
        ),
    )
    offers = [
        {"offer_id": "voorzorg", "provider": "ggd"},
        {"offer_id": "home-start", "provider": "hs"},
    ]
    matched = {"offers": offers, "planned_start": "2026-12-01"}
    facts, _, _ = apply(facts, make_event("SupportMatched", matched, seq=2, version=2))
    scores = dict.fromkeys(
        (
            "bodily_functions",
            "mental_wellbeing",
            "meaningfulness",
            "quality_of_life",
            "participation",
            "daily_functioning",
        ),
        6,
    )
    evaluated = {"on": "2027-01-10", "needs": results, "scores": scores, "next_step": "continue"}
    _, tallies, _ = apply(facts, make_event("Evaluated", evaluated, seq=3, version=3))
    published = [t for t in tallies if t.measure == "evaluation_outcome_by_offer"]
    assert published == [
        Tally("GM0928", "2026-11", "evaluation_outcome_by_offer", f"voorzorg/{outcome}"),
        Tally("GM0928", "2026-11", "evaluation_outcome_by_offer", f"home-start/{outcome}"),
    ]  # once per offer, however many needs were evaluated
    per_need = [t for t in tallies if t.measure == "evaluation_by_offer"]
    assert len(per_need) == 2 * len(results)


def test_days_to_support_start_count_from_the_signal_to_the_first_day_of_support() -> None:
    facts, _, _ = apply(
        None,
        make_event(
            "Signalled", {"municipality": "GM0928", "person_pseudonym": "p" * 64, "signal": SIGNAL}
        ),
    )
    # Recorded on 4 December, support began on 1 December: 29 days after 2 November's signal.
    started = {"on": "2026-12-01", "lead_professional": "JGZ"} | at("2026-12-04")
    facts, _, first = apply(facts, make_event("SupportStarted", started, seq=2, version=2))
    again = {"on": "2027-01-05", "lead_professional": "JGZ"} | at("2027-01-05")
    _, _, later = apply(facts, make_event("SupportStarted", again, seq=3, version=3))
    assert first == [Duration("GM0928", "2026-12", "days_to_support_start", 29)]
    assert later == []
