"""Checkpoints on a real SQLite file: view and checkpoint change together or not at all."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.persistence.sqlite_views import SqliteViewDatabase
from domain.deadlines import ServiceLevels
from projections.errors import ViewDatabaseError
from projections.event import ReferralEvent
from projections.read_models import NAMES, ReadModels, build_projections
from projections.store import (
    Projection,
    Transaction,
    apply_batch,
    checkpoints,
    install,
    reset,
    wait_for_position,
)
from tests.conftest import FixedClock
from tests.unit.test_projection_scenario import play, published, referrals


def dump(db: SqliteViewDatabase) -> dict[str, list[tuple[object, ...]]]:
    """Every view table's rows, in key order (checkpoints left out)."""
    tables = (
        "work_queue",
        "case_view",
        "monitoring_case",
        "monitoring_count",
        "monitoring_duration",
    )
    with db.read() as tx:
        return {t: tx.fetchall(f"SELECT * FROM {t} ORDER BY 1, 2, 3") for t in tables}


@pytest.fixture
def events(clock: FixedClock) -> list[ReferralEvent]:
    app = referrals(clock)
    play(app, clock, seed=3, steps=120)
    return published(app)


@pytest.fixture
def db(tmp_path: Path) -> SqliteViewDatabase:
    database = SqliteViewDatabase(tmp_path / "views.sqlite")
    install(database, build_projections(ServiceLevels()))
    return database


def project_all(db: SqliteViewDatabase, events: list[ReferralEvent], size: int) -> None:
    for projection in build_projections(ServiceLevels()):
        for i in range(0, len(events), size):
            apply_batch(db, projection, events[i : i + size])


def test_a_batch_delivered_again_changes_nothing(
    tmp_path: Path, db: SqliteViewDatabase, events: list[ReferralEvent]
) -> None:
    project_all(db, events, size=25)
    once = dump(db)
    # Every batch arrives a second time, in other cuts, as redeliveries would
    for projection in build_projections(ServiceLevels()):
        outcome = apply_batch(db, projection, events[10:70])
        assert (outcome.applied, outcome.skipped) == (0, 60)
    project_all(db, events, size=7)
    assert dump(db) == once
    assert {c.seq for c in checkpoints(db, NAMES)} == {len(events)}


def test_events_after_a_gap_are_not_applied(
    db: SqliteViewDatabase, events: list[ReferralEvent]
) -> None:
    projection = build_projections(ServiceLevels())[0]
    apply_batch(db, projection, events[:5])
    outcome = apply_batch(db, projection, events[6:12])  # the 6th event is missing
    assert (outcome.applied, outcome.gap_after, outcome.checkpoint.seq) == (0, 5, 5)
    outcome = apply_batch(db, projection, events[4:12])
    assert (outcome.applied, outcome.skipped, outcome.checkpoint.seq) == (7, 1, 12)


class Failing:
    """A projection that fails at one stream sequence, after writing to its table."""

    name = "failing"

    def __init__(self, fail_at: int) -> None:
        self.fail_at = fail_at

    def create_tables(self, tx: Transaction) -> None:
        tx.execute("CREATE TABLE IF NOT EXISTS seen (seq INTEGER PRIMARY KEY)")

    def clear(self, tx: Transaction) -> None:
        tx.execute("DELETE FROM seen")

    def apply(self, tx: Transaction, event: ReferralEvent) -> None:
        tx.execute("INSERT INTO seen (seq) VALUES (?)", (event.seq,))
        if event.seq == self.fail_at:
            raise RuntimeError("disk full")


def test_a_failure_mid_batch_rolls_back_the_view_and_the_checkpoint(
    db: SqliteViewDatabase, events: list[ReferralEvent]
) -> None:
    failing: Projection = Failing(fail_at=8)
    install(db, [failing])
    apply_batch(db, failing, events[:5])
    with pytest.raises(RuntimeError):
        apply_batch(db, failing, events[5:10])
    with db.read() as tx:
        assert tx.fetchall("SELECT seq FROM seen ORDER BY seq") == [(i,) for i in range(1, 6)]
    assert checkpoints(db, ["failing"])[0].seq == 5


def test_reset_empties_the_view_with_its_checkpoint(
    db: SqliteViewDatabase, events: list[ReferralEvent]
) -> None:
    project_all(db, events, size=50)
    for projection in build_projections(ServiceLevels()):
        reset(db, projection)
    assert all(rows == [] for rows in dump(db).values())
    assert [c.seq for c in checkpoints(db, NAMES)] == [0, 0, 0]


async def test_read_your_writes_waits_for_the_position_of_every_view(
    db: SqliteViewDatabase, events: list[ReferralEvent]
) -> None:
    views = ReadModels(db)
    last = max(e.through for e in events)
    assert not views.wait_for(last, timeout=0.05)
    # Two views are done, the third only after a moment: the wait ends when all three are
    work_queue, case_view, monitoring = build_projections(ServiceLevels())
    apply_batch(db, work_queue, events)
    apply_batch(db, case_view, events)
    waiting = asyncio.create_task(views.wait_for_async(last, timeout=30))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    apply_batch(db, monitoring, events)
    assert await waiting
    assert wait_for_position(db, last, NAMES, timeout=0)
    assert not views.wait_for(last + 1, timeout=0.05)


def test_a_database_failure_is_reported_as_a_view_database_error(tmp_path: Path) -> None:
    db = SqliteViewDatabase(tmp_path / "views.sqlite")
    with pytest.raises(ViewDatabaseError, match="read-model database"), db.read() as tx:
        tx.fetchall("SELECT * FROM no_such_table")
