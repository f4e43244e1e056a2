"""Checkpoints on a real SQLite file and a real PostgreSQL database: view and checkpoint
change together or not at all."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from itertools import pairwise

import pytest

from adapters.nats.rebuild_parts import PartsInFlight, apply_in_parts
from adapters.persistence.views import open_views
from domain.deadlines import ServiceLevels
from ks_engine.settings import Settings
from projections.errors import ProjectionError, ViewDatabaseError
from projections.event import ReferralEvent, parse_event
from projections.partition import Message, case_of
from projections.read_models import NAMES, ReadModels, build_projections
from projections.store import (
    FoldingProjection,
    Projection,
    Transaction,
    ViewDatabase,
    apply_batch,
    checkpoints,
    install,
    reset,
    wait_for_position,
)
from tests.conftest import FixedClock
from tests.unit.test_projection_scenario import play, published, published_messages, referrals


def other_views(settings: Settings, name: str) -> ViewDatabase:
    """A second, empty read-model database on the same store: another SQLite file, or
    another schema of the same PostgreSQL database."""
    return open_views(
        settings.model_copy(update={"data_dir": settings.data_dir / name, "pg_schema": name})
    )


def dump(db: ViewDatabase) -> dict[str, list[tuple[object, ...]]]:
    """Every view table's rows, sorted (checkpoints left out)."""
    tables = (
        "work_queue",
        "case_view",
        "monitoring_case",
        "monitoring_count",
        "monitoring_duration",
    )
    with db.read() as tx:
        return {t: sorted(tx.fetchall(f"SELECT * FROM {t}")) for t in tables}


@pytest.fixture
def events(clock: FixedClock) -> list[ReferralEvent]:
    app = referrals(clock)
    play(app, clock, seed=3, steps=120)
    return published(app)


@pytest.fixture
def db(durable_settings: Settings) -> ViewDatabase:
    database = open_views(durable_settings)
    install(database, build_projections(ServiceLevels()))
    return database


def project_all(db: ViewDatabase, events: list[ReferralEvent], size: int) -> None:
    for projection in build_projections(ServiceLevels()):
        for i in range(0, len(events), size):
            apply_batch(db, projection, events[i : i + size])


def test_a_batch_delivered_again_changes_nothing(
    db: ViewDatabase, events: list[ReferralEvent]
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


def test_batches_of_any_size_build_the_same_views(
    db: ViewDatabase, durable_settings: Settings, events: list[ReferralEvent]
) -> None:
    # A batch folds each case in memory and writes it once; one event per batch writes
    # after every event. Both must leave the very same rows (counts, durations included).
    project_all(db, events, size=1)
    other = other_views(durable_settings, "whole")
    install(other, build_projections(ServiceLevels()))
    project_all(other, events, size=len(events))
    one_by_one, at_once = dump(db), dump(other)
    assert at_once == one_by_one
    assert all(one_by_one.values())  # every table has rows: the comparison says something


def test_events_after_a_gap_are_not_applied(db: ViewDatabase, events: list[ReferralEvent]) -> None:
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

    def apply_all(self, tx: Transaction, events: Sequence[ReferralEvent]) -> None:
        for event in events:
            tx.execute("INSERT INTO seen (seq) VALUES (?)", (event.seq,))
            if event.seq == self.fail_at:
                raise RuntimeError("disk full")


def test_a_failure_mid_batch_rolls_back_the_view_and_the_checkpoint(
    db: ViewDatabase, events: list[ReferralEvent]
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
    db: ViewDatabase, events: list[ReferralEvent]
) -> None:
    project_all(db, events, size=50)
    for projection in build_projections(ServiceLevels()):
        reset(db, projection)
    assert all(rows == [] for rows in dump(db).values())
    assert [c.seq for c in checkpoints(db, NAMES)] == [0, 0, 0]


async def test_read_your_writes_waits_for_the_position_of_every_view(
    db: ViewDatabase, events: list[ReferralEvent]
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


def test_a_database_failure_is_reported_as_a_view_database_error(db: ViewDatabase) -> None:
    with pytest.raises(ViewDatabaseError, match="read-model database"), db.read() as tx:
        tx.fetchall("SELECT * FROM no_such_table")


def test_two_projectors_on_the_same_view_at_once_apply_each_event_once(
    durable_settings: Settings, db: ViewDatabase, events: list[ReferralEvent]
) -> None:
    # Two processes project the same view at the same moment (a second `ks project` started
    # by mistake): monitoring counts would double if both applied a batch.
    projection = build_projections(ServiceLevels())[2]
    barrier = threading.Barrier(2)

    def project() -> int:
        barrier.wait()
        applied = 0
        for i in range(0, len(events), 10):
            applied += apply_batch(db, projection, events[i : i + 10]).applied
        return applied

    with ThreadPoolExecutor(2) as pool:
        counts = list(pool.map(lambda _: project(), range(2)))
    assert sum(counts) == len(events)
    alone = other_views(durable_settings, "alone")
    install(alone, build_projections(ServiceLevels()))
    apply_batch(alone, projection, events)
    assert dump(db)["monitoring_count"] == dump(alone)["monitoring_count"]


def test_read_models_installed_by_several_components_at_once_are_created_once(
    durable_settings: Settings, events: list[ReferralEvent]
) -> None:
    # Intake, relay, projectors and the API all install the tables when they start.
    barrier = threading.Barrier(4)

    def start() -> None:
        barrier.wait()
        install(open_views(durable_settings), build_projections(ServiceLevels()))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: start(), range(4)))
    db = open_views(durable_settings)
    project_all(db, events, size=50)
    assert {c.seq for c in checkpoints(db, NAMES)} == {len(events)}


def test_batches_folded_by_case_in_parts_build_the_same_views(
    db: ViewDatabase, durable_settings: Settings, clock: FixedClock
) -> None:
    # The rebuild folds each batch split by case in worker processes and writes the parts
    # together: whatever the number of parts and the batch size, the very same rows as one
    # event at a time (monitoring counts added up from the parts included).
    app = referrals(clock)
    play(app, clock, seed=3, steps=120)
    messages = published_messages(app)
    project_all(db, [parse_event(data, seq) for _, data, seq in messages], size=1)
    projections = build_projections(ServiceLevels())
    folding = [p for p in projections if isinstance(p, FoldingProjection)]
    assert len(folding) == len(projections)
    for parts, size in ((3, 40), (2, len(messages)), (5, 7)):
        split_db = other_views(durable_settings, f"parts{parts}")
        install(split_db, projections)
        with ThreadPoolExecutor(parts) as pool:
            for i in range(0, len(messages), size):
                batch = messages[i : i + size]
                asyncio.run(apply_in_parts(pool, parts, split_db, folding, batch))
        assert dump(split_db) == dump(db)
        done = [(c.seq, c.position) for c in checkpoints(split_db, NAMES)]
        assert done == [(c.seq, c.position) for c in checkpoints(db, NAMES)]
        assert {seq for seq, _ in done} == {len(messages)}
    # A part that does not follow the checkpoint is refused and leaves the view as it was
    with pytest.raises(ProjectionError, match="does not follow"):
        asyncio.run(apply_in_parts(ThreadPoolExecutor(2), 2, db, folding, messages[5:9]))
    assert dump(db) == dump(split_db)
    assert all(dump(db).values())  # every table has rows: the comparison says something


class WritesHeldUntilTheNextRead:
    """A real view database whose n-th write transaction of a view waits until documents were
    read n + 1 times (or until ``release``): the rebuild then always folds a batch while the
    batch before it is not in the database yet."""

    def __init__(self, db: ViewDatabase) -> None:
        self.db = db
        self.reads = 0
        self.writes: dict[str, int] = {}
        self.released = False
        self.changed = threading.Condition()

    def read(self) -> AbstractContextManager[Transaction]:
        with self.changed:
            self.reads += 1
            self.changed.notify_all()
        return self.db.read()

    @contextmanager
    def transaction(self, scope: str | Sequence[str] | None = None) -> Iterator[Transaction]:
        with self.changed:
            n = self.writes[str(scope)] = self.writes.get(str(scope), 0) + 1
            if not self.changed.wait_for(lambda: self.released or self.reads > n, timeout=30):
                raise AssertionError("the next batch's documents were never read")
        with self.db.transaction(scope) as tx:
            yield tx

    def release(self) -> None:
        with self.changed:
            self.released = True
            self.changed.notify_all()


def test_a_batch_folded_while_the_one_before_is_written_builds_the_same_views(
    db: ViewDatabase, durable_settings: Settings, clock: FixedClock
) -> None:
    # The rebuild writes each batch while it reads and folds the next: a case of both is
    # folded from the documents of the batch not yet written. Here no write begins before
    # the next batch's documents are read, so the database never has them in time.
    app = referrals(clock)
    play(app, clock, seed=3, steps=120)
    messages = published_messages(app)
    project_all(db, [parse_event(data, seq) for _, data, seq in messages], size=1)
    projections = build_projections(ServiceLevels())
    folding = [p for p in projections if isinstance(p, FoldingProjection)]
    for parts, size in ((2, 7), (3, 25), (1, 4)):
        batches = [messages[i : i + size] for i in range(0, len(messages), size)]
        cases = [{case_of(m[1]) for m in batch} for batch in batches]
        assert any(a & b for a, b in pairwise(cases)), "no case spans two batches"
        target = other_views(durable_settings, f"in_flight{parts}")
        install(target, projections)
        held = WritesHeldUntilTheNextRead(target)

        with ThreadPoolExecutor(parts) as pool:
            in_flight = PartsInFlight(pool, parts, held, folding)
            assert asyncio.run(rebuild(in_flight, batches, held)) == len(messages)
        assert set(held.writes.values()) == {len(batches)}
        assert dump(target) == dump(db)
        assert [(c.seq, c.position) for c in checkpoints(target, NAMES)] == [
            (c.seq, c.position) for c in checkpoints(db, NAMES)
        ]


async def rebuild(
    in_flight: PartsInFlight, batches: list[list[Message]], held: WritesHeldUntilTheNextRead
) -> int:
    for batch in batches:
        await in_flight.apply(batch)
    held.release()
    return await in_flight.finish()
