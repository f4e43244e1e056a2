"""The PostgreSQL event store writes stored events as a binary array: what any batch writes,
eventsourcing's own reads give back exactly (ids, versions, topics, bytes), in the
notification log in the order written; the engine runs on it."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.persistence.event_store_postgres import (
    BinaryInsertApplicationRecorder,
    BinaryInsertRecorder,
)
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.referral_builders import make_signal, partner_ctx

topics = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"))
batches = st.lists(
    st.tuples(st.integers(1, 3), topics, st.binary(max_size=3000)), min_size=1, max_size=40
)


@pytest.fixture
def engine(postgres_settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    built = bootstrap(postgres_settings, clock=clock, configure_logs=False)
    yield built
    built.close()


def _events(batch: list[tuple[int, str, bytes]], ids: list[UUID]) -> list[StoredEvent]:
    """Events of a few aggregates, versions counting up per aggregate from a high start."""
    versions: dict[UUID, int] = {}
    events = []
    for which, topic, state in batch:
        aggregate_id = ids[which - 1]
        versions[aggregate_id] = versions.get(aggregate_id, 2**40) + 1
        events.append(StoredEvent(aggregate_id, versions[aggregate_id], topic, state))
    return events


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=batches)
def test_what_a_batch_writes_is_read_back_exactly(engine: Engine, batch: list) -> None:
    recorder = engine.referrals.recorder
    assert isinstance(recorder, BinaryInsertApplicationRecorder)
    ids = [uuid4() for _ in range(3)]
    written = _events(batch, ids)

    positions = recorder.insert_events(written)

    for aggregate_id in ids:
        mine = [e for e in written if e.originator_id == aggregate_id]
        assert list(recorder.select_events(aggregate_id)) == mine
    assert positions is not None
    assert len(positions) == len(written)
    logged = recorder.select_notifications(start=positions[0], limit=len(written))
    assert [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in logged] == [
        (p, e.originator_id, e.originator_version, e.topic, e.state)
        for p, e in zip(positions, written, strict=True)
    ]


def test_large_and_empty_states_and_long_batches_are_read_back(engine: Engine) -> None:
    recorder = engine.referrals.recorder
    big, empty, many = uuid4(), uuid4(), uuid4()
    written = [
        StoredEvent(big, 1, "t.big", bytes(range(256)) * 4096),
        StoredEvent(empty, 1, "", b""),
        *(StoredEvent(many, v, f"t.{v}", v.to_bytes(4, "big")) for v in range(1, 1201)),
    ]
    recorder.insert_events(written)
    for aggregate_id in (big, empty, many):
        mine = [e for e in written if e.originator_id == aggregate_id]
        assert list(recorder.select_events(aggregate_id)) == mine


def test_snapshots_and_the_engines_cases_use_the_binary_insert(engine: Engine) -> None:
    app = engine.referrals
    assert app.snapshots is not None
    assert isinstance(app.snapshots.recorder, BinaryInsertRecorder)
    signal = make_signal()
    outcome = app.receive_signal(signal, partner_ctx(signal))
    assert outcome.case_id is not None
    case = app.get_case(outcome.case_id)
    assert case.person_pseudonym != signal.person_pseudonym  # sealed under the case's key
    assert app.links.unseal(case.person_pseudonym) == signal.person_pseudonym
