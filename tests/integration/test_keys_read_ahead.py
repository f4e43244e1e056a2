"""Data keys of one unit of work (a batch of signals) read together and once: on SQLite and
on PostgreSQL, in one query for many keys, each read no more than once while the unit lasts,
and afresh in the next (a key destroyed between two batches is seen destroyed)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any
from uuid import UUID

import pytest

from adapters.persistence.keystore import POOL_SIZE, READ_AHEAD_CHUNK, SqlKeyStore
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.keystore import UnknownKeyError
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.referral_builders import make_signal, partner_ctx
from tests.strategies import valid_bsns


class CountingDatabase:
    """The key store's real database, counting the transactions asked of it."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.transactions = 0

    def transaction(self, *, write: bool) -> AbstractContextManager[Any]:
        self.transactions += 1
        return self.db.transaction(write=write)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)


@pytest.fixture
def engine(durable_settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    built = bootstrap(durable_settings, clock=clock, configure_logs=False)
    yield built
    built.close()


@contextmanager
def counted(keys: SqlKeyStore) -> Iterator[CountingDatabase]:
    counting = CountingDatabase(keys.db)
    keys.db = counting  # type: ignore[assignment]
    try:
        yield counting
    finally:
        keys.db = counting.db


def _stored_keys(keys: SqlKeyStore, count: int) -> list[str]:
    created = [keys.create() for _ in range(count)]
    keys._fresh.clear()  # as another process would see them: stored, not just handed out
    return created


def test_keys_read_ahead_are_read_in_one_query_and_then_from_memory(engine: Engine) -> None:
    keys = engine.referrals.vault.keys
    assert isinstance(keys, SqlKeyStore)
    live = _stored_keys(keys, READ_AHEAD_CHUNK + 5)  # more than one query's worth
    destroyed = _stored_keys(keys, 1)[0]
    keys.destroy(destroyed)
    expected = {k: keys.get(k) for k in live}

    with counted(keys) as db, keys.remembering():
        keys.read_ahead([*live, destroyed, "no-such-key", *live])
        read_ahead = db.transactions
        got = {k: keys.get(k) for k in live}
        assert keys.get(destroyed) is None
        assert db.transactions == read_ahead
        with pytest.raises(UnknownKeyError):
            keys.get("no-such-key")

    assert read_ahead == 2  # READ_AHEAD_CHUNK keys per query
    assert got == expected
    assert all(isinstance(k, bytes) and len(k) == 32 for k in got.values())


def test_outside_a_unit_of_work_every_read_asks_the_store(engine: Engine) -> None:
    keys = engine.referrals.vault.keys
    assert isinstance(keys, SqlKeyStore)
    key_id = _stored_keys(keys, 1)[0]

    with counted(keys) as db:
        keys.read_ahead([key_id])
        assert db.transactions == 0
        first, second = keys.get(key_id), keys.get(key_id)
        assert db.transactions == 2
    assert first == second is not None


def test_a_key_destroyed_after_one_unit_of_work_is_destroyed_for_the_next(engine: Engine) -> None:
    keys = engine.referrals.vault.keys
    assert isinstance(keys, SqlKeyStore)
    key_id = _stored_keys(keys, 1)[0]
    with keys.remembering():
        keys.read_ahead([key_id])
        assert keys.get(key_id) is not None

    keys.destroy(key_id)

    with keys.remembering():
        keys.read_ahead([key_id])
        assert keys.get(key_id) is None


def test_a_key_destroyed_within_the_unit_is_not_given_out_again(engine: Engine) -> None:
    keys = engine.referrals.vault.keys
    assert isinstance(keys, SqlKeyStore)
    key_id = _stored_keys(keys, 1)[0]
    with keys.remembering():
        keys.read_ahead([key_id])
        keys.destroy(key_id)
        assert keys.get(key_id) is None


def test_what_one_thread_remembers_is_its_own(engine: Engine) -> None:
    keys = engine.referrals.vault.keys
    assert isinstance(keys, SqlKeyStore)
    key_id = _stored_keys(keys, 1)[0]
    remembered, destroyed, seen = threading.Event(), threading.Event(), []

    def unit_of_work() -> None:
        with keys.remembering():
            keys.read_ahead([key_id])
            remembered.set()
            destroyed.wait(10)
            seen.append(keys.get(key_id))  # the unit's own reading, from before

    worker = threading.Thread(target=unit_of_work)
    worker.start()
    assert remembered.wait(10)
    keys.destroy(key_id)
    seen.append(keys.get(key_id))  # this thread reads the store
    destroyed.set()
    worker.join(10)

    assert seen[0] is None
    assert seen[1] is not None


def test_a_batch_joining_cases_reads_keys_in_a_few_queries_whatever_its_size(
    engine: Engine,
) -> None:
    app = engine.referrals
    keys = app.vault.keys
    assert isinstance(keys, SqlKeyStore)
    people = valid_bsns(60)
    first = [make_signal(b) for b in people]
    app.receive_signals([(s, partner_ctx(s)) for s in first])
    keys._fresh.clear()  # the keys as a restarted intake finds them: stored only

    queries = []
    for size in (10, 50):
        again = [make_signal(b) for b in people[:size]]
        with counted(keys) as db:
            outcomes = app.receive_signals([(s, partner_ctx(s)) for s in again])
        assert all(o.matched_existing for o in outcomes)
        queries.append(db.transactions)

    assert queries[0] == queries[1]
    assert queries[0] <= 3  # the index entries' keys, the cases' keys, the new keys' pool


def test_new_keys_are_distinct_and_read_back_as_they_were_handed_out(engine: Engine) -> None:
    # A pool's keys, their wrappings' nonces and their ids' random bits all come from one read
    # of the system's generator: every key of two pools is its own, and reads back unwrapped.
    keys = engine.referrals.vault.keys
    assert isinstance(keys, SqlKeyStore)
    handed = {}
    for _ in range(POOL_SIZE + 5):
        key_id = keys.create()
        handed[key_id] = keys._fresh[key_id]
    keys._fresh.clear()
    assert len(set(handed.values())) == len(handed)
    assert all(len(key) == 32 for key in handed.values())
    ids = [UUID(key_id) for key_id in handed]
    assert all(key_id.version == 7 for key_id in ids)
    assert len({key_id.int & (2**62 - 1) for key_id in ids}) == len(ids)  # random bits
    assert {key_id: keys.get(key_id) for key_id in handed} == handed
    with engine.audit.db.transaction(write=False) as tx:
        wrapped = [bytes(row[0]) for row in tx.fetchall("SELECT wrapped FROM personal_data_keys")]
    nonces = [w[:12] for w in wrapped]
    assert len(wrapped) >= len(handed)
    assert len(set(nonces)) == len(nonces)
