"""A case is a household's case: a signal about any member of an open household joins it, on
each event store, also when two engines race; members are known by keyed pseudonyms only."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest

from domain.errors import InvalidValueError
from domain.household import HouseholdMember, MemberDetails, MemberRole
from domain.person_index import PersonIndex, person_index_id
from domain.values import Outcome, PersonalDetails, Signal
from ks_engine import commands as c
from ks_engine.bootstrap import Engine
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.integration.test_referrals_application import (
    _hold_first_save,
    another_engine,
    needs_shared_store,
    receive,
    signal_about,
)
from tests.referral_builders import BSN_A, BSN_B, BSN_C, KERKRADE, coordinator_ctx

CHILD = "100000009"  # valid test BSNs, not people
STRANGER = "222222220"


def with_household(
    engine: Engine, sig: Signal, *, co_parent: str | None = None, child: str | None = None
) -> Signal:
    """``sig`` naming a co-parent and a born child by BSN, and an unborn child by due date."""
    members = [HouseholdMember(role=MemberRole.UNBORN, due_date=date(2027, 3, 1))]
    details = []
    if co_parent:
        ref = engine.pseudonymise(co_parent)
        members.append(HouseholdMember(role=MemberRole.CO_PARENT, pseudonym=ref))
        details.append(MemberDetails(role=MemberRole.CO_PARENT, ref=ref, name="Pieter Jansen"))
    if child:
        ref = engine.pseudonymise(child)
        members.append(HouseholdMember(role=MemberRole.CHILD, pseudonym=ref))
        details.append(MemberDetails(role=MemberRole.CHILD, ref=ref, birth_date=date(2024, 5, 1)))
    personal = PersonalDetails(name="Anna Jansen", phone="0612345678", household=tuple(details))
    return sig.model_copy(update={"household": tuple(members), "personal": personal})


def test_a_signal_about_any_member_of_an_open_household_joins_its_case(
    engine: Engine,
) -> None:
    # The midwife names the mother, the co-parent and an older child.
    first = with_household(engine, signal_about(engine, BSN_A, "m#1"), co_parent=BSN_B, child=CHILD)
    opened = receive(engine, first)
    assert opened.matched_existing is False

    # JGZ signals about the child, the GP about the co-parent: both join the same case.
    by_child = receive(engine, signal_about(engine, CHILD, "jgz#1"))
    by_co_parent = receive(engine, signal_about(engine, BSN_B, "gp#1"))
    assert by_child.case_id == by_co_parent.case_id == opened.case_id
    assert by_child.matched_existing
    assert by_co_parent.matched_existing

    # A signal about someone else opens a case of their own.
    other = receive(engine, signal_about(engine, STRANGER, "m#2"))
    assert other.case_id != opened.case_id

    assert opened.case_id is not None
    case = engine.referrals.get_case(opened.case_id)
    assert [m["role"] for m in case.household] == ["parent", "co_parent", "child", "unborn"]
    assert engine.referrals.member_pseudonyms(case) == [
        engine.pseudonymise(b) for b in (BSN_A, BSN_B, CHILD)
    ]
    # The events hold pseudonyms and codes; names and contact details only sealed.
    stored = json.dumps([s for s in case.signals], default=str)
    for clear in (BSN_A, BSN_B, CHILD, "Jansen", "0612345678"):
        assert clear not in stored
    details = engine.referrals.personal_details(case.id).details
    assert details is not None
    assert details.phone == "0612345678"
    assert {m.name for m in details.household} == {"Pieter Jansen", None}


def test_closing_a_case_releases_every_member(engine: Engine) -> None:
    first = with_household(engine, signal_about(engine, BSN_A, "m#1"), co_parent=BSN_B)
    opened = receive(engine, first)
    assert opened.case_id is not None
    engine.referrals.close_case(
        c.Close(case_id=opened.case_id, outcome=Outcome.NO_CONTACT, reason="verhuisd"),
        coordinator_ctx(),
    )
    # After closing, a signal about the co-parent opens a new case.
    later = receive(engine, signal_about(engine, BSN_B, "gp#1"))
    assert later.case_id != opened.case_id
    assert not later.matched_existing


def test_a_signal_naming_the_parent_of_another_case_links_both_cases(engine: Engine) -> None:
    mother = receive(engine, signal_about(engine, BSN_A, "m#1"))
    father = receive(engine, signal_about(engine, BSN_B, "gp#1"))
    # A signal about the father names the mother as his co-parent: it joins his case, which
    # now names hers as one household's, for the coordinator to merge.
    linking = with_household(engine, signal_about(engine, BSN_B, "gp#2"), co_parent=BSN_A)
    joined = receive(engine, linking)
    assert joined.case_id == father.case_id
    assert father.case_id is not None
    case = engine.referrals.get_case(father.case_id)
    assert case.signals[-1]["related_cases"] == [str(mother.case_id)]


def test_two_engines_racing_on_members_of_one_household_open_one_case(
    store_settings: Settings, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    needs_shared_store(store_settings)
    with (
        another_engine(store_settings, clock) as one,
        another_engine(store_settings, clock) as two,
    ):
        barrier = threading.Barrier(2)
        saves = [
            _hold_first_save(one.referrals, barrier, monkeypatch),
            _hold_first_save(two.referrals, barrier, monkeypatch),
        ]
        # One engine hears of the mother naming the father; the other of the father alone.
        pairs = [
            (one, with_household(one, signal_about(one, BSN_A, "m#1"), co_parent=BSN_B)),
            (two, signal_about(two, BSN_B, "gp#1")),
        ]

        with ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = list(pool.map(lambda pair: receive(*pair), pairs))

        # The store refused the loser (the father's index entry was written by both); its
        # retry found the winner's case and joined it.
        assert sorted(len(calls) for calls in saves) == [1, 2]
        assert len({o.case_id for o in outcomes}) == 1
        assert sorted(o.matched_existing for o in outcomes) == [False, True]
        case_id = outcomes[0].case_id
        assert case_id is not None
        case = one.referrals.get_case(case_id)
        opened = one.referrals.member_pseudonyms(case)
        assert sorted(opened) == sorted(one.pseudonymise(b) for b in (BSN_A, BSN_B))
        for bsn in (BSN_A, BSN_B):
            index = two.referrals.repository.get(person_index_id(KERKRADE, one.pseudonymise(bsn)))
            assert isinstance(index, PersonIndex)
            assert two.referrals.refs.case_of(index.open_case_id) == case_id
        # A third member, unrelated, stays apart.
        assert receive(one, signal_about(one, BSN_C, "m#9")).case_id != case_id


def test_a_coordinator_merges_two_cases_of_one_household(engine: Engine) -> None:
    # Two cases open, one for each parent; a signal then names them as one household.
    mother = receive(engine, signal_about(engine, BSN_A, "m#1"))
    father = receive(engine, signal_about(engine, BSN_B, "gp#1"))
    receive(engine, with_household(engine, signal_about(engine, BSN_B, "gp#2"), co_parent=BSN_A))
    assert mother.case_id is not None
    assert father.case_id is not None

    # The coordinator merges the mother's case into the father's.
    result = engine.referrals.merge_cases(
        c.MergeCases(case_id=father.case_id, other_case_id=mother.case_id), coordinator_ctx()
    )

    kept = engine.referrals.get_case(father.case_id)
    merged = engine.referrals.get_case(mother.case_id)
    assert result.version == kept.version
    assert kept.is_open
    assert not merged.is_open
    assert merged.outcome is not None
    assert merged.outcome["code"] == "merged"
    assert merged.outcome["into"] == str(kept.id)
    # History kept: the merged case's own events remain; the kept case holds its signals too.
    assert [s["signal_key"] for s in merged.signals] == ["m#1"]
    assert sorted(s["signal_key"] for s in kept.signals) == ["gp#1", "gp#2", "m#1"]
    assert set(engine.referrals.member_pseudonyms(kept)) == {
        engine.pseudonymise(b) for b in (BSN_A, BSN_B)
    }
    # A new signal about the mother joins the case that stayed open.
    later = receive(engine, signal_about(engine, BSN_A, "m#2"))
    assert later.case_id == kept.id
    assert later.matched_existing
    # Personal details of both cases open on the kept case.
    details = engine.referrals.personal_details(kept.id).details
    assert details is not None
    assert details.name == "Test Ouder"


def test_merging_a_case_into_itself_or_a_closed_case_is_refused(engine: Engine) -> None:
    from domain.errors import DomainError

    one = receive(engine, signal_about(engine, BSN_A, "m#1"))
    assert one.case_id is not None
    with pytest.raises(DomainError, match="two different cases"):
        engine.referrals.merge_cases(
            c.MergeCases(case_id=one.case_id, other_case_id=one.case_id), coordinator_ctx()
        )
    two = receive(engine, signal_about(engine, BSN_B, "m#2"))
    assert two.case_id is not None
    engine.referrals.close_case(
        c.Close(case_id=two.case_id, outcome=Outcome.NO_CONTACT), coordinator_ctx()
    )
    with pytest.raises(DomainError):
        engine.referrals.merge_cases(
            c.MergeCases(case_id=one.case_id, other_case_id=two.case_id), coordinator_ctx()
        )


def test_a_postnatal_signal_naming_the_child_records_the_birth(engine: Engine) -> None:
    from domain.values import Phase, PhaseInfo

    # A pregnancy signal: the case expects a child.
    opened = receive(engine, signal_about(engine, BSN_A, "m#1"))
    assert opened.case_id is not None
    case = engine.referrals.get_case(opened.case_id)
    assert [m["role"] for m in case.household] == ["parent", "unborn"]

    # The maternity nurse signals after the birth, naming the child by its new BSN.
    born = signal_about(engine, BSN_A, "kraam#1").model_copy(
        update={
            "phase": PhaseInfo(phase=Phase.POSTNATAL, date=date(2027, 2, 27)),
            "household": (
                HouseholdMember(role=MemberRole.CHILD, pseudonym=engine.pseudonymise(CHILD)),
            ),
        }
    )
    receive(engine, born)
    case = engine.referrals.get_case(opened.case_id)
    assert [m["role"] for m in case.household] == ["parent", "child"]
    assert case.births[0]["due_date"] == date(2027, 3, 1)

    # JGZ's later signal about the child by its BSN joins the case.
    later = receive(engine, signal_about(engine, CHILD, "jgz#1"))
    assert later.case_id == opened.case_id
    assert later.matched_existing


def test_the_coordinator_records_a_birth_and_the_childs_bsn_then_finds_the_case(
    engine: Engine,
) -> None:
    opened = receive(engine, signal_about(engine, BSN_A, "m#1"))
    assert opened.case_id is not None
    engine.referrals.record_birth(
        c.RecordBirth(
            case_id=opened.case_id,
            child_pseudonym=engine.pseudonymise(CHILD),
            birth_date=date(2026, 10, 30),
            name="Sem",
        ),
        coordinator_ctx(),
    )
    case = engine.referrals.get_case(opened.case_id)
    assert [m["role"] for m in case.household] == ["parent", "child"]
    assert "Sem" not in json.dumps(case.births, default=str)
    details = engine.referrals.personal_details(case.id).details
    assert details is not None
    assert [(m.name, m.birth_date) for m in details.household] == [("Sem", date(2026, 10, 30))]
    joined = receive(engine, signal_about(engine, CHILD, "jgz#1"))
    assert joined.case_id == case.id


def test_a_birth_in_the_future_is_refused(engine: Engine) -> None:
    opened = receive(engine, signal_about(engine, BSN_A, "m#1"))
    assert opened.case_id is not None
    tomorrow = engine.referrals.clock().date() + timedelta(days=1)
    with pytest.raises(InvalidValueError, match="birth date lies in the future"):
        engine.referrals.record_birth(
            c.RecordBirth(
                case_id=opened.case_id,
                child_pseudonym=engine.pseudonymise(CHILD),
                birth_date=tomorrow,
            ),
            coordinator_ctx(),
        )
    assert engine.referrals.get_case(opened.case_id).version == 1


def test_erasing_a_merged_case_leaves_the_kept_case_its_details_and_keys(engine: Engine) -> None:
    # Two parents' cases are merged; later the closed, merged case is erased.
    mother = receive(engine, signal_about(engine, BSN_A, "m#1"))
    father = receive(engine, signal_about(engine, BSN_B, "gp#1"))
    assert mother.case_id is not None
    assert father.case_id is not None
    engine.referrals.merge_cases(
        c.MergeCases(case_id=father.case_id, other_case_id=mother.case_id), coordinator_ctx()
    )
    engine.referrals.erase_personal_data(mother.case_id, coordinator_ctx())

    # The kept case still opens every detail it holds and seals new ones.
    kept = engine.referrals.get_case(father.case_id)
    assert engine.referrals.personal_details(kept.id).details is not None
    later = receive(engine, signal_about(engine, BSN_A, "m#2"))
    assert later.case_id == kept.id
    assert engine.referrals.personal_details(kept.id).details is not None
