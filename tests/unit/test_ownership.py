"""Who owns a case (assignment) and the coordinators' sealed notes: domain, projections and
the application on the in-memory store."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from domain.case_notes import CaseNotes, notes_id
from domain.deadlines import ServiceLevels
from domain.errors import CaseClosedError, CaseRestrictedError, InvalidValueError
from domain.reader_policy import NOTE_FIELDS, Label, Reader, may_read, note_entry
from domain.restriction import RestrictionBasis
from ks_engine import commands as c
from ks_engine.clock import AMSTERDAM
from ks_engine.coordinators import coordinators_of, person_principal_id
from ks_engine.identity_map import IdentityRule
from ks_engine.principals import Principal, Role
from projections import case_view, work_queue
from tests.conftest import FixedClock
from tests.referral_builders import (
    COORDINATOR,
    accept_transfer,
    assign,
    close,
    new_case,
    request_transfer,
)
from tests.unit.test_projection_scenario import CTX, make_event, referrals, signal_for

TEXT = "Vader wil niet dat zijn moeder iets hoort."
SIGNALLED = {
    "municipality": "GM0928",
    "person_pseudonym": "p" * 32,
    "signal": {
        "reporter": {"organisation": "verloskunde", "role": "midwife"},
        "phase": "pregnancy",
        "phase_date": "2027-03-01",
        "risk_factors": ["debts"],
        "urgency": "soon",
    },
}


def test_a_case_is_assigned_taken_over_and_keeps_its_state(clock: FixedClock) -> None:
    case = new_case(clock())
    assert case.owner is None
    case.assign(coordinator="c-1", actor=COORDINATOR, at=clock(), causation_id="a")
    case.assign(coordinator="c-2", actor=COORDINATOR, at=clock(), causation_id="b")
    assert (case.owner, case.state.value, case.version) == ("c-2", "signalled", 3)
    assert case.assignee == {"coordinator": "c-2", "by": "c-1", "at": clock()}


def test_assigning_twice_to_the_same_or_to_no_id_or_when_closed_is_refused(
    clock: FixedClock,
) -> None:
    case = new_case(clock())
    case.assign(coordinator="c-1", actor=COORDINATOR, at=clock(), causation_id="a")
    with pytest.raises(InvalidValueError, match="already assigned to c-1"):
        case.assign(coordinator="c-1", actor=COORDINATOR, at=clock(), causation_id="b")
    with pytest.raises(InvalidValueError, match="not a coordinator's id"):
        case.assign(coordinator="Jan de Vries", actor=COORDINATOR, at=clock(), causation_id="c")
    close(case, clock())
    with pytest.raises(CaseClosedError, match="assign the case"):
        case.assign(coordinator="c-2", actor=COORDINATOR, at=clock(), causation_id="d")


@given(
    st.one_of(
        st.from_regex(r"[A-Za-z0-9._-]{1,64}", fullmatch=True),
        st.from_regex(r"[A-Za-z0-9._-]{1,64}", fullmatch=True).map(lambda i: i + "\n"),
        st.text(max_size=70),
    )
)
@example("c-1\n")  # ``$`` alone lets a final line break through
@example("c" * 65)
def test_a_case_is_assigned_only_to_a_whole_coordinators_id(given_id: str) -> None:
    at = datetime(2026, 11, 2, 9, 30, tzinfo=AMSTERDAM)
    case = new_case(at)
    if re.fullmatch(r"[A-Za-z0-9._-]{1,64}", given_id) is None:
        with pytest.raises(InvalidValueError, match="not a coordinator's id"):
            case.assign(coordinator=given_id, actor=COORDINATOR, at=at, causation_id="a")
        assert case.owner is None
    else:
        case.assign(coordinator=given_id, actor=COORDINATOR, at=at, causation_id="a")
        assert case.owner == given_id


def test_the_queue_row_and_case_view_follow_the_owner() -> None:
    signalled = make_event("Signalled", SIGNALLED)
    assigned = make_event("Assigned", {"coordinator": "c-2"}, seq=2, version=2)
    item = work_queue.apply(None, signalled, ServiceLevels())
    assert item is not None
    assert item.assignee is None
    item = work_queue.apply(item, assigned, ServiceLevels())
    assert item is not None
    assert item.assignee == "c-2"
    view = case_view.apply(case_view.apply(None, signalled), assigned)
    assert view is not None
    assert view.assignee == "c-2"
    assert view.timeline[-1].details == {"coordinator": "c-2"}


def test_the_coordinators_of_a_municipality_come_from_principals_and_person_rules() -> None:
    def principal(pid: str, role: Role, where: tuple[str, ...]) -> Principal:
        return Principal(
            id=pid, role=role, organisation="gemeente", municipalities=where, token_sha256="0" * 64
        )

    principals = [
        principal("c-kerkrade", Role.COORDINATOR, ("GM0928",)),
        principal("c-landgraaf", Role.COORDINATOR, ("GM0882",)),
        principal("auditor", Role.AUDITOR, ("GM0928",)),
    ]
    rules = [
        IdentityRule(
            issuer="https://idp",
            subject="s-1",
            role=Role.COORDINATOR,
            organisation="gemeente-kerkrade",
            municipalities=("GM0928",),
        ),
        IdentityRule(
            issuer="https://idp",
            group="coordinatoren",
            role=Role.COORDINATOR,
            organisation="gemeente-kerkrade",
            municipalities=("GM0928",),
        ),
    ]
    found = [r.id for r in coordinators_of("GM0928", principals, rules)]
    assert found == sorted(["c-kerkrade", person_principal_id("https://idp", "s-1")])


def test_a_note_is_sealed_opened_for_its_reader_and_erased_with_the_details(
    clock: FixedClock,
) -> None:
    app = referrals(clock)
    case_id = app.receive_signal(*signal_for("GM0928", "a" * 32)).case_id
    assert case_id is not None
    assert app.case_notes(case_id).status == "present"
    assert app.add_note(c.AddNote(case_id=case_id, text=TEXT), CTX) == 1
    assert app.add_note(c.AddNote(case_id=case_id, text="bel 111222333 terug"), CTX) == 2
    opened = app.case_notes(case_id)
    assert [(n.number, n.text, n.user_ref) for n in opened.notes] == [
        (1, TEXT, "c-7"),
        (2, "bel [BSN] terug", "c-7"),
    ]
    notes = app.repository.get(notes_id(case_id))
    assert isinstance(notes, CaseNotes)
    assert TEXT not in repr(list(app.events.get(notes_id(case_id))))
    sealed = notes.notes[0]["sealed"]
    # A note's seal is not a personal-details seal: one cannot be opened as the other.
    assert notes.key_id not in {p["key_id"] for p in app.get_case(case_id).sealed_personal}

    app.erase_personal_data(case_id, CTX)

    assert app.case_notes(case_id).status == "erased"
    assert app.vault.open_text(sealed) is None  # the key is destroyed: unrecoverable
    with pytest.raises(InvalidValueError, match="erased"):
        app.add_note(c.AddNote(case_id=case_id, text="nog iets"), CTX)
    app.erase_personal_data(case_id, CTX)  # finishing an erasure again changes nothing
    assert app.case_notes(case_id).status == "erased"


def test_a_restricted_case_takes_no_note(clock: FixedClock) -> None:
    app = referrals(clock)
    case_id = app.receive_signal(*signal_for("GM0928", "b" * 32)).case_id
    assert case_id is not None
    app.restrict_processing(c.Restrict(case_id=case_id, basis=RestrictionBasis.OBJECTION), CTX)
    with pytest.raises(CaseRestrictedError):
        app.add_note(c.AddNote(case_id=case_id, text=TEXT), CTX)
    assert app.case_notes(case_id).notes == ()


def test_a_case_that_moves_to_another_municipality_has_no_owner_there(
    clock: FixedClock,
) -> None:
    case = new_case(clock())
    assign(case, clock())
    request_transfer(case, clock(), to="GM0882")
    accept_transfer(case, clock())
    assert (case.municipality, case.owner) == ("GM0882", None)
    events = [make_event("Signalled", SIGNALLED)]
    events.append(make_event("Assigned", {"coordinator": "c-02"}, seq=2, version=2))
    moved = {"from_municipality": "GM0928", "to_municipality": "GM0882"}
    events.append(make_event("CaseTransferred", moved, seq=3, version=3))
    item, view = None, None
    for e in events:
        item = work_queue.apply(item, e, ServiceLevels())
        view = case_view.apply(view, e)
    assert item is not None
    assert view is not None
    assert (item.municipality, item.assignee) == ("GM0882", None)
    assert (view.municipality, view.assignee) == ("GM0882", None)


@pytest.mark.parametrize("reader", list(Reader))
def test_a_notes_text_is_for_readers_of_the_notes_label_only(reader: Reader) -> None:
    note = {"number": 1, "at": "2026-11-02T09:30:00+01:00", "organisation": "gemeente-kerkrade"}
    note |= {"author": "c-1", "confidentiality": "notes", "text": TEXT}
    shown = note_entry(note, reader)
    assert ("text" in shown) == may_read(reader, Label.NOTES)
    assert ("text" in shown) == (reader is Reader.COORDINATOR)
    assert set(NOTE_FIELDS) == set(note)  # every field of a note has its label
