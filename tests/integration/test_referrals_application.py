"""The application service on each event store (in-memory, a real SQLite file, a real
PostgreSQL database): a whole case, a restart, snapshots, and two engines racing on the same
person."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest

from domain.errors import CaseClosedError, VersionConflictError
from domain.lifecycle import State
from domain.person_index import PersonIndex, person_index_id
from domain.values import Need, Outcome, Signal
from ks_engine import commands as c
from ks_engine.application import Referrals
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.settings import Settings
from ks_engine.signal_intake import SignalOutcome
from tests.conftest import FixedClock
from tests.referral_builders import (
    BSN_A,
    DEBTS,
    JGZ,
    KERKRADE,
    coordinator_ctx,
    make_signal,
    partner_ctx,
    scores,
)


def signal_about(engine: Engine, bsn: str, key: str, municipality: str = KERKRADE) -> Signal:
    """A signal as an intake adapter builds it: the BSN pseudonymised with the engine's key."""
    sig = make_signal(bsn, key=key, municipality=municipality)
    return sig.model_copy(update={"person_pseudonym": engine.pseudonymise(bsn)})


def receive(engine: Engine, sig: Signal) -> SignalOutcome:
    return engine.referrals.receive_signal(sig, partner_ctx(sig))


@contextmanager
def another_engine(settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    engine = bootstrap(settings, clock=clock, configure_logs=False)
    try:
        yield engine
    finally:
        engine.close()


def needs_shared_store(settings: Settings) -> None:
    if settings.store == "memory":
        pytest.skip("an in-memory store is not shared between engines and does not outlive one")


def test_a_case_from_first_signal_to_closed(engine: Engine, clock: FixedClock) -> None:
    app = engine.referrals
    ctx = coordinator_ctx("coordinator-session-1")

    # A midwife signals; youth health care signals the same mother the next day.
    first = receive(engine, signal_about(engine, BSN_A, "verloskunde-parkstad#1"))
    clock.advance(days=1)
    second = receive(engine, signal_about(engine, BSN_A, "ggd-zuid-limburg#1"))
    assert first.case_id is not None
    case_id = first.case_id
    assert second.case_id == case_id
    assert second.matched_existing

    # The coordinator asks for consent; the family agrees for JGZ and debt counselling.
    app.request_consent(c.RequestConsent(case_id=case_id, expected_version=2), ctx)
    clock.advance(days=2)
    app.record_consent(
        c.RecordConsent(
            case_id=case_id,
            given=True,
            scope=[JGZ, DEBTS],
            expires_on=clock().date() + timedelta(days=365),
        ),
        ctx,
    )

    # The Knooppunt discusses the family and agrees on debt counselling.
    clock.advance(days=5)
    app.record_discussion(
        c.RecordDiscussion(
            case_id=case_id,
            on=clock().date(),
            participants=[JGZ, DEBTS],
            scores=scores(),
            needs=[Need.FINANCIAL],
        ),
        ctx,
    )
    best = app.suggest_support(case_id)[0]
    assert best.offer.id == "schuldhulpverlening"
    app.match_support(
        c.MatchSupport(
            case_id=case_id,
            offer_ids=[best.offer.id],
            lead_professional="JGZ-verpleegkundige",
            planned_start=clock().date() + timedelta(days=7),
        ),
        ctx,
    )
    closed = app.close_case(
        c.Close(case_id=case_id, outcome=Outcome.SUPPORT_STARTED, reason="gestart"), ctx
    )

    case = app.get_case(case_id)
    assert closed.version == case.version == 7
    assert case.state is State.CLOSED
    assert case.outcome == {"code": "support_started", "reason": "gestart"}
    assert case.support[0]["offers"] == [
        {"offer_id": "schuldhulpverlening", "provider": "schuldhulp-parkstad"}
    ]
    assert case.discussions[0]["on"] == clock().date()
    assert [type(e).__name__ for e in app.events.get(case_id)] == [
        "Signalled",
        "SignalAdded",
        "ConsentRequested",
        "ConsentGiven",
        "Discussed",
        "SupportMatched",
        "Closed",
    ]
    with pytest.raises(CaseClosedError):
        app.request_consent(c.RequestConsent(case_id=case_id), ctx)

    # A new signal after closing opens a new case.
    later = receive(engine, signal_about(engine, BSN_A, "verloskunde-parkstad#2"))
    assert later.case_id not in (None, case_id)
    assert not later.matched_existing


def test_after_a_restart_cases_are_there_and_duplicates_recognised(
    store_settings: Settings, clock: FixedClock
) -> None:
    needs_shared_store(store_settings)
    with another_engine(store_settings, clock) as engine:
        sig = signal_about(engine, BSN_A, "verloskunde-parkstad#1")
        opened = receive(engine, sig)
        assert opened.case_id is not None
        case_id = opened.case_id
        engine.referrals.request_consent(c.RequestConsent(case_id=case_id), coordinator_ctx())

    with another_engine(store_settings, clock) as restarted:
        app = restarted.referrals
        assert app.get_case(case_id).state is State.CONSENT_REQUESTED
        assert app.get_case(case_id).version == 2
        # The same signal, redelivered after the restart, has no second effect.
        again = receive(restarted, sig)
        assert again.duplicate
        assert again.case_id == case_id
        # A new signal about the same person still finds the open case (same pseudonym key).
        joined = receive(restarted, signal_about(restarted, BSN_A, "ggd-zuid-limburg#1"))
        assert joined.case_id == case_id
        assert joined.matched_existing
        with pytest.raises(VersionConflictError):
            app.record_consent(
                c.RecordConsent(case_id=case_id, expected_version=2, given=False),
                coordinator_ctx(),
            )
        assert app.get_case(case_id).version == 3


def test_a_long_case_is_read_back_through_its_snapshot(
    store_settings: Settings, clock: FixedClock
) -> None:
    needs_shared_store(store_settings)
    with another_engine(store_settings, clock) as engine:
        app = engine.referrals
        outcomes = app.receive_signals(
            [
                (s, coordinator_ctx(s.signal_key))
                for s in (signal_about(engine, BSN_A, f"src#{n}") for n in range(55))
            ]
        )
        case_id = outcomes[0].case_id
        assert case_id is not None
        assert {o.case_id for o in outcomes} == {case_id}
        live = app.get_case(case_id)
        assert live.version == 55
        assert app.snapshots is not None
        snapshots = list(app.snapshots.get(case_id))
        assert [s.originator_version for s in snapshots] == [50]

    with another_engine(store_settings, clock) as restarted:
        reloaded = restarted.referrals.get_case(case_id)
        assert reloaded == live
        assert len(reloaded.signals) == 55


def _hold_first_save(
    app: Referrals, barrier: threading.Barrier, mp: pytest.MonkeyPatch
) -> list[int]:
    """Make the first save wait until the other engine has read too: a real race, every time.

    Returns the list of save calls, which grows as the engine saves.
    """
    real_save: Callable[..., Any] = app.save
    calls: list[int] = []

    def save(*objs: Any, **kwargs: Any) -> Any:
        calls.append(len(objs))
        if len(calls) == 1:
            barrier.wait(timeout=10)
        return real_save(*objs, **kwargs)

    mp.setattr(app, "save", save)
    return calls


def test_two_engines_racing_on_a_first_signal_open_exactly_one_case(
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
        signals = [
            (one, signal_about(one, BSN_A, "verloskunde-parkstad#1")),
            (two, signal_about(two, BSN_A, "ggd-zuid-limburg#1")),
        ]

        with ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = list(pool.map(lambda pair: receive(*pair), signals))

        # Both tried to open a case; the store refused the loser, which re-read and joined.
        assert sorted(len(calls) for calls in saves) == [1, 2]
        case_ids = {o.case_id for o in outcomes}
        assert len(case_ids) == 1
        assert sorted(o.matched_existing for o in outcomes) == [False, True]
        (case_id,) = case_ids
        assert case_id is not None
        case = one.referrals.get_case(case_id)
        assert case.version == 2
        assert sorted(s["signal_key"] for s in case.signals) == [
            "ggd-zuid-limburg#1",
            "verloskunde-parkstad#1",
        ]
        index = two.referrals.repository.get(person_index_id(KERKRADE, one.pseudonymise(BSN_A)))
        assert isinstance(index, PersonIndex)
        assert two.referrals.refs.case_of(index.open_case_id) == case_id
        assert index.version == 1


def test_two_engines_receiving_the_same_signal_apply_it_once(
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
        sig = signal_about(one, BSN_A, "verloskunde-parkstad#1")

        with ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = list(pool.map(lambda engine: receive(engine, sig), [one, two]))

        # The loser's retry finds the signal record and saves nothing.
        assert sorted(len(calls) for calls in saves) == [1, 1]
        assert sorted(o.duplicate for o in outcomes) == [False, True]
        assert len({o.case_id for o in outcomes}) == 1
        assert outcomes[0].case_id is not None
        assert one.referrals.get_case(outcomes[0].case_id).version == 1
