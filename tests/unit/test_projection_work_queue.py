"""Work queue rows from events, step by step (pure logic, no database)."""

from __future__ import annotations

from datetime import date

from domain.deadlines import ServiceLevels
from domain.lifecycle import State
from projections.work_queue import WorkItem, apply
from tests.unit.test_projection_scenario import make_event

LEVELS = ServiceLevels(
    consent_request_working_days=5, consent_answer_days=10, discussion_days=7, support_days=3
)
SIGNAL = {
    "reporter": {"organisation": "org-midwife", "role": "midwife"},
    "phase": "pregnancy",
    "phase_date": "2027-03-01",
    "risk_factors": ["debts", "stress"],
    "urgency": "soon",
}


def signalled() -> WorkItem:
    item = apply(
        None,
        make_event(
            "Signalled", {"municipality": "GM0928", "person_pseudonym": "p" * 64, "signal": SIGNAL}
        ),
        LEVELS,
    )
    assert item is not None
    return item


def test_a_new_case_waits_for_a_consent_request_within_five_working_days() -> None:
    item = signalled()
    # Monday 2 November 2026 + 5 working days = Monday 9 November
    assert (item.state, item.deadline_step, item.deadline_due) == (
        State.SIGNALLED,
        "request_consent",
        date(2026, 11, 9),
    )
    assert (item.signal_count, item.urgency.value, item.risk_factors) == (
        1,
        "soon",
        ("debts", "stress"),
    )
    assert not item.is_overdue(date(2026, 11, 9))
    assert item.is_overdue(date(2026, 11, 10))


def test_a_further_signal_counts_merges_risks_and_raises_urgency() -> None:
    later = dict(SIGNAL, risk_factors=["housing", "debts"], urgency="urgent")
    item = apply(
        signalled(), make_event("SignalAdded", {"signal": later}, seq=2, version=2), LEVELS
    )
    assert item is not None
    assert (item.signal_count, item.urgency.value) == (2, "urgent")
    assert item.risk_factors == ("debts", "stress", "housing")
    assert item.state is State.SIGNALLED
    assert item.version == 2


def test_a_routine_signal_does_not_lower_urgency() -> None:
    later = dict(SIGNAL, urgency="routine")
    item = apply(
        signalled(), make_event("SignalAdded", {"signal": later}, seq=2, version=2), LEVELS
    )
    assert item is not None
    assert item.urgency.value == "soon"


def test_each_step_sets_the_deadline_of_the_next() -> None:
    item: WorkItem | None = signalled()
    steps = [
        ("ConsentRequested", {}, "consent_answer", date(2026, 11, 12)),
        ("ConsentGiven", {"scope": ["ggd"]}, "discussion", date(2026, 11, 9)),
        (
            "Discussed",
            {
                "on": "2026-11-02",
                "participants": ["ggd"],
                "needs": [],
                "scores": {
                    d: 5
                    for d in (
                        "bodily_functions",
                        "mental_wellbeing",
                        "meaningfulness",
                        "quality_of_life",
                        "participation",
                        "daily_functioning",
                    )
                },
            },
            "support",
            date(2026, 11, 5),
        ),
        (
            "SupportMatched",
            {
                "offers": [{"offer_id": "voorzorg", "provider": "ggd"}],
                "planned_start": "2026-11-20",
            },
            "support_start",
            date(2026, 11, 22),  # 20 days after the match (2 November, the events' day)
        ),
    ]
    for version, (name, data, step, due) in enumerate(steps, start=2):
        item = apply(item, make_event(name, data, seq=version, version=version), LEVELS)
        assert item is not None
        assert (item.deadline_step, item.deadline_due, item.version) == (step, due, version)
    assert item is not None
    assert item.state is State.SUPPORT_MATCHED


def test_an_escalated_case_waits_for_a_discussion() -> None:
    item = apply(
        signalled(),
        make_event(
            "Escalated",
            {"meldcode_step": "decide", "legal_basis": "Wmo 2015 art. 5.2.6"},
            seq=2,
            version=2,
        ),
        LEVELS,
    )
    assert item is not None
    assert (item.state, item.deadline_step, item.deadline_due) == (
        State.ESCALATED,
        "discussion",
        date(2026, 11, 9),
    )


def test_declined_consent_is_due_for_closing_and_closing_removes_the_row() -> None:
    item = apply(signalled(), make_event("ConsentRequested", {}, seq=2, version=2), LEVELS)
    item = apply(item, make_event("ConsentDeclined", {}, seq=3, version=3), LEVELS)
    assert item is not None
    assert (item.deadline_step, item.deadline_due) == ("closing", date(2026, 11, 22))
    assert item.is_overdue(date(2026, 11, 23))
    assert (
        apply(item, make_event("Closed", {"outcome": "consent_declined"}, seq=4, version=4), LEVELS)
        is None
    )


def test_events_of_a_case_never_opened_here_make_no_row() -> None:
    assert apply(None, make_event("ConsentRequested", {}, version=2), LEVELS) is None


def test_the_evaluation_is_due_months_after_the_day_support_began() -> None:
    item = apply(
        signalled(),
        make_event("SupportStarted", {"on": "2026-10-30"}, seq=2, version=2),
        LEVELS,
    )
    assert item is not None
    assert (item.state, item.deadline_step, item.deadline_due) == (
        State.SUPPORT_STARTED,
        "evaluation",
        date(2027, 1, 30),  # three months after the first day, not after its recording
    )
