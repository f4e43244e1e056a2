"""The Knooppunt meeting (casusoverleg), through the application on in-memory storage."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.application import project_aggregate
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import meeting_agenda
from domain.errors import (
    CaseRestrictedError,
    ConsentRequiredError,
    IllegalTransitionError,
    InvalidValueError,
    MeetingNotFoundError,
    VersionConflictError,
)
from domain.lifecycle import State
from domain.meeting import Decision, FollowUp, Meeting, MeetingState
from domain.reader_policy import CASE_FIELDS, Reader
from domain.redaction import bsn_spans
from domain.restriction import RestrictionBasis
from domain.values import Need
from ks_engine import commands as c
from ks_engine.application import Referrals
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.clock import AMSTERDAM
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.referral_builders import (
    BSN_A,
    BSN_B,
    BSN_C,
    DEBTS,
    HOUSING,
    JGZ,
    KERKRADE,
    LANDGRAAF,
    coordinator_ctx,
    make_signal,
    partner_ctx,
    scores,
)

CTX = coordinator_ctx()


@pytest.fixture
def app(tmp_path: Path, clock: FixedClock) -> Iterator[Referrals]:
    engine: Engine = bootstrap(
        Settings(store="memory", data_dir=tmp_path), clock=clock, configure_logs=False
    )
    yield engine.referrals
    engine.close()


def signalled(app: Referrals, bsn: str = BSN_A, municipality: str = KERKRADE) -> UUID:
    signal = make_signal(bsn, municipality=municipality)
    case_id = app.receive_signal(signal, partner_ctx(signal)).case_id
    assert case_id is not None
    return case_id


def consented(app: Referrals, bsn: str = BSN_A, scope: tuple[str, ...] = (JGZ, DEBTS)) -> UUID:
    case_id = signalled(app, bsn)
    app.request_consent(c.RequestConsent(case_id=case_id), CTX)
    app.record_consent(c.RecordConsent(case_id=case_id, given=True, scope=list(scope)), CTX)
    return case_id


def plan(
    app: Referrals, *case_ids: UUID, days: int = 0, orgs: tuple[str, ...] = (JGZ, DEBTS)
) -> UUID:
    on = app.clock().date() + timedelta(days=days)
    cmd = c.PlanMeeting(
        municipality=KERKRADE, on=on, organisations=list(orgs), case_ids=list(case_ids)
    )
    return app.plan_meeting(cmd, CTX).meeting_id


def discussed(case_id: UUID, meeting_id: UUID, **changes: object) -> c.RecordMeetingDecision:
    fields: dict[str, object] = {
        "meeting_id": meeting_id,
        "case_id": case_id,
        "decision": Decision.DISCUSSED,
        "follow_up": FollowUp.MATCH_SUPPORT,
        "lead_organisation": DEBTS,
        "discussion": c.MeetingDiscussion(
            participants=[JGZ, DEBTS], scores=scores(), needs=[Need.FINANCIAL]
        ),
    }
    return c.RecordMeetingDecision.model_validate(fields | changes)


def test_a_planned_meeting_holds_its_date_attendees_and_consented_cases(app: Referrals) -> None:
    # Given two consented cases
    first, second = consented(app, BSN_A), consented(app, BSN_B)
    # When the coordinator plans a meeting for next week with both on the agenda
    meeting_id = plan(app, first, second, days=7)
    meeting = app.get_meeting(meeting_id)
    # Then the meeting keeps its date, attendees and agenda, and the calendar lists it
    assert meeting.on == app.clock().date() + timedelta(days=7)
    assert meeting.organisations == [JGZ, DEBTS]
    assert meeting.agenda == [first, second]
    assert meeting.state is MeetingState.PLANNED
    assert [m.id for m in app.meetings_of([KERKRADE])] == [meeting_id]
    assert app.meetings_of([LANDGRAAF]) == []


def test_a_case_without_consent_cannot_be_put_on_the_agenda(app: Referrals) -> None:
    waiting = signalled(app)
    meeting_id = plan(app)
    with pytest.raises(ConsentRequiredError, match="has not consented"):
        app.schedule_case(c.ScheduleCase(meeting_id=meeting_id, case_id=waiting), CTX)
    # Nor when it is named at planning: nothing of the meeting is stored then
    with pytest.raises(ConsentRequiredError):
        plan(app, waiting)
    assert [m.id for m in app.meetings_of([KERKRADE])] == [meeting_id]
    assert app.get_meeting(meeting_id).agenda == []


def test_withdrawn_consent_or_consent_for_no_attendee_keeps_a_case_off(app: Referrals) -> None:
    withdrawn = consented(app, BSN_A)
    app.withdraw_consent(c.WithdrawConsent(case_id=withdrawn), CTX)
    elsewhere = consented(app, BSN_B, scope=(HOUSING,))
    meeting_id = plan(app)
    with pytest.raises(ConsentRequiredError, match="has not consented"):
        app.schedule_case(c.ScheduleCase(meeting_id=meeting_id, case_id=withdrawn), CTX)
    with pytest.raises(ConsentRequiredError, match="does not cover any"):
        app.schedule_case(c.ScheduleCase(meeting_id=meeting_id, case_id=elsewhere), CTX)


def test_a_case_of_another_municipality_a_double_and_a_restricted_case_are_refused(
    app: Referrals,
) -> None:
    meeting_id = plan(app)
    other = signalled(app, BSN_C, municipality=LANDGRAAF)
    with pytest.raises(InvalidValueError, match="another municipality"):
        app.schedule_case(c.ScheduleCase(meeting_id=meeting_id, case_id=other), CTX)
    case_id = consented(app)
    app.schedule_case(c.ScheduleCase(meeting_id=meeting_id, case_id=case_id), CTX)
    with pytest.raises(InvalidValueError, match="already on the agenda"):
        app.schedule_case(c.ScheduleCase(meeting_id=meeting_id, case_id=case_id), CTX)
    restricted = consented(app, BSN_B)
    app.restrict_processing(c.Restrict(case_id=restricted, basis=RestrictionBasis.OBJECTION), CTX)
    with pytest.raises(CaseRestrictedError):
        app.schedule_case(c.ScheduleCase(meeting_id=meeting_id, case_id=restricted), CTX)


def test_a_meeting_needs_attendees_and_a_date_not_in_the_past(app: Referrals) -> None:
    with pytest.raises(InvalidValueError, match="lies in the past"):
        plan(app, days=-1)
    with pytest.raises(InvalidValueError, match="at least one attending"):
        plan(app, orgs=(" ",))


def test_a_discussed_decision_records_the_case_discussion_in_the_same_commit(
    app: Referrals,
) -> None:
    # Given a meeting today with a consented case on its agenda
    case_id = consented(app)
    meeting_id = plan(app, case_id)
    before = app.get_case(case_id).version
    # When the meeting discusses it and agrees to match support, led by debt counselling
    app.record_meeting_decision(discussed(case_id, meeting_id, expected_case_version=before), CTX)
    # Then the case has its discussion step, dated the meeting's day
    case = app.get_case(case_id)
    assert case.state is State.DISCUSSED
    assert case.discussions[-1]["on"] == app.get_meeting(meeting_id).on
    assert case.discussions[-1]["participants"] == sorted([JGZ, DEBTS])
    # And the meeting's minutes hold the decision and the case version it recorded
    decision = app.get_meeting(meeting_id).decision_on(case_id)
    assert decision is not None
    assert decision["decision"] == "discussed"
    assert decision["follow_up"] == "match_support"
    assert decision["lead_organisation"] == DEBTS
    assert decision["case_version"] == case.version == before + 1


def test_a_refused_discussion_records_no_decision(app: Referrals) -> None:
    case_id = consented(app, scope=(JGZ,))
    meeting_id = plan(app, case_id)
    # A participant the consent does not cover: the case refuses, the meeting records nothing
    wrong = discussed(
        case_id,
        meeting_id,
        lead_organisation=None,
        discussion=c.MeetingDiscussion(participants=[DEBTS], scores=scores(), needs=[]),
    )
    with pytest.raises(ConsentRequiredError):
        app.record_meeting_decision(wrong, CTX)
    assert app.get_meeting(meeting_id).decision_on(case_id) is None
    assert app.get_case(case_id).state is State.CONSENTED


def test_a_postponed_case_changes_nothing_on_the_case(app: Referrals) -> None:
    case_id = consented(app)
    meeting_id = plan(app, case_id)
    version = app.get_case(case_id).version
    cmd = c.RecordMeetingDecision(
        meeting_id=meeting_id, case_id=case_id, decision=Decision.POSTPONED
    )
    app.record_meeting_decision(cmd, CTX)
    assert app.get_case(case_id).version == version
    assert app.get_meeting(meeting_id).decision_on(case_id)["decision"] == "postponed"  # type: ignore[index]
    with pytest.raises(InvalidValueError, match="decided on in this meeting already"):
        app.record_meeting_decision(cmd, CTX)


def test_decisions_wait_for_the_meeting_day_and_need_their_parts(
    app: Referrals, clock: FixedClock
) -> None:
    case_id = consented(app)
    meeting_id = plan(app, case_id, days=2)
    with pytest.raises(InvalidValueError, match="lies in the future"):
        app.record_meeting_decision(discussed(case_id, meeting_id), CTX)
    clock.advance(days=2)
    with pytest.raises(InvalidValueError, match="name the participants"):
        app.record_meeting_decision(discussed(case_id, meeting_id, discussion=None), CTX)
    with pytest.raises(InvalidValueError, match="needs its follow-up"):
        app.record_meeting_decision(discussed(case_id, meeting_id, follow_up=None), CTX)
    with pytest.raises(ConsentRequiredError, match="lead organisation"):
        app.record_meeting_decision(discussed(case_id, meeting_id, lead_organisation=HOUSING), CTX)
    with pytest.raises(VersionConflictError):
        app.record_meeting_decision(discussed(case_id, meeting_id, expected_case_version=1), CTX)
    app.record_meeting_decision(discussed(case_id, meeting_id), CTX)
    assert app.get_case(case_id).state is State.DISCUSSED


def test_a_case_comes_off_the_agenda_only_before_a_decision(app: Referrals) -> None:
    first, second = consented(app, BSN_A), consented(app, BSN_B)
    meeting_id = plan(app, first, second)
    app.unschedule_case(c.UnscheduleCase(meeting_id=meeting_id, case_id=second), CTX)
    assert app.get_meeting(meeting_id).agenda == [first]
    app.record_meeting_decision(discussed(first, meeting_id), CTX)
    with pytest.raises(InvalidValueError, match="decided on"):
        app.unschedule_case(c.UnscheduleCase(meeting_id=meeting_id, case_id=first), CTX)
    with pytest.raises(InvalidValueError, match="not on the agenda"):
        app.unschedule_case(c.UnscheduleCase(meeting_id=meeting_id, case_id=second), CTX)


def test_a_concluded_meeting_takes_no_more_changes(app: Referrals) -> None:
    first, second = consented(app, BSN_A), consented(app, BSN_B)
    meeting_id = plan(app, first)
    app.conclude_meeting(c.ConcludeMeeting(meeting_id=meeting_id), CTX)
    assert app.get_meeting(meeting_id).state is MeetingState.CONCLUDED
    with pytest.raises(IllegalTransitionError, match="is concluded"):
        app.schedule_case(c.ScheduleCase(meeting_id=meeting_id, case_id=second), CTX)
    with pytest.raises(IllegalTransitionError, match="is concluded"):
        app.record_meeting_decision(discussed(first, meeting_id), CTX)
    with pytest.raises(IllegalTransitionError, match="is concluded"):
        app.conclude_meeting(c.ConcludeMeeting(meeting_id=meeting_id), CTX)


def test_a_future_meeting_cannot_be_concluded_and_an_unknown_one_is_not_found(
    app: Referrals,
) -> None:
    meeting_id = plan(app, days=3)
    with pytest.raises(InvalidValueError, match="conclude it afterwards"):
        app.conclude_meeting(c.ConcludeMeeting(meeting_id=meeting_id), CTX)
    case_id = consented(app)
    with pytest.raises(MeetingNotFoundError):
        app.get_meeting(case_id)  # a case's id is no meeting


def test_a_meeting_replays_to_the_same_state_from_its_events(app: Referrals) -> None:
    first, second = consented(app, BSN_A), consented(app, BSN_B)
    meeting_id = plan(app, first, second)
    app.record_meeting_decision(discussed(first, meeting_id), CTX)
    app.record_meeting_decision(
        c.RecordMeetingDecision(meeting_id=meeting_id, case_id=second, decision="postponed"), CTX
    )
    app.conclude_meeting(c.ConcludeMeeting(meeting_id=meeting_id), CTX)
    rebuilt = project_aggregate(None, list(app.events.get(meeting_id)))
    assert isinstance(rebuilt, Meeting)
    served = app.get_meeting(meeting_id)
    assert (rebuilt.agenda, rebuilt.decisions, rebuilt.state) == (
        served.agenda,
        served.decisions,
        served.state,
    )


@settings(max_examples=25, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["schedule", "unschedule", "postpone"]), st.integers(0, 2)),
        max_size=12,
    )
)
def test_the_agenda_never_holds_a_case_twice_and_keeps_every_decided_case(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, int]]
) -> None:
    clock = FixedClock(datetime(2026, 11, 2, 9, 30, tzinfo=AMSTERDAM))
    engine = bootstrap(
        Settings(store="memory", data_dir=tmp_path_factory.mktemp("m")),
        clock=clock,
        configure_logs=False,
    )
    app = engine.referrals
    try:
        cases = [consented(app, bsn) for bsn in (BSN_A, BSN_B, BSN_C)]
        meeting_id = plan(app)
        for step, i in steps:
            cmd: dict[str, object] = {"meeting_id": meeting_id, "case_id": cases[i]}
            try:
                if step == "schedule":
                    app.schedule_case(c.ScheduleCase.model_validate(cmd), CTX)
                elif step == "unschedule":
                    app.unschedule_case(c.UnscheduleCase.model_validate(cmd), CTX)
                else:
                    app.record_meeting_decision(
                        c.RecordMeetingDecision.model_validate(cmd | {"decision": "postponed"}),
                        CTX,
                    )
            except InvalidValueError:
                pass  # refused before any event: nothing changed
            meeting = app.get_meeting(meeting_id)
            assert len(meeting.agenda) == len(set(meeting.agenda))
            assert {UUID(k) for k in meeting.decisions} <= set(meeting.agenda)
    finally:
        engine.close()


def _labelled(key: str, table: dict[str, object]) -> bool:
    return key in table or any(k.startswith((f"{key}.", f"{key}[].")) for k in table)


def test_every_field_the_agenda_shows_has_a_confidentiality_label(app: Referrals) -> None:
    # A field the reader policy does not label would never be shown: each one is labelled
    case_id = consented(app)
    meeting_id = plan(app, case_id)
    app.record_meeting_decision(discussed(case_id, meeting_id), CTX)
    meeting, case = app.get_meeting(meeting_id), app.get_case(case_id)
    shown = meeting_agenda.case_document(case)
    assert [k for k in shown if not _labelled(k, dict(CASE_FIELDS))] == []
    document = meeting_agenda.meeting_document(meeting)
    assert [k for k in document if not _labelled(k, dict(meeting_agenda.MEETING_FIELDS))] == []
    # And a social partner reads the needs, a medical partner the risk factors, not the other
    social = meeting_agenda.agenda_item(case, meeting, Reader.SOCIAL_PARTNER)
    medical = meeting_agenda.agenda_item(case, meeting, Reader.MEDICAL_PARTNER)
    assert social["needs"] == ["financial"]
    assert "risk_factors" not in social
    assert medical["risk_factors"] == ["debts", "stress"]
    assert "needs" not in medical
    assert "scores" not in social["discussions"][0]
    assert medical["decision"]["decision"] == "discussed"


@settings(max_examples=25, deadline=None)
@given(
    written=st.sampled_from(["{}", "{} ", "schuldhulp-{}", "#{}.", "{:.4}.{:.2}.{:.3}"]),
    bsn=st.sampled_from(["123456782", "100000058", "111222333"]),
)
def test_an_attending_organisation_typed_with_a_bsn_is_stored_without_it(
    tmp_path_factory: pytest.TempPathFactory, written: str, bsn: str
) -> None:
    # Like every organisation a coordinator types (consent scope, participants), the
    # meeting's attendees are stored with any BSN in them redacted.
    if written.startswith("{:"):
        typed = written.format(bsn, bsn[4:], bsn[6:])
    else:
        typed = written.format(bsn)
    engine = bootstrap(
        Settings(store="memory", data_dir=tmp_path_factory.mktemp("m")),
        clock=FixedClock(datetime(2026, 11, 2, 9, 30, tzinfo=AMSTERDAM)),
        configure_logs=False,
    )
    try:
        meeting = engine.referrals.get_meeting(plan(engine.referrals, orgs=(JGZ, typed)))
        assert JGZ in meeting.organisations
        assert not any(bsn_spans(o) for o in meeting.organisations), meeting.organisations
    finally:
        engine.close()
