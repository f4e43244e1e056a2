"""The case view from events, step by step (pure logic, no database)."""

from __future__ import annotations

from datetime import date

from projections.case_view import CaseView, apply
from tests.unit.test_projection_scenario import make_event

SIGNAL = {
    "reporter": {"organisation": "org-midwife", "role": "midwife"},
    "phase": "pregnancy",
    "phase_date": "2027-03-01",
    "risk_factors": ["debts"],
    "urgency": "routine",
}
SCORES = {
    "bodily_functions": 6,
    "mental_wellbeing": 3,
    "meaningfulness": 7,
    "quality_of_life": 4,
    "participation": 5,
    "daily_functioning": 2,
}


def run(*steps: tuple[str, dict[str, object]]) -> CaseView:
    view = apply(
        None,
        make_event(
            "Signalled", {"municipality": "GM0928", "person_pseudonym": "p" * 64, "signal": SIGNAL}
        ),
    )
    for version, (name, data) in enumerate(steps, start=2):
        view = apply(view, make_event(name, data, seq=version, version=version))
    assert view is not None
    return view


def test_a_case_through_consent_discussion_and_support() -> None:
    view = run(
        ("SignalAdded", {"signal": dict(SIGNAL, risk_factors=["housing"], urgency="urgent")}),
        ("ConsentRequested", {}),
        ("ConsentGiven", {"scope": ["ggd", "schuldhulp"], "expires_on": "2027-11-01"}),
        (
            "Discussed",
            {"on": "2026-11-02", "participants": ["ggd"], "scores": SCORES, "needs": ["financial"]},
        ),
        (
            "SupportMatched",
            {
                "offers": [{"offer_id": "schuldhulpverlening", "provider": "schuldhulp"}],
                "planned_start": "2026-11-09",
            },
        ),
    )
    assert (view.state, view.version, view.urgency) == ("support_matched", 6, "urgent")
    assert view.risk_factors == ["debts", "housing"]
    assert view.consent is not None
    assert (view.consent.status, view.consent.scope, view.consent.expires_on) == (
        "given",
        ["ggd", "schuldhulp"],
        date(2027, 11, 1),
    )
    assert view.discussions[0].scores == SCORES
    assert view.discussions[0].needs == ["financial"]
    assert view.support[0].offers[0].offer_id == "schuldhulpverlening"
    assert [t.event for t in view.timeline] == [
        "Signalled",
        "SignalAdded",
        "ConsentRequested",
        "ConsentGiven",
        "Discussed",
        "SupportMatched",
    ]
    assert view.timeline[3].actor.organisation == "gemeente-kerkrade"
    assert view.timeline[3].actor.role.value == "coordinator"
    assert view.timeline[3].details == {
        "scope": ["ggd", "schuldhulp"],
        "expires_on": "2027-11-01",
        "record": None,  # who gave it and how: absent here
    }


def test_withdrawal_keeps_the_scope_it_withdraws() -> None:
    view = run(
        ("ConsentRequested", {}), ("ConsentGiven", {"scope": ["ggd"]}), ("ConsentWithdrawn", {})
    )
    assert view.consent is not None
    assert (view.consent.status, view.consent.scope, view.state) == (
        "withdrawn",
        ["ggd"],
        "withdrawn",
    )


def test_escalation_and_closing_record_step_basis_and_outcome() -> None:
    view = run(
        ("Escalated", {"meldcode_step": "weigh", "legal_basis": "Wmo 2015 art. 5.2.6"}),
        ("Closed", {"outcome": "referred_to_veilig_thuis"}),
    )
    assert [(e.meldcode_step, e.legal_basis) for e in view.escalations] == [
        ("weigh", "Wmo 2015 art. 5.2.6")
    ]
    assert (view.state, view.outcome) == ("closed", "referred_to_veilig_thuis")
    assert view.closed_at is not None


def test_an_event_before_the_first_one_was_seen_is_ignored() -> None:
    assert apply(None, make_event("ConsentRequested", {}, version=2)) is None
