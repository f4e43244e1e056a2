"""The read APIs on a real SQLite file: work queue order, filters and pages, the case view,
and monitoring figures checked against hand-computed values."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from adapters.persistence.sqlite_views import SqliteViewDatabase
from domain.deadlines import ServiceLevels
from domain.escalation import EscalationPurpose
from domain.values import (
    HealthScores,
    MeldcodeStep,
    Outcome,
    Phase,
    ReporterRole,
    RiskFactor,
    Urgency,
)
from ks_engine import commands as c
from ks_engine.application import Referrals
from ks_engine.clock import AMSTERDAM
from projections.errors import InvalidCursorError
from projections.monitoring_store import Monitoring, to_csv
from projections.read_models import ReadModels, build_projections
from projections.store import apply_batch
from projections.work_queue_store import WorkQueueEntry
from tests.conftest import FixedClock
from tests.unit.test_projection_scenario import CTX, published, referrals, scores, signal_for

JGZ, DEBT = "ggd-zuid-limburg", "schuldhulp-parkstad"


def project(app: Referrals, db: SqliteViewDatabase) -> None:
    events = published(app)
    for projection in build_projections(ServiceLevels()):
        apply_batch(db, projection, events)


def at(clock: FixedClock, day: int, month: int = 11) -> None:
    clock.now = datetime(2026, month, day, 10, 0, tzinfo=AMSTERDAM)


def open_case(app: Referrals, municipality: str, person: str, **kw: object) -> UUID:
    outcome = app.receive_signal(*signal_for(municipality, person * 32, **kw))  # type: ignore[arg-type]
    assert outcome.case_id is not None
    return outcome.case_id


@pytest.fixture
def db(tmp_path: Path) -> SqliteViewDatabase:
    return SqliteViewDatabase(tmp_path / "views.sqlite")


@pytest.fixture
def queue_cases(clock: FixedClock, db: SqliteViewDatabase) -> tuple[ReadModels, dict[str, UUID]]:
    app = referrals(clock)
    at(clock, 2)
    a = open_case(app, "GM0928", "a", urgency=Urgency.URGENT)
    b = open_case(app, "GM0928", "b")
    at(clock, 3)
    cc = open_case(app, "GM0882", "c")
    at(clock, 4)
    d = open_case(app, "GM0928", "d", urgency=Urgency.SOON)
    app.request_consent(c.RequestConsent(case_id=d), CTX)
    e = open_case(app, "GM0928", "e")
    app.close_case(c.Close(case_id=e, outcome=Outcome.NO_CONTACT), CTX)
    at(clock, 5)
    f = open_case(app, "GM0928", "f")
    app.request_consent(c.RequestConsent(case_id=f), CTX)
    app.record_consent(c.RecordConsent(case_id=f, given=False), CTX)
    views = ReadModels(db)
    project(app, db)
    return views, {"A": a, "B": b, "C": cc, "D": d, "E": e, "F": f}


NOW = datetime(2026, 11, 10, 8, 0, tzinfo=AMSTERDAM)


def names(page_items: Sequence[WorkQueueEntry], ids: dict[str, UUID]) -> list[str]:
    by_id = {str(v): k for k, v in ids.items()}
    return [by_id[i.case_id] for i in page_items]


def test_the_queue_is_sorted_by_urgency_then_overdue_then_deadline(
    queue_cases: tuple[ReadModels, dict[str, UUID]],
) -> None:
    views, ids = queue_cases
    page = views.work_queue.page(now=NOW)
    # A urgent; D soon; routine: B overdue (due 9 Nov), C due today, F without deadline
    assert names(page.items, ids) == ["A", "D", "B", "C", "F"]
    a, d, _b, cc, f = page.items
    assert (a.overdue, a.age_days, a.next_deadline and a.next_deadline.due) == (
        True,
        8,
        date(2026, 11, 9),
    )
    assert (cc.overdue, cc.next_deadline and cc.next_deadline.due) == (False, date(2026, 11, 10))
    assert (d.state, d.next_deadline and d.next_deadline.step) == (
        "consent_requested",
        "consent_answer",
    )
    # A refusal is due for closing (or asking again) within the closing days.
    assert (f.state, f.next_deadline and f.next_deadline.step, f.overdue) == (
        "consent_declined",
        "closing",
        False,
    )
    assert page.next_cursor is None
    # The same rows a week earlier: nothing is overdue yet
    assert not any(i.overdue for i in views.work_queue.page(now=NOW - timedelta(days=7)).items)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"municipalities": ["GM0928"]}, ["A", "D", "B", "F"]),
        ({"municipalities": ["GM0882", "GM0928"]}, ["A", "D", "B", "C", "F"]),
        ({"municipalities": []}, []),
        ({"overdue": True}, ["A", "B"]),
        ({"overdue": False}, ["D", "C", "F"]),
        ({"states": ["consent_requested", "consent_declined"]}, ["D", "F"]),
        ({"urgencies": ["routine"], "municipalities": ["GM0928"]}, ["B", "F"]),
    ],
)
def test_the_queue_filters(
    queue_cases: tuple[ReadModels, dict[str, UUID]],
    filters: dict[str, object],
    expected: list[str],
) -> None:
    views, ids = queue_cases
    assert names(views.work_queue.page(now=NOW, **filters).items, ids) == expected  # type: ignore[arg-type]


def test_pages_follow_each_other_without_gaps_or_repeats(
    queue_cases: tuple[ReadModels, dict[str, UUID]],
) -> None:
    views, ids = queue_cases
    first = views.work_queue.page(now=NOW, limit=2)
    assert names(first.items, ids) == ["A", "D"]
    assert first.next_cursor
    # The second page is asked for days later: the cursor keeps the order of its first page
    second = views.work_queue.page(now=NOW + timedelta(days=9), limit=2, cursor=first.next_cursor)
    assert names(second.items, ids) == ["B", "C"]
    assert second.next_cursor
    third = views.work_queue.page(now=NOW, limit=2, cursor=second.next_cursor)
    assert names(third.items, ids) == ["F"]
    assert third.next_cursor is None
    with pytest.raises(InvalidCursorError, match="first page"):
        views.work_queue.page(now=NOW, cursor="bm90LWEtY3Vyc29y")


@pytest.mark.parametrize("limit", [1, 2, 3, 5])
@pytest.mark.parametrize(
    "municipalities", [["GM0882", "GM0928"], ["GM0928", "GM0882", "GM0928"], ["GM0928"]]
)
def test_pages_of_several_municipalities_are_the_queue_in_its_order(
    queue_cases: tuple[ReadModels, dict[str, UUID]], limit: int, municipalities: list[str]
) -> None:
    # Each municipality is read along its own index and the reads are merged: page after
    # page, the same cases in the same order as the whole queue with the others left out.
    views, ids = queue_cases
    whole = [i for i in views.work_queue.page(now=NOW).items if i.municipality in municipalities]
    paged: list[WorkQueueEntry] = []
    cursor = None
    while True:
        page = views.work_queue.page(
            now=NOW, municipalities=municipalities, limit=limit, cursor=cursor
        )
        assert len(page.items) <= limit
        paged += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert names(paged, ids) == names(whole, ids)


def test_one_entry_and_the_case_view_of_a_closed_case(
    queue_cases: tuple[ReadModels, dict[str, UUID]],
) -> None:
    views, ids = queue_cases
    entry = views.work_queue.get(str(ids["B"]), now=NOW)
    assert entry is not None
    assert entry.overdue
    assert entry.signal_count == 1
    assert views.work_queue.get(str(ids["E"]), now=NOW) is None
    closed = views.cases.get(ids["E"])
    assert closed is not None
    assert (closed.state, closed.outcome) == ("closed", "no_contact")
    assert views.cases.version_of(ids["F"]) == 3
    assert views.cases.get(UUID(int=1)) is None


def monitoring_scenario(clock: FixedClock) -> Referrals:
    """Three cases in Kerkrade and one in Landgraaf, over November and December 2026."""
    app = referrals(clock)
    at(clock, 2)
    a = open_case(
        app, "GM0928", "a", risks=(RiskFactor.DEBTS, RiskFactor.STRESS), urgency=Urgency.SOON
    )
    open_case(app, "GM0882", "d", risks=(RiskFactor.STRESS,))
    at(clock, 3)
    b = open_case(
        app,
        "GM0928",
        "b",
        role=ReporterRole.YOUTH_HEALTH_CARE,
        phase=Phase.POSTNATAL,
        risks=(RiskFactor.HOUSING,),
    )
    assert b == open_case(
        app,
        "GM0928",
        "b",
        role=ReporterRole.GENERAL_PRACTITIONER,
        phase=Phase.POSTNATAL,
        risks=(RiskFactor.HOUSING, RiskFactor.DEBTS),
    )
    at(clock, 4)
    app.request_consent(c.RequestConsent(case_id=a), CTX)
    at(clock, 5)
    app.record_consent(c.RecordConsent(case_id=a, given=True, scope=[JGZ, DEBT]), CTX)
    at(clock, 6)
    app.request_consent(c.RequestConsent(case_id=b), CTX)
    at(clock, 9)
    app.record_discussion(
        c.RecordDiscussion(case_id=a, on=date(2026, 11, 9), participants=[JGZ], scores=_scores()),
        CTX,
    )
    at(clock, 10)
    app.record_consent(c.RecordConsent(case_id=b, given=False), CTX)
    at(clock, 12)
    app.match_support(
        c.MatchSupport(
            case_id=a,
            offer_ids=["schuldhulpverlening"],
            lead_professional="lead",
            planned_start=date(2026, 11, 20),
        ),
        CTX,
    )
    at(clock, 20)
    cc = open_case(
        app,
        "GM0928",
        "c",
        role=ReporterRole.GENERAL_PRACTITIONER,
        phase=Phase.PRECONCEPTION,
        risks=(RiskFactor.DOMESTIC_VIOLENCE,),
        urgency=Urgency.URGENT,
    )
    at(clock, 21)
    app.escalate(
        c.Escalate(
            case_id=cc,
            meldcode_step=MeldcodeStep.DECIDE,
            legal_basis="Wmo 2015 art. 5.2.6",
            justification="acute onveiligheid vastgesteld",
            organisations=[JGZ, "home-start"],
            purpose=EscalationPurpose.SUPPORT,
        ),
        CTX,
    )
    at(clock, 24)
    app.record_discussion(
        c.RecordDiscussion(case_id=cc, on=date(2026, 11, 24), participants=[JGZ], scores=_scores()),
        CTX,
    )
    at(clock, 1, 12)
    app.match_support(
        c.MatchSupport(
            case_id=cc,
            offer_ids=["voorzorg", "home-start"],
            lead_professional="lead",
            planned_start=date(2026, 12, 8),
        ),
        CTX,
    )
    at(clock, 2, 12)
    app.close_case(c.Close(case_id=cc, outcome=Outcome.REFERRED_TO_VEILIG_THUIS), CTX)
    at(clock, 3, 12)
    app.withdraw_consent(c.WithdrawConsent(case_id=a), CTX)
    at(clock, 4, 12)
    app.close_case(c.Close(case_id=a, outcome=Outcome.CONSENT_WITHDRAWN), CTX)
    return app


def _scores() -> HealthScores:
    return scores(random.Random(1))


# Counted by hand from the scenario above.
EXPECTED: dict[tuple[str, str, str, str], float] = {
    ("GM0928", "2026-11", "cases_opened", "all"): 3,
    ("GM0928", "2026-11", "signals_by_role", "midwife"): 1,
    ("GM0928", "2026-11", "signals_by_role", "youth_health_care"): 1,
    ("GM0928", "2026-11", "signals_by_role", "general_practitioner"): 2,
    ("GM0928", "2026-11", "signals_by_phase", "pregnancy"): 1,
    ("GM0928", "2026-11", "signals_by_phase", "postnatal"): 2,
    ("GM0928", "2026-11", "signals_by_phase", "preconception"): 1,
    ("GM0928", "2026-11", "risk_factor", "debts"): 2,
    ("GM0928", "2026-11", "risk_factor", "stress"): 1,
    ("GM0928", "2026-11", "risk_factor", "housing"): 1,
    ("GM0928", "2026-11", "risk_factor", "domestic_violence"): 1,
    ("GM0928", "2026-11", "consent", "given"): 1,
    ("GM0928", "2026-11", "consent", "declined"): 1,
    ("GM0928", "2026-11", "offers_matched", "schuldhulpverlening"): 1,
    ("GM0928", "2026-11", "escalations", "decide"): 1,
    ("GM0928", "2026-11", "days_to_consent", "cases"): 1,
    ("GM0928", "2026-11", "days_to_consent", "median"): 3,
    ("GM0928", "2026-11", "days_to_consent", "p90"): 3,
    ("GM0928", "2026-11", "days_to_discussion", "cases"): 2,
    ("GM0928", "2026-11", "days_to_discussion", "median"): 5.5,
    ("GM0928", "2026-11", "days_to_discussion", "p90"): 7,
    ("GM0928", "2026-11", "days_to_support", "cases"): 1,
    ("GM0928", "2026-11", "days_to_support", "median"): 10,
    ("GM0928", "2026-11", "days_to_support", "p90"): 10,
    ("GM0928", "2026-12", "offers_matched", "voorzorg"): 1,
    ("GM0928", "2026-12", "offers_matched", "home-start"): 1,
    ("GM0928", "2026-12", "days_to_support", "cases"): 1,
    ("GM0928", "2026-12", "days_to_support", "median"): 11,
    ("GM0928", "2026-12", "days_to_support", "p90"): 11,
    ("GM0928", "2026-12", "consent", "withdrawn"): 1,
    ("GM0928", "2026-12", "cases_closed", "referred_to_veilig_thuis"): 1,
    ("GM0928", "2026-12", "cases_closed", "consent_withdrawn"): 1,
    ("GM0882", "2026-11", "cases_opened", "all"): 1,
    ("GM0882", "2026-11", "signals_by_role", "midwife"): 1,
    ("GM0882", "2026-11", "signals_by_phase", "pregnancy"): 1,
    ("GM0882", "2026-11", "risk_factor", "stress"): 1,
    # Families (each case once, by its first signal): a by a midwife in pregnancy, b by JGZ
    # after the birth (the GP's second signal joins it), c by a GP before pregnancy; d.
    ("GM0928", "2026-11", "families_by_reporter", "midwife"): 1,
    ("GM0928", "2026-11", "families_by_reporter", "youth_health_care"): 1,
    ("GM0928", "2026-11", "families_by_reporter", "general_practitioner"): 1,
    ("GM0928", "2026-11", "families_by_phase", "pregnancy"): 1,
    ("GM0928", "2026-11", "families_by_phase", "postnatal"): 1,
    ("GM0928", "2026-11", "families_by_phase", "preconception"): 1,
    ("GM0882", "2026-11", "families_by_reporter", "midwife"): 1,
    ("GM0882", "2026-11", "families_by_phase", "pregnancy"): 1,
}


def test_monitoring_figures_match_the_hand_counted_scenario(
    clock: FixedClock, db: SqliteViewDatabase
) -> None:
    views = ReadModels(db, monitoring_threshold=0)
    project(monitoring_scenario(clock), db)
    rows = views.monitoring.rows()
    assert {(r.municipality, r.month, r.measure, r.category): r.value for r in rows} == EXPECTED
    assert not any(r.suppressed for r in rows)


def test_monitoring_filters_by_municipality_and_month(
    clock: FixedClock, db: SqliteViewDatabase
) -> None:
    ReadModels(db)
    project(monitoring_scenario(clock), db)
    stats = Monitoring(db, threshold=0)
    december = stats.rows(["GM0928"], since=date(2026, 12, 1), until=date(2026, 12, 31))
    assert {(r.measure, r.category) for r in december} == {
        k[2:] for k in EXPECTED if k[:2] == ("GM0928", "2026-12")
    }
    assert {r.municipality for r in stats.rows(["GM0882"])} == {"GM0882"}
    assert stats.rows([]) == []


def test_small_cells_are_suppressed_in_the_report_and_the_csv(
    clock: FixedClock, db: SqliteViewDatabase
) -> None:
    ReadModels(db)
    project(monitoring_scenario(clock), db)
    rows = Monitoring(db, threshold=2).rows()
    shown = {
        (r.municipality, r.month, r.measure, r.category): r.value for r in rows if not r.suppressed
    }
    # Only cells of two or more remain, and a duration over one case hides all its figures
    assert shown == {
        k: v
        for k, v in EXPECTED.items()
        if v >= 2
        and k[2] != "days_to_consent"
        and k[2:] != ("days_to_support", "median")
        and k[2:] != ("days_to_support", "p90")
    } | {("GM0928", "2026-11", "days_to_discussion", "median"): 5.5}
    assert all(r.value is None for r in rows if r.suppressed)
    lines = to_csv(rows).splitlines()
    assert lines[0] == "municipality,month,measure,category,value,suppressed"
    assert "GM0928,2026-11,cases_opened,all,3,false" in lines
    assert "GM0928,2026-11,days_to_discussion,median,5.5,false" in lines
    assert "GM0882,2026-11,cases_opened,all,,true" in lines
    assert len(lines) == len(EXPECTED) + 1
