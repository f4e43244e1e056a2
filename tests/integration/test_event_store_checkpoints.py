"""The event store's write-ahead log is copied into its SQLite file after
``EVENT_STORE_CHECKPOINT_PAGES`` pages, by every connection that writes the file, and no
later: the log stays bounded while signals keep coming."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from adapters.persistence import sqlite_wal
from adapters.persistence.audit_tables import SqliteAuditDatabase
from ks_engine import commands as c
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.demo import demo_bsn
from ks_engine.settings import Settings
from ks_engine.signal_contract import example_signal, parse_signal, to_domain

PAGE = 4096


def _receive(engine: Engine, first: int, count: int) -> None:
    batch = []
    rng = random.Random(first)
    for n in range(first, first + count):
        doc = example_signal(demo_bsn(rng), source="https://test.example.nl", event_id=f"wal-{n}")
        parsed = parse_signal(
            json.dumps(doc).encode(), "ks.signals.GM0928", rules=engine.signal_rules()
        )
        signal, actor = to_domain(parsed, engine.pseudonymise)
        batch.append((signal, c.Context(actor=actor, causation_id=parsed.event.signal_key)))
    outcomes = engine.referrals.receive_signals(batch)
    assert all(o.case_id is not None and not o.duplicate for o in outcomes)


def _checkpoint_pages(engine: Engine) -> int:
    with engine.referrals.recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        return int(cursor.fetchone()[0])


def test_every_connection_writing_the_event_store_copies_its_log_at_the_same_size(
    tmp_path: Path,
) -> None:
    settings = Settings(store="sqlite", data_dir=tmp_path / "data")
    engine = bootstrap(settings, configure_logs=False)
    try:
        assert _checkpoint_pages(engine) == sqlite_wal.EVENT_STORE_CHECKPOINT_PAGES
        audit = SqliteAuditDatabase(settings.sqlite_path)
        with audit.transaction(write=False) as tx:
            row = tx.fetchone("PRAGMA wal_autocheckpoint")
        assert row == (sqlite_wal.EVENT_STORE_CHECKPOINT_PAGES,)
    finally:
        engine.close()


@pytest.mark.parametrize("pages", [150, 400])
def test_the_log_is_copied_into_the_file_once_it_holds_that_many_pages(
    tmp_path: Path, pages: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_wal, "EVENT_STORE_CHECKPOINT_PAGES", pages)
    settings = Settings(store="sqlite", data_dir=tmp_path / "data")
    engine = bootstrap(settings, configure_logs=False)
    store, wal = settings.sqlite_path, Path(f"{settings.sqlite_path}-wal")
    try:
        copied_from = store.stat().st_size
        largest = n = 0
        # Until the file has taken in three times what the log may hold (or 6,000 signals)
        while store.stat().st_size - copied_from < 3 * pages * PAGE and n < 6_000:
            before = wal.stat().st_size
            _receive(engine, n, 10)
            engine.audit.sealer.seal_pending()
            largest = max(largest, wal.stat().st_size - before)
            n += 10
        assert store.stat().st_size - copied_from >= 3 * pages * PAGE, "never copied back"
        # Reused from its start after each copy: the log holds no more than the threshold
        # and the last batches that passed it
        assert wal.stat().st_size <= pages * PAGE + 3 * largest
        assert largest < pages * PAGE  # a batch is smaller than the threshold: a fair test
    finally:
        engine.close()
