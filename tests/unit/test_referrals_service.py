"""The application service on the in-memory store: person matching, idempotency, group
commit and optimistic concurrency."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.errors import CaseNotFoundError, UnknownOfferError, VersionConflictError
from domain.escalation import EscalationPurpose
from domain.lifecycle import State
from domain.person_index import PersonIndex, person_index_id
from domain.values import MeldcodeStep, Outcome
from ks_engine import commands as c
from ks_engine.application import Referrals
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.referral_builders import (
    BSN_A,
    BSN_B,
    DEBTS,
    JGZ,
    KERKRADE,
    LANDGRAAF,
    coordinator_ctx,
    make_signal,
    partner_ctx,
    person,
    scores,
)


@pytest.fixture
def memory_engine(tmp_path: Path, clock: FixedClock) -> Iterator[Engine]:
    engine = bootstrap(
        Settings(store="memory", data_dir=tmp_path), clock=clock, configure_logs=False
    )
    yield engine
    engine.close()


@pytest.fixture
def app(memory_engine: Engine) -> Referrals:
    return memory_engine.referrals


def stored_events(app: Referrals) -> int:
    return app.recorder.max_notification_id() or 0


def signal_in(app: Referrals, bsn: str = BSN_A, **kwargs: Any) -> UUID:
    sig = make_signal(bsn, **kwargs)
    outcome = app.receive_signal(sig, partner_ctx(sig))
    assert outcome.case_id is not None
    return outcome.case_id


# -- person matching ---------------------------------------------------------------------------
def test_second_signal_about_the_same_person_joins_the_open_case(app: Referrals) -> None:
    first = make_signal(BSN_A, risks=(make_signal().risk_factors[0],))
    opened = app.receive_signal(first, partner_ctx(first))

    second = make_signal(BSN_A, key="ggd-zuid-limburg#42")
    joined = app.receive_signal(second, partner_ctx(second))

    assert joined.case_id == opened.case_id
    assert joined.matched_existing
    assert not opened.matched_existing
    assert not joined.duplicate
    assert opened.case_id is not None
    case = app.get_case(opened.case_id)
    assert case.version == 2
    assert [s["signal_key"] for s in case.signals] == [first.signal_key, "ggd-zuid-limburg#42"]
    assert case.risk_factors == ["debts", "stress"]


def test_same_person_in_another_municipality_opens_a_new_case(app: Referrals) -> None:
    kerkrade = signal_in(app, BSN_A, municipality=KERKRADE)
    landgraaf = signal_in(app, BSN_A, municipality=LANDGRAAF)

    assert kerkrade != landgraaf
    assert app.get_case(landgraaf).municipality == LANDGRAAF
    assert app.get_case(kerkrade).version == 1


def test_another_person_opens_a_new_case(app: Referrals) -> None:
    assert signal_in(app, BSN_A) != signal_in(app, BSN_B)


def test_after_closing_a_new_signal_opens_a_new_case(app: Referrals) -> None:
    old = signal_in(app, BSN_A)
    app.close_case(c.Close(case_id=old, outcome=Outcome.MOVED_AWAY), coordinator_ctx())
    index = app.repository.get(person_index_id(KERKRADE, person(BSN_A)))
    assert isinstance(index, PersonIndex)
    assert index.open_case_id is None

    new = signal_in(app, BSN_A)
    again = signal_in(app, BSN_A)

    assert new != old
    assert again == new
    assert app.get_case(old).state is State.CLOSED
    assert app.get_case(old).version == 2
    assert app.get_case(new).version == 2


# -- idempotency ----------------------------------------------------------------------------
def test_the_same_signal_twice_has_one_effect(app: Referrals) -> None:
    sig = make_signal(BSN_A, key="verloskunde-parkstad#1")
    first = app.receive_signal(sig, partner_ctx(sig))
    events = stored_events(app)

    again = app.receive_signal(sig, partner_ctx(sig))

    assert again.duplicate
    assert not first.duplicate
    assert again.case_id == first.case_id
    assert stored_events(app) == events
    assert first.case_id is not None
    assert app.get_case(first.case_id).version == 1


def test_a_duplicate_reports_the_effect_of_the_original(app: Referrals) -> None:
    signal_in(app, BSN_A)
    sig = make_signal(BSN_A, key="ggd-zuid-limburg#7")
    joined = app.receive_signal(sig, partner_ctx(sig))
    assert joined.case_id is not None
    app.close_case(c.Close(case_id=joined.case_id, outcome=Outcome.NO_CONTACT), coordinator_ctx())

    # Redelivered long after the case closed: still a duplicate, no new case.
    again = app.receive_signal(sig, partner_ctx(sig))

    assert again.duplicate
    assert again.case_id == joined.case_id
    assert again.matched_existing


# -- group commit ---------------------------------------------------------------------------
def count_saves(app: Referrals, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """From now on, the number of objects of each save of ``app``, in order."""
    saves: list[int] = []
    real_save = app.save

    def counting_save(*objs: Any, **kwargs: Any) -> Any:
        saves.append(len(objs))
        return real_save(*objs, **kwargs)

    monkeypatch.setattr(app, "save", counting_save)
    return saves


def stored_then_batch(app: Referrals) -> list[Any]:
    """`known` stored first, then a batch: a new person's signal (a1), a second about them in
    the same batch (a2), `known` again, a1 again, and a1's person in another municipality."""
    known = make_signal(BSN_B, key="known#1")
    app.receive_signal(known, partner_ctx(known))
    a1 = make_signal(BSN_A, key="batch#1")
    a2 = make_signal(BSN_A, key="batch#2")
    a3 = make_signal(BSN_A, key="batch#3", municipality=LANDGRAAF)
    return [a1, a2, known, a1, a3]


def test_a_batch_is_stored_in_one_transaction_with_one_outcome_per_signal(
    app: Referrals, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = stored_then_batch(app)
    saves = count_saves(app, monkeypatch)

    outcomes = app.receive_signals([(s, partner_ctx(s)) for s in batch])

    # `known` opened a case whose id derives from its key: found, it is a duplicate. One save:
    # a1's case and index entry, a2's record (it joined a1's case), a3's case and entry.
    assert saves == [5]
    _check_batch_outcomes(app, batch, outcomes)


def test_a_batch_told_stale_existence_conflicts_and_is_stored_signal_by_signal(
    app: Referrals, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = stored_then_batch(app)
    saves = count_saves(app, monkeypatch)
    # The store's answer is out of date, as when another worker stored `known` meanwhile.
    monkeypatch.setattr(app, "_existing", lambda recorder, ids: set())

    outcomes = app.receive_signals([(s, partner_ctx(s)) for s in batch])

    # Each refused attempt takes `known` for new: its case and index entry exist already.
    # Told so on every attempt, the batch is then stored signal by signal, each reading first:
    # a1 (case, entry), a2 (case, record), a3 (case, entry); `known` and a1's second delivery
    # are duplicates.
    assert saves == [7] * app.BATCH_ATTEMPTS + [2, 2, 2]
    _check_batch_outcomes(app, batch, outcomes)


def test_a_batch_told_stale_existence_once_is_stored_together_again(
    app: Referrals, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = stored_then_batch(app)
    saves = count_saves(app, monkeypatch)
    # Out of date once, as when another worker stored `known` between the question and the
    # commit; asked again, the store answers as it is.
    answers = [set()]
    real = app._existing
    assert real is not None
    monkeypatch.setattr(
        app, "_existing", lambda recorder, ids: answers.pop() if answers else real(recorder, ids)
    )

    outcomes = app.receive_signals([(s, partner_ctx(s)) for s in batch])

    # The refused attempt, then the batch together: a1 (case, entry), a2 (record), a3 (case,
    # entry); `known` read and found a duplicate.
    assert saves == [7, 5]
    _check_batch_outcomes(app, batch, outcomes)


def _check_batch_outcomes(app: Referrals, batch: list[Any], outcomes: list[Any]) -> None:
    assert [o.signal_key for o in outcomes] == [s.signal_key for s in batch]
    o1, o2, o_known, o_dup, o3 = outcomes
    assert not o1.matched_existing
    assert not o1.duplicate
    assert o2.case_id == o1.case_id
    assert o2.matched_existing
    assert o_known.duplicate
    assert o_dup.duplicate
    assert o_dup.case_id == o1.case_id
    assert o3.case_id not in (o1.case_id, o_known.case_id)
    assert o1.position is not None
    assert o3.position is not None
    assert o1.case_id is not None
    assert len(app.get_case(o1.case_id).signals) == 2


def test_a_batch_of_new_signals_is_one_transaction(
    app: Referrals, monkeypatch: pytest.MonkeyPatch
) -> None:
    saves = count_saves(app, monkeypatch)
    a1 = make_signal(BSN_A, key="new#1")
    a2 = make_signal(BSN_A, key="new#2")  # the same new person, in the same batch
    b1 = make_signal(BSN_B, key="new#3")
    batch = [a1, a2, a1, b1]  # a1 twice within the batch

    outcomes = app.receive_signals([(s, partner_ctx(s)) for s in batch])

    assert saves == [5]  # two cases, two index entries, a2's record (it joined a1's case)
    assert [o.duplicate for o in outcomes] == [False, False, True, False]
    assert outcomes[1].case_id == outcomes[0].case_id
    assert outcomes[3].case_id != outcomes[0].case_id


# -- coordinators' commands -------------------------------------------------------------------
def test_a_stale_expected_version_is_refused(app: Referrals) -> None:
    case_id = signal_in(app)
    app.request_consent(c.RequestConsent(case_id=case_id, expected_version=1), coordinator_ctx())

    with pytest.raises(VersionConflictError) as conflict:
        app.record_consent(
            c.RecordConsent(case_id=case_id, expected_version=1, given=False), coordinator_ctx()
        )

    assert (conflict.value.expected, conflict.value.actual) == (1, 2)
    assert str(conflict.value) == (
        f"case {case_id} changed since version 1 (now version 2); reload the case and try again"
    )
    assert app.get_case(case_id).state is State.CONSENT_REQUESTED
    result = app.record_consent(
        c.RecordConsent(case_id=case_id, expected_version=2, given=False), coordinator_ctx()
    )
    assert result.version == 3


def test_a_concurrent_change_between_read_and_write_is_a_version_conflict(
    app: Referrals, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = signal_in(app)
    stale = app.get_case(case_id)  # what a second coordinator read, at version 1
    app.request_consent(c.RequestConsent(case_id=case_id), coordinator_ctx())
    real_get = app.repository.get
    handed_out: list[UUID] = []

    def get_stale_once(aggregate_id: UUID, *args: Any, **kwargs: Any) -> Any:
        if aggregate_id == case_id and not handed_out:
            handed_out.append(aggregate_id)
            return stale
        return real_get(aggregate_id, *args, **kwargs)

    monkeypatch.setattr(app.repository, "get", get_stale_once)

    with pytest.raises(VersionConflictError) as conflict:
        app.escalate(
            c.Escalate(
                case_id=case_id,
                meldcode_step=MeldcodeStep.DECIDE,
                legal_basis="Wmo 2015 art. 5.2.6",
                justification="acute onveiligheid na afweging",
                organisations=["veilig-thuis-zuid-limburg"],
                purpose=EscalationPurpose.DISCUSSION,
            ),
            coordinator_ctx(),
        )

    assert (conflict.value.expected, conflict.value.actual) == (1, 2)
    assert "was changed by someone else at the same moment (now version 2)" in str(conflict.value)
    assert app.get_case(case_id).state is State.CONSENT_REQUESTED


def test_commands_return_the_new_version_and_log_position(app: Referrals) -> None:
    case_id = signal_in(app)

    result = app.request_consent(c.RequestConsent(case_id=case_id), coordinator_ctx())

    assert result.case_id == case_id
    assert result.version == 2
    assert result.position == stored_events(app)


def test_unknown_case_and_unknown_offer_are_refused(app: Referrals) -> None:
    unknown = uuid4()
    with pytest.raises(CaseNotFoundError, match=f"there is no case {unknown}"):
        app.request_consent(c.RequestConsent(case_id=unknown), coordinator_ctx())
    index_id = person_index_id(KERKRADE, person(BSN_A))
    signal_in(app)
    with pytest.raises(CaseNotFoundError):
        app.get_case(index_id)  # an index entry is not a case

    case_id = signal_in(app, BSN_B)
    app.request_consent(c.RequestConsent(case_id=case_id), coordinator_ctx())
    app.record_consent(c.RecordConsent(case_id=case_id, given=True, scope=[JGZ]), coordinator_ctx())
    app.record_discussion(
        c.RecordDiscussion(
            case_id=case_id, on=app.clock().date(), participants=[JGZ], scores=scores()
        ),
        coordinator_ctx(),
    )
    with pytest.raises(UnknownOfferError, match="'no-such-offer' is not on the menukaart"):
        app.match_support(
            c.MatchSupport(
                case_id=case_id,
                offer_ids=["no-such-offer"],
                lead_professional="X",
                planned_start=app.clock().date(),
            ),
            coordinator_ctx(),
        )
    assert app.get_case(case_id).version == 4


def test_every_stored_event_carries_actor_time_and_cause(app: Referrals, clock: FixedClock) -> None:
    case_id = signal_in(app)
    ctx = coordinator_ctx("http-request-9")
    app.request_consent(c.RequestConsent(case_id=case_id), ctx)
    clock.advance(hours=2)
    app.record_consent(c.RecordConsent(case_id=case_id, given=True, scope=[DEBTS]), ctx)

    events = list(app.events.get(case_id))

    assert [type(e).__qualname__ for e in events] == [
        "Referral.Signalled",
        "Referral.ConsentRequested",
        "Referral.ConsentGiven",
    ]
    for e in events[1:]:
        assert e.actor == ctx.actor.model_dump(mode="json")  # type: ignore[attr-defined]
        assert e.causation_id == "http-request-9"  # type: ignore[attr-defined]
    assert events[2].occurred_at == clock()  # type: ignore[attr-defined]
    assert [e.originator_version for e in events] == [1, 2, 3]
