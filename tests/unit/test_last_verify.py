"""The last `ks audit verify` result, as the auditor's page reads it."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
from datetime import datetime
from pathlib import Path

from ks_engine.audit import last_verify
from ks_engine.audit.findings import Report
from ks_engine.clock import AMSTERDAM

AT = datetime(2026, 11, 30, 14, 5, tzinfo=AMSTERDAM)


def test_an_intact_and_a_broken_result_are_read_back_with_their_date(tmp_path: Path) -> None:
    path = last_verify.path_in(tmp_path)
    assert last_verify.load(path) is None  # never verified here
    last_verify.save(path, Report(verified=12, checkpoints=2, last_position=40), AT)
    record = last_verify.load(path)
    assert record is not None
    assert (record.intact, record.verified, record.checked_at) == (True, 12, AT)
    broken = Report(verified=3)
    broken.add(4, "hash", "event at position 4 was changed")
    last_verify.save(path, broken, AT)
    again = last_verify.load(path)
    assert again is not None
    assert not again.intact
    assert again.findings == 1
    assert again.first_finding == "event at position 4 was changed"


def test_an_unreadable_file_counts_as_never_verified(tmp_path: Path) -> None:
    path = last_verify.path_in(tmp_path)
    path.write_text("{not json")
    assert last_verify.load(path) is None


def _save_many(path: Path, verified: int, ready: multiprocessing.synchronize.Barrier) -> None:
    ready.wait()
    for _ in range(20):
        last_verify.save(path, Report(verified=verified), AT)
        assert last_verify.load(path) is not None  # never half a file


def test_verifications_ending_at_the_same_moment_leave_one_whole_record(tmp_path: Path) -> None:
    path = last_verify.path_in(tmp_path)
    context = multiprocessing.get_context("fork")
    with context.Manager() as manager:
        ready = manager.Barrier(6)
        with context.Pool(6) as pool:
            pool.starmap(_save_many, [(path, n, ready) for n in range(6)])
    record = last_verify.load(path)
    assert record is not None
    assert record.verified in range(6)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
