"""The application on a real PostgreSQL server: a case's life, restarts, concurrent engines."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial
from typing import TypeVar
from uuid import uuid4

import pytest
from eventsourcing.persistence import PersistenceError
from pydantic import SecretStr

from adapters.persistence.postgres import PostgresUnavailableError, connect
from domain.errors import ConsentRequiredError
from domain.lifecycle import State
from domain.values import (
    Actor,
    ActorRole,
    HealthScores,
    Need,
    Outcome,
    PersonalDetails,
    Phase,
    PhaseInfo,
    Reporter,
    ReporterRole,
    RiskFactor,
    Signal,
)
from ks_engine import commands as c
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.postgres_server import PostgresServer

BSN = "111222333"
OTHER_BSN = "123456782"
MIDWIFE = "https://verloskunde-heuvelland.nl"
JGZ = "jgz-zuid-limburg"
DEBT_COUNSELLING = "schuldhulp-parkstad"  # provider of "schuldhulpverlening" on the menukaart
COORDINATOR = c.Context(
    actor=Actor(organisation="gemeente-kerkrade", role=ActorRole.COORDINATOR, user_ref="c-01"),
    causation_id="test",
)
T = TypeVar("T")


@pytest.fixture
def start_engine(postgres_settings: Settings, clock: FixedClock) -> Iterator[Callable[..., Engine]]:
    """Starts engines on the test's database; every one is closed at the end."""
    started: list[Engine] = []

    def start(**overrides: object) -> Engine:
        settings = postgres_settings.model_copy(update=overrides)
        engine = bootstrap(settings, clock=clock, configure_logs=False)
        started.append(engine)
        return engine

    yield start
    for engine in started:
        engine.close()


def signal_about(
    engine: Engine, bsn: str, organisation: str, key: str | None = None
) -> tuple[Signal, c.Context]:
    key = key or f"{organisation}#{uuid4()}"
    signal = Signal(
        signal_key=key,
        municipality="GM0928",
        person_pseudonym=engine.pseudonymise(bsn),
        reporter=Reporter(organisation=organisation, role=ReporterRole.MIDWIFE),
        phase=PhaseInfo(
            phase=Phase.PREGNANCY, date=engine.referrals.clock().date() + timedelta(90)
        ),
        risk_factors=(RiskFactor.DEBTS, RiskFactor.STRESS),
        personal=PersonalDetails(name="Test Ouder"),
    )
    partner = c.Context(
        actor=Actor(organisation=organisation, role=ActorRole.PARTNER), causation_id=key
    )
    return signal, partner


def bsn_number(n: int) -> str:
    """The ``n``-th nine-digit number passing the elfproef (not anyone's BSN on purpose)."""
    found = 0
    for base in range(10_000_000, 100_000_000):
        digits = [int(d) for d in str(base)]
        check = sum(w * d for w, d in zip(range(9, 1, -1), digits, strict=True)) % 11
        if check < 10:
            if found == n:
                return f"{base}{check}"
            found += 1
    raise AssertionError("unreachable")


def scores() -> HealthScores:
    return HealthScores(
        bodily_functions=6,
        mental_wellbeing=4,
        meaningfulness=6,
        quality_of_life=3,
        participation=5,
        daily_functioning=4,
    )


def stored_events(settings: Settings) -> list[bytes]:
    with connect(settings) as conn:
        rows = conn.execute(
            "SELECT state FROM referrals_events ORDER BY notification_id"
        ).fetchall()
    return [bytes(state) for (state,) in rows]


def test_a_case_lives_its_whole_life_on_postgres_and_survives_a_restart(
    start_engine: Callable[..., Engine], postgres_settings: Settings
) -> None:
    engine = start_engine()
    app = engine.referrals
    today = app.clock().date()

    # A midwife signals: a new case.
    first_signal = signal_about(engine, BSN, MIDWIFE)
    first = app.receive_signal(*first_signal)
    assert first.case_id is not None
    assert not first.matched_existing
    case_id = first.case_id

    # JGZ signals the same person: matched to the open case.
    second = app.receive_signal(*signal_about(engine, BSN, JGZ))
    assert (second.case_id, second.matched_existing) == (case_id, True)

    # The midwife's signal arrives again: a duplicate, nothing changes.
    version = app.get_case(case_id).version
    again = app.receive_signal(*first_signal)
    assert (again.case_id, again.duplicate) == (case_id, True)
    assert app.get_case(case_id).version == version

    # No discussion without consent.
    discussion = c.RecordDiscussion(
        case_id=case_id, on=today, participants=[JGZ], scores=scores(), needs=[Need.FINANCIAL]
    )
    with pytest.raises(ConsentRequiredError):
        app.record_discussion(discussion, COORDINATOR)
    assert app.get_case(case_id).version == version

    # Consent, discussion, support matched, closed.
    app.request_consent(c.RequestConsent(case_id=case_id), COORDINATOR)
    app.record_consent(
        c.RecordConsent(
            case_id=case_id,
            given=True,
            scope=[JGZ, DEBT_COUNSELLING],
            expires_on=today + timedelta(365),
        ),
        COORDINATOR,
    )
    app.record_discussion(discussion, COORDINATOR)
    app.match_support(
        c.MatchSupport(
            case_id=case_id,
            offer_ids=["schuldhulpverlening"],
            lead_professional="JGZ-verpleegkundige",
            planned_start=today + timedelta(7),
        ),
        COORDINATOR,
    )
    assert app.get_case(case_id).state is State.SUPPORT_MATCHED
    closed = app.close_case(c.Close(case_id=case_id, outcome=Outcome.SUPPORT_STARTED), COORDINATOR)
    engine.close()

    # A new engine on the same database finds the case as it was left.
    restarted = start_engine()
    case = restarted.referrals.get_case(case_id)
    assert (case.state, case.version) == (State.CLOSED, closed.version)
    assert len(case.signals) == 2

    # The old signal is still a duplicate; a new signal about the person opens a new case.
    assert restarted.referrals.receive_signal(*first_signal).duplicate
    after_close = restarted.referrals.receive_signal(*signal_about(restarted, BSN, JGZ))
    assert after_close.case_id not in (None, case_id)
    assert not after_close.matched_existing

    # The events are stored encrypted: neither the BSN, nor its pseudonym, nor the name show.
    events = stored_events(postgres_settings)
    assert len(events) >= closed.version
    for secret in (BSN, first_signal[0].person_pseudonym, "Test Ouder", "schuldhulpverlening"):
        assert not any(secret.encode() in state for state in events)


def test_first_signals_about_one_person_from_two_engines_at_once_open_one_case(
    start_engine: Callable[..., Engine],
) -> None:
    engines = [start_engine(), start_engine()]
    for round_ in range(8):
        bsn = bsn_number(round_)
        signals = [signal_about(engine, bsn, f"partner-{i}") for i, engine in enumerate(engines)]
        outcomes = at_once(
            [
                partial(engine.referrals.receive_signal, *signal)
                for engine, signal in zip(engines, signals, strict=True)
            ]
        )
        case_ids = {o.case_id for o in outcomes}
        assert len(case_ids) == 1, outcomes
        assert sorted(o.matched_existing for o in outcomes) == [False, True]
        [case_id] = case_ids
        assert case_id is not None
        case = engines[0].referrals.get_case(case_id)
        assert sorted(s["signal_key"] for s in case.signals) == sorted(
            s.signal_key for s, _ in signals
        )


def test_one_signal_delivered_to_two_engines_at_once_has_one_effect(
    start_engine: Callable[..., Engine],
) -> None:
    engines = [start_engine(), start_engine()]
    for _ in range(5):
        signal = signal_about(engines[0], OTHER_BSN, MIDWIFE)
        outcomes = at_once([partial(e.referrals.receive_signal, *signal) for e in engines])
        case_id = outcomes[0].case_id
        assert case_id is not None
        assert outcomes[1].case_id == case_id
        assert sorted(o.duplicate for o in outcomes) == [False, True]
        case = engines[1].referrals.get_case(case_id)
        assert [s["signal_key"] for s in case.signals].count(signal[0].signal_key) == 1


def test_schema_creation_is_idempotent_also_when_engines_start_together(
    start_engine: Callable[..., Engine], postgres_settings: Settings
) -> None:
    # Several components start at the same moment on an empty database, in their own schema.
    postgres_settings.cipher_key_text()  # (development keys are made once, not concurrently)
    engines = at_once([lambda: start_engine(pg_schema="ks") for _ in range(4)])
    case_id = engines[0].referrals.receive_signal(*signal_about(engines[0], BSN, MIDWIFE)).case_id
    assert case_id is not None

    # Started again later, on the existing tables: nothing is recreated or lost.
    again = start_engine(pg_schema="ks")
    assert again.referrals.get_case(case_id).version == 1

    ks = postgres_settings.model_copy(update={"pg_schema": "ks"})
    with connect(ks) as conn:
        tables = {
            name
            for (name,) in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'ks'"
            )
        }
        public = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert {"referrals_events", "referrals_snapshots"} <= tables
    assert public == (0,)


def test_the_engine_carries_on_when_the_postgres_server_restarts(
    start_engine: Callable[..., Engine], postgres_server: PostgresServer
) -> None:
    engine = start_engine(pg_connect_timeout_seconds=1)
    first = engine.referrals.receive_signal(*signal_about(engine, BSN, MIDWIFE))

    # Restarted between two signals: the pooled connections are broken, the next one works.
    postgres_server.restart()
    second = engine.referrals.receive_signal(*signal_about(engine, BSN, JGZ))
    assert (second.case_id, second.matched_existing) == (first.case_id, True)

    # While the server is down the store reports an error (the intake naks on it) ...
    postgres_server.stop()
    try:
        with pytest.raises(PersistenceError):
            engine.referrals.receive_signal(*signal_about(engine, BSN, JGZ))
    finally:
        postgres_server.start()

    # ... and once it is back, signals are stored again, on the same case.
    third = engine.referrals.receive_signal(*signal_about(engine, BSN, JGZ))
    assert (third.case_id, third.matched_existing) == (first.case_id, True)
    assert first.case_id is not None
    assert len(engine.referrals.get_case(first.case_id).signals) == 3


def test_a_wrong_password_is_reported_in_words_without_the_password(
    postgres_settings: Settings, clock: FixedClock
) -> None:
    wrong = postgres_settings.model_copy(update={"pg_password": SecretStr("not-the-password")})
    with pytest.raises(PostgresUnavailableError) as refused:
        bootstrap(wrong, clock=clock, configure_logs=False)
    message = str(refused.value)
    assert postgres_settings.pg_dbname in message
    assert "password authentication failed" in message
    assert "not-the-password" not in message


def at_once(calls: list[Callable[[], T]]) -> list[T]:
    """Run the calls in threads released together; re-raise the first failure."""
    barrier = threading.Barrier(len(calls))
    results: list[T | None] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int, call: Callable[[], T]) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]
