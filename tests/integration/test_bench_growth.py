"""The benchmark's growth probe times what it says: new signals appended (not redeliveries
recognised), and on SQLite every size's store timed again in turn, on a real SQLite file and
a real nats-server, at small sizes."""

from __future__ import annotations

import gc
import itertools
import os
import random
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from bench import growth
from ks_engine.bootstrap import bootstrap
from ks_engine.settings import Settings


@pytest.fixture
def small_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(growth, "PROBE_SIGNALS", 2 * growth.BATCH)
    monkeypatch.setattr(growth, "PROBE_LOADS", 20)
    monkeypatch.setattr(growth, "PROBE_ROUNDS", 3)


async def test_each_size_appends_new_signals_and_every_size_is_timed_again_in_turn(
    tmp_path: Path, small_probe: None
) -> None:
    sizes = [800, 2_000, 3_200]  # a batch of signals stores 400 events
    rows = await growth.growth(Settings(data_dir=tmp_path, log_level="warning"), sizes)
    assert [r["stored_events"] for r in rows] == sizes
    for row in rows:
        # The probe's signals were stored, at every size: a signal stores at least one event.
        assert row["verified_events"] >= row["stored_events"] + growth.PROBE_SIGNALS
        assert row["append_signals_per_s_in_turn"] > 0
        assert row["case_load_ms_in_turn"] > 0
        assert row["case_load_disk_kb_in_turn"] >= 0
    for size in sizes[:-1]:  # the largest is timed on the store itself
        assert (tmp_path / f"at-{size}" / "events.sqlite").is_file()
    assert not (tmp_path / f"at-{sizes[-1]}").exists()


def test_a_probe_whose_signals_were_seen_before_refuses_to_time_them(
    tmp_path: Path, small_probe: None
) -> None:
    engine = bootstrap(Settings(data_dir=tmp_path, log_level="warning"), configure_logs=False)
    try:
        cases: list[UUID] = []
        growth._fill(engine, random.Random(1), 400, cases, itertools.count())
        again = itertools.count()  # the same event ids as the fill's: redeliveries
        with pytest.raises(RuntimeError, match="was not stored"):
            growth.probe([(engine, cases)], random.Random(2), again)
    finally:
        engine.close()


def test_the_probe_times_appends_from_an_empty_log_to_a_log_copied_into_the_file(
    tmp_path: Path, small_probe: None
) -> None:
    stores = []
    append_log: dict[int, list[int]] = {0: [], 1: []}  # the log's size at each append
    for s in range(2):
        engine = bootstrap(Settings(data_dir=tmp_path / str(s), log_level="warning"))
        cases: list[UUID] = []
        growth._fill(engine, random.Random(s), 600, cases, itertools.count(s * 10_000))
        log = Path(f"{engine.settings.sqlite_path}-wal")
        assert log.stat().st_size > 0  # the fill left pages in the log
        real = engine.referrals.receive_signals

        def appending(batch: Any, s: int = s, log: Path = log, real: Any = real) -> Any:
            append_log[s].append(log.stat().st_size)
            return real(batch)

        engine.referrals.receive_signals = appending  # type: ignore[method-assign]
        stores.append((engine, cases))
    try:
        rows = growth.probe(stores, random.Random(9), itertools.count(50_000))
        assert all(r["append_signals_per_s"] > 0 for r in rows)
        # After the one batch that is not timed, each store's timed appends began on an
        # empty log
        assert [sizes[1] for sizes in append_log.values()] == [0, 0]
        for engine, _ in stores:  # and ended with what they wrote copied into the file
            assert Path(f"{engine.settings.sqlite_path}-wal").stat().st_size == 0
    finally:
        for engine, _ in stores:
            engine.close()


def _drop_from_memory(path: Path) -> None:
    with path.open("rb") as f:
        os.fsync(f.fileno())
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def test_the_probe_reads_each_store_through_before_timing_it(tmp_path: Path) -> None:
    engine = bootstrap(Settings(data_dir=tmp_path, log_level="warning"), configure_logs=False)
    try:
        growth._fill(engine, random.Random(3), 2_000, [], itertools.count())
        growth.copy_log_into_file(engine)
        store = engine.settings.sqlite_path
        size = store.stat().st_size
        _drop_from_memory(store)
        before = growth.disk_read_bytes()
        store.read_bytes()
        if growth.disk_read_bytes() == before:
            pytest.skip("this system does not count a process's reads from storage")
        # Given a store whose pages the system has dropped from memory
        _drop_from_memory(store)
        # Then reading it through brings its pages back from the disk, and once is enough
        before = growth.disk_read_bytes()
        growth.read_through(engine)
        assert growth.disk_read_bytes() - before >= size // 2
        before = growth.disk_read_bytes()
        growth.read_through(engine)
        assert growth.disk_read_bytes() - before < size // 10
    finally:
        engine.close()


def test_every_store_stores_a_batch_before_its_appends_are_timed_with_the_heap_set_aside(
    tmp_path: Path, small_probe: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    done: list[str] = []  # in order: each store's appends, and where the timing begins
    set_aside: list[bool] = []  # at each append: the process's earlier heap set aside
    stores = []
    for s in range(2):
        engine = bootstrap(Settings(data_dir=tmp_path / str(s), log_level="warning"))
        cases: list[UUID] = []
        growth._fill(engine, random.Random(s), 600, cases, itertools.count(s * 10_000))
        real = engine.referrals.receive_signals

        def appending(batch: Any, s: int = s, real: Any = real) -> Any:
            done.append(f"append {s}")
            set_aside.append(gc.get_freeze_count() > 0)
            return real(batch)

        engine.referrals.receive_signals = appending  # type: ignore[method-assign]
        stores.append((engine, cases))
    copy = growth.copy_log_into_file
    monkeypatch.setattr(
        growth, "copy_log_into_file", lambda engine: (done.append("copy"), copy(engine))
    )
    try:
        growth.probe(stores, random.Random(9), itertools.count(50_000))
        # The log is copied into the file just before the timing begins: by then, each
        # store has stored a batch
        first_timed = done.index("copy")
        assert done[:first_timed] == ["append 0", "append 1"]
        batches = growth.PROBE_SIGNALS // growth.BATCH
        assert done.count("append 0") == done.count("append 1") == 1 + batches
        # The collector does not walk what the process held before (as in the intake)
        assert all(set_aside)
        assert gc.get_freeze_count() == 0  # and it is given back after
    finally:
        for engine, _ in stores:
            engine.close()
