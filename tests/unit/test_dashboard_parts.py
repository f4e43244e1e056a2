"""The dashboard's pure parts: chart geometry, Dutch labels and refusals, sign-in helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest
from pydantic import ValidationError

from adapters.http.dashboard import charts, labels, messages
from adapters.http.dashboard.forms import listed
from adapters.http.dashboard.session import csrf_token, safe_next
from domain.errors import (
    CaseClosedError,
    ConsentRequiredError,
    IllegalTransitionError,
    InvalidValueError,
    VersionConflictError,
)
from domain.guards import check_consent, check_transition
from domain.lifecycle import Action, State
from ks_engine import commands as c
from tests.e2e import browser

SCORES = {
    "bodily_functions": 10,
    "mental_wellbeing": 5,
    "meaningfulness": 0,
    "quality_of_life": 5,
    "participation": 5,
    "daily_functioning": 5,
}


def test_the_spider_chart_puts_each_score_on_its_own_axis() -> None:
    chart = charts.spider(SCORES)
    top, _, bottom = chart.spokes[0], chart.spokes[1], chart.spokes[3]
    # A 10 reaches the end of its axis, a 0 stays in the centre
    assert (top.point_x, top.point_y) == (top.axis_x, top.axis_y)
    third = chart.spokes[2]
    assert (third.point_x, third.point_y) == (chart.cx, chart.cy)
    # The first axis points up, the fourth down
    assert top.axis_y < chart.cy < bottom.axis_y
    assert len(chart.rings) == 5
    assert chart.summary.startswith("Lichaamsfuncties 10, Mentaal welbevinden 5, Zingeving 0")


def test_bars_scale_to_the_largest_and_leave_suppressed_figures_empty() -> None:
    drawn = charts.bars([("a", 10.0), ("b", 5.0), ("c", None)], bar_space=200)
    assert [b.width for b in drawn.bars] == [200.0, 100.0, 0.0]
    assert drawn.bars[2].value is None
    assert [b.y for b in drawn.bars] == [0, 28, 56]


def test_labels_are_dutch_and_unknown_codes_are_shown_as_they_are() -> None:
    assert labels.label_of("state", "consent_requested") == "Toestemming gevraagd"
    assert labels.label_of("risk_factor", "debts") == "Schulden en financiële problemen"
    assert labels.label_of("reporter_role", "midwife") == "Verloskundige"
    assert labels.label_of("actor_role", "coordinator") == "Coördinator"
    assert labels.label_of("risk_factor", "unheard_of") == "unheard_of"
    assert labels.day("2026-11-23") == "23-11-2026"
    assert labels.moment("2026-11-23T23:30:00+00:00") == "24-11-2026 00:30"


def test_every_state_and_event_has_a_dutch_name() -> None:
    assert set(labels.STATES) == {s.value for s in State}
    assert set(labels.ACTIONS) == {a.value for a in Action} - {Action.ADD_SIGNAL.value}


def test_a_refused_transition_names_the_state_and_what_is_possible_now() -> None:
    with pytest.raises(IllegalTransitionError) as refused:
        check_transition(UUID(int=1), State.SIGNALLED, Action.GIVE_CONSENT)
    text = messages.refusal(refused.value)
    assert text.startswith("Dit kan niet in de huidige status (Gesignaleerd).")
    assert "Toestemming vragen" in text
    assert "add_signal" not in text


def test_consent_and_closed_refusals_have_their_own_words() -> None:
    with pytest.raises(ConsentRequiredError) as consent:
        check_transition(UUID(int=1), State.SIGNALLED, Action.RECORD_DISCUSSION)
    assert "zonder toestemming" in messages.refusal(consent.value)
    with pytest.raises(CaseClosedError) as closed:
        check_transition(UUID(int=1), State.CLOSED, Action.CLOSE)
    assert messages.refusal(closed.value) == "Dit kan niet meer: de casus is afgesloten."
    stale = VersionConflictError("changed", expected=1, actual=2)
    assert "intussen gewijzigd" in messages.refusal(stale)


def test_an_invalid_value_is_explained_without_the_english_original() -> None:
    with pytest.raises(InvalidValueError) as empty:
        check_consent(UUID(int=1), [], None, datetime(2026, 1, 1, tzinfo=UTC))
    text = messages.refusal(empty.value)
    assert text == "Dit kan niet: kies ten minste één organisatie waarvoor de toestemming geldt."


def test_invalid_form_fields_are_named_in_dutch() -> None:
    with pytest.raises(ValidationError) as invalid:
        c.Escalate.model_validate(
            {"case_id": UUID(int=1), "meldcode_step": "x", "legal_basis": "", "justification": ""}
        )
    text = messages.invalid_fields(invalid.value)
    assert text.startswith("Controleer de invoer: ")
    assert "Stap van de Meldcode is geen keuze uit de lijst" in text
    assert "Wettelijke grondslag is te kort" in text
    assert "Onderbouwing is te kort" in text


def test_names_can_be_typed_as_a_list() -> None:
    assert listed("GGD, verloskunde-parkstad;\n schuldhulp ,") == [
        "GGD",
        "verloskunde-parkstad",
        "schuldhulp",
    ]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/dashboard/casus/1?na=3", "/dashboard/casus/1?na=3"),
        ("https://elders.example/dashboard/", "/dashboard/"),
        ("//elders.example/dashboard/x", "/dashboard/"),
        ("/cases", "/dashboard/"),
        ("/dashboard/\\\\elders", "/dashboard/"),
        (None, "/dashboard/"),
    ],
)
def test_after_signing_in_only_dashboard_pages_are_a_destination(
    target: str | None, expected: str
) -> None:
    assert safe_next(target) == expected


def test_the_csrf_token_belongs_to_one_session() -> None:
    assert csrf_token("ks_a") == csrf_token("ks_a")
    assert csrf_token("ks_a") != csrf_token("ks_b")
    assert "ks_a" not in csrf_token("ks_a")


def test_without_chromium_the_browser_tests_fail_and_say_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "no-chromium")
    with pytest.raises(pytest.fail.Exception) as failed:
        browser.require_chromium()
    assert "apt-get install -y chromium" in str(failed.value)
