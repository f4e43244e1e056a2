"""Correction (AVG art. 16): retraction of a signal about the wrong person unlinks them and
leaves their details out; corrected personal details replace the old version for good."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest

from domain.correction import RetractionReason
from domain.errors import InvalidValueError, VersionConflictError
from domain.household import HouseholdMember, MemberRole
from domain.values import Actor, ActorRole, Outcome, PersonalDetails, RiskFactor, Signal, Urgency
from ks_engine import commands as c
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.referral_builders import BSN_A, BSN_B, KERKRADE, make_signal, partner_ctx, person
from tests.unit.test_projection_scenario import published

OFFICER = c.Context(
    actor=Actor(organisation="fg", role=ActorRole.PRIVACY_OFFICER, user_ref="fg-1"),
    causation_id="rights-1",
)
WRONG = RetractionReason.WRONG_PERSON


@pytest.fixture
def engine(tmp_path: Path, clock: FixedClock) -> Iterator[Engine]:
    built = bootstrap(
        Settings(store="memory", data_dir=tmp_path), clock=clock, configure_logs=False
    )
    yield built
    built.close()


def _with(signal: Signal, **personal: object) -> Signal:
    return signal.model_copy(update={"personal": PersonalDetails.model_validate(personal)})


def _receive(engine: Engine, signal: Signal) -> UUID:
    outcome = engine.referrals.receive_signal(signal, partner_ctx(signal))
    assert outcome.case_id is not None
    return outcome.case_id


def _found_by_name(engine: Engine, name: str, born: date) -> list[UUID]:
    found = engine.referrals.search_cases([KERKRADE], family_name=name, birth_date=born)
    return [case.id for case in found]


def test_retraction_leaves_the_wrong_persons_details_out_and_destroys_the_old_seal(
    engine: Engine,
) -> None:
    app = engine.referrals
    # Given a case of the mother, and a signal with her BSN that was about someone else
    mother = _with(make_signal(BSN_A), name="Moeder Juist", birth_date=date(1990, 1, 2))
    case_id = _receive(engine, mother)
    wrong = _with(
        make_signal(BSN_A, risks=(RiskFactor.SUBSTANCE_USE,), urgency=Urgency.URGENT),
        name="Iemand Anders",
        birth_date=date(1970, 5, 6),
    )
    assert _receive(engine, wrong) == case_id
    old_seals = list(app.get_case(case_id).sealed_personal)
    assert _found_by_name(engine, "Anders", date(1970, 5, 6)) == [case_id]
    # When the privacy officer retracts the second signal
    version = app.get_case(case_id).version
    cmd = c.RetractSignal(case_id=case_id, expected_version=version, signal_number=2, reason=WRONG)
    app.retract_signal(cmd, OFFICER)
    # Then the case holds the mother's signal only, with its codes
    case = app.get_case(case_id)
    assert len(case.signals) == 1
    assert case.is_open
    assert case.risk_factors == [r.value for r in mother.risk_factors]
    assert case.urgency == "routine"
    assert case.retractions[0]["signal_number"] == 2
    # and her details only; the other person's name is unreadable and no longer finds the case
    details = app.personal_details(case_id).details
    assert details is not None
    assert details.name == "Moeder Juist"
    assert all(app.vault.open(seal) is None for seal in old_seals)
    assert _found_by_name(engine, "Anders", date(1970, 5, 6)) == []
    assert _found_by_name(engine, "Juist", date(1990, 1, 2)) == [case_id]
    # and the history says which signal and why, never a name
    names = [e.name for e in published(app)]
    assert names[-2:] == ["SignalRetracted", "PersonalDetailsCorrected"]
    assert "Iemand Anders" not in repr([e.data for e in published(app)])


def test_retraction_unlinks_a_wrongly_named_household_member(engine: Engine) -> None:
    app = engine.referrals
    case_id = _receive(engine, make_signal(BSN_A))
    # Given a signal that named someone as the co-parent by mistake
    named = make_signal(BSN_A).model_copy(
        update={"household": (HouseholdMember(role=MemberRole.CO_PARENT, pseudonym=person(BSN_B)),)}
    )
    _receive(engine, named)
    assert person(BSN_B) in app.member_pseudonyms(app.get_case(case_id))
    # When that signal is retracted
    app.retract_signal(c.RetractSignal(case_id=case_id, signal_number=2, reason=WRONG), OFFICER)
    # Then the person is no member, and their own later signal opens a case of their own
    case = app.get_case(case_id)
    assert person(BSN_B) not in app.member_pseudonyms(case)
    assert [app.links.unseal(p) for p in case.unlinked] == [person(BSN_B)]  # kept sealed
    assert _receive(engine, make_signal(BSN_B)) != case_id
    # while the mother's next signal still joins her case
    assert _receive(engine, make_signal(BSN_A)) == case_id


def test_retracting_the_only_signal_closes_the_case_and_erases_its_details(
    engine: Engine,
) -> None:
    app = engine.referrals
    case_id = _receive(engine, make_signal(BSN_A))
    seals = list(app.get_case(case_id).sealed_personal)
    app.retract_signal(c.RetractSignal(case_id=case_id, signal_number=1, reason=WRONG), OFFICER)
    case = app.get_case(case_id)
    assert not case.is_open
    assert case.outcome is not None
    assert case.outcome["code"] == Outcome.SIGNAL_RETRACTED.value
    assert case.personal_erased is not None
    assert case.personal_erased["reason"] == "correction"
    assert all(app.vault.open(seal) is None for seal in seals)
    # The person's link is gone: search no longer finds the case, a new signal opens a new one
    assert app.search_cases([KERKRADE], pseudonym=person(BSN_A)) == []
    assert _receive(engine, make_signal(BSN_A)) != case_id
    names = [e.name for e in published(app) if e.case_id == str(case_id)]
    assert names[-3:] == ["SignalRetracted", "Closed", "PersonalDataErased"]
    # and the pseudonyms sealed in the case's events open no more: its link key is destroyed
    assert app.links.unseal(case.person_pseudonym) is None
    assert [app.links.unseal(p) for p in case.unlinked] == [None]


def test_a_retraction_names_an_existing_signal_and_the_version_it_saw(engine: Engine) -> None:
    app = engine.referrals
    case_id = _receive(engine, make_signal(BSN_A))
    version = app.get_case(case_id).version
    with pytest.raises(InvalidValueError, match="has no signal 2: it holds 1 signal"):
        app.retract_signal(c.RetractSignal(case_id=case_id, signal_number=2, reason=WRONG), OFFICER)
    _receive(engine, make_signal(BSN_A))
    stale = c.RetractSignal(
        case_id=case_id, expected_version=version, signal_number=1, reason=WRONG
    )
    with pytest.raises(VersionConflictError):
        app.retract_signal(stale, OFFICER)
    assert app.get_case(case_id).version == version + 1


def test_corrected_details_replace_the_old_version_which_can_never_be_read_again(
    engine: Engine, clock: FixedClock
) -> None:
    app = engine.referrals
    signal = _with(make_signal(BSN_A), name="Jansen", birth_date=date(1991, 3, 4), note="oud")
    case_id = _receive(engine, signal)
    old_seals = list(app.get_case(case_id).sealed_personal)
    fix = c.CorrectPersonalDetails(
        case_id=case_id, name="Janssen", phone="0612345678", remove=["note"]
    )
    app.correct_personal_details(fix, OFFICER)
    details = app.personal_details(case_id).details
    assert details is not None
    assert (details.name, details.birth_date, details.phone, details.note) == (
        "Janssen",
        date(1991, 3, 4),
        "0612345678",
        None,
    )
    assert all(app.vault.open(seal) is None for seal in old_seals)
    assert _found_by_name(engine, "Jansen", date(1991, 3, 4)) == []
    assert _found_by_name(engine, "Janssen", date(1991, 3, 4)) == [case_id]
    corrected = [e for e in published(app) if e.name == "PersonalDetailsCorrected"]
    assert corrected[-1].data.model_dump()["fields"] == ("name", "reporter_note", "phone")
    assert "Janssen" not in repr(corrected[-1].data)
    # The case replays to the same state from its events (no snapshot, no cache)
    assert app.repository.get(case_id) == app.get_case(case_id)


def test_a_correction_is_refused_in_words_when_it_cannot_be_made(
    engine: Engine, clock: FixedClock
) -> None:
    app = engine.referrals
    case_id = _receive(engine, make_signal(BSN_A))
    both = c.CorrectPersonalDetails(case_id=case_id, phone="0612345678", remove=["phone"])
    with pytest.raises(InvalidValueError, match="both given a new value and removed"):
        app.correct_personal_details(both, OFFICER)
    later = c.CorrectPersonalDetails(case_id=case_id, birth_date=date(2099, 1, 1))
    with pytest.raises(InvalidValueError, match="lies in the future"):
        app.correct_personal_details(later, OFFICER)
    with pytest.raises(InvalidValueError, match="name at least one field"):
        app.correct_personal_details(c.CorrectPersonalDetails(case_id=case_id), OFFICER)
    app.erase_personal_data(case_id, OFFICER)
    with pytest.raises(Exception, match="erased"):
        app.correct_personal_details(c.CorrectPersonalDetails(case_id=case_id, name="X"), OFFICER)
