"""Group commit: concurrent callers are stored together, each told its own position."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from ks_engine.group_commit import GroupCommit


class Note(Aggregate):
    @event("Written")
    def __init__(self, n: int) -> None:
        self.n = n


def test_concurrent_callers_share_saves_and_each_gets_its_position() -> None:
    app: Application[Any] = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    first_save_started, release = threading.Event(), threading.Event()
    sizes: list[int] = []

    def slow_save(*objs: Any) -> Any:
        sizes.append(len(objs))
        if len(sizes) == 1:  # hold the first save until the others are queued
            first_save_started.set()
            release.wait(timeout=10)
        return app.save(*objs)

    commits = GroupCommit(slow_save)
    notes = [Note(n) for n in range(20)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        first = pool.submit(commits.submit, notes[0])
        assert first_save_started.wait(timeout=10)
        rest = [pool.submit(commits.submit, note) for note in notes[1:]]
        deadline = time.monotonic() + 10
        while len(commits._queue) < 19:  # all queued behind the held save
            assert time.monotonic() < deadline, f"{len(commits._queue)} of 19 queued"
            threading.Event().wait(0.01)
        release.set()
        positions = [first.result(), *(f.result() for f in rest)]

    assert sizes == [1, 19]
    stored = {n.originator_id: n.id for n in app.recorder.select_notifications(start=1, limit=20)}
    assert positions == [stored[note.id] for note in notes]


def test_a_failed_save_is_reported_to_every_caller_of_its_group() -> None:
    def failing_save(*objs: Any) -> Any:
        raise OSError("disk full")

    commits = GroupCommit(failing_save)
    with pytest.raises(OSError, match="disk full"):
        commits.submit(Note(1))
    assert commits._queue == []
