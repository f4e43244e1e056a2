"""Many aggregates read in one query give what reading each alone gives (the intake's reading
ahead of a batch's matching-index entries and cases), on SQLite and on PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest

from adapters.persistence.read_many import SQLITE_VALUES, events_after, latest_events
from domain.person_index import PersonIndex, person_index_id
from domain.referral import Referral
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.referral_builders import KERKRADE, make_signal, partner_ctx, person
from tests.strategies import valid_bsns

SNAPSHOTTED = 55  # signals for one person: past Referral's snapshot interval (50)


@pytest.fixture
def stored(durable_settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    """Cases of 1 to 4 signals each, and one case long enough to have a snapshot."""
    engine = bootstrap(durable_settings, clock=clock, configure_logs=False)
    app = engine.referrals
    people = valid_bsns(24)
    for n, bsn in enumerate(people):
        for _ in range(n % 4 + 1):
            signal = make_signal(bsn)
            app.receive_signal(signal, partner_ctx(signal))
    long_lived = make_signal(people[0])
    for _ in range(SNAPSHOTTED):
        signal = long_lived.model_copy(update={"signal_key": f"verloskunde-parkstad#{uuid4()}"})
        app.receive_signal(signal, partner_ctx(signal))
    engine.people = people  # type: ignore[attr-defined]
    yield engine
    engine.close()


def _ids(engine: Engine) -> tuple[list[UUID], list[UUID]]:
    app = engine.referrals
    index_ids = [person_index_id(KERKRADE, person(b)) for b in engine.people]  # type: ignore[attr-defined]
    case_ids = [
        c for i in index_ids if (c := app.refs.case_of(app.repository.get(i).open_case_id))
    ]
    return index_ids, case_ids


def test_events_after_each_version_are_those_read_one_by_one(stored: Engine) -> None:
    app = stored.referrals
    index_ids, case_ids = _ids(stored)
    unknown = [uuid4() for _ in range(SQLITE_VALUES + 3)]  # more than one statement's worth
    rng = random.Random(7)
    for _ in range(3):
        after = {i: rng.randint(0, 6) for i in [*index_ids, *case_ids, *unknown]}
        after[case_ids[0]] = rng.randint(0, SNAPSHOTTED)
        expected = {
            i: events
            for i, v in after.items()
            if (events := list(app.recorder.select_events(i, gt=v)))
        }
        assert expected, "the store holds events past the chosen versions"

        assert events_after(app.recorder, after) == expected


def test_latest_snapshots_are_those_read_one_by_one(stored: Engine) -> None:
    app = stored.referrals
    assert app.snapshots is not None
    _, case_ids = _ids(stored)
    snapshots = app.snapshots.recorder

    found = latest_events(snapshots, [*case_ids, uuid4(), *case_ids])

    expected = {
        i: latest[0]
        for i in case_ids
        if (latest := list(snapshots.select_events(i, desc=True, limit=1)))
    }
    assert found == expected
    assert case_ids[0] in found, "the long-lived case has a snapshot"


def test_aggregates_read_together_equal_the_repositorys(stored: Engine) -> None:
    app = stored.referrals
    index_ids, case_ids = _ids(stored)

    indexes = app.read_many(PersonIndex, [*index_ids, uuid4()])
    cases = app.read_many(Referral, case_ids)

    assert set(indexes) == set(index_ids)
    assert set(cases) == set(case_ids)
    for aggregate_id, aggregate in {**indexes, **cases}.items():
        assert vars(aggregate) == vars(app.repository.get(aggregate_id))
    assert cases[case_ids[0]].version > SNAPSHOTTED


def test_a_store_it_cannot_ask_answers_none(clock: FixedClock) -> None:
    engine = bootstrap(Settings(store="memory"), clock=clock, configure_logs=False)
    try:
        recorder = engine.referrals.recorder
        assert events_after(recorder, {uuid4(): 0}) is None
        assert latest_events(recorder, [uuid4()]) is None
    finally:
        engine.close()


def test_a_batch_joining_cases_reads_no_aggregate_one_by_one(
    durable_settings: Settings, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = bootstrap(durable_settings, clock=clock, configure_logs=False)
    try:
        app = engine.referrals
        assert app.snapshots is not None
        people = valid_bsns(30)
        app.receive_signals([(s, partner_ctx(s)) for s in map(make_signal, people)])
        reads: list[UUID] = []
        for recorder in (app.recorder, app.snapshots.recorder):
            one_by_one = recorder.select_events

            def counted(originator_id: UUID, _read: Any = one_by_one, **kw: Any) -> Any:
                reads.append(originator_id)
                return _read(originator_id, **kw)

            monkeypatch.setattr(recorder, "select_events", counted)

        again = [make_signal(b) for b in people]
        outcomes = app.receive_signals([(s, partner_ctx(s)) for s in again])

        assert all(o.matched_existing for o in outcomes)
        assert reads == []
    finally:
        engine.close()
