"""The projector on a real nats-server, with the engine on real SQLite files and on a real
PostgreSQL database: crash between commit and ack, redelivery, restarts while events keep
arriving, an upgrade from one consumer per view, read-your-writes, and the CLI."""

from __future__ import annotations

import asyncio
import re
import time

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from typer.testing import CliRunner

from adapters.nats.embedded import EmbeddedNatsServer
from adapters.nats.events_stream import ensure_events_stream
from adapters.nats.projectors import (
    CONSUMER,
    Batch,
    Projector,
    consumer_name,
    run_projectors,
)
from adapters.nats.rebuild import rebuild_views
from adapters.nats.relay import Relay, run_relay
from adapters.persistence.views import open_views, opened_views
from domain.values import Outcome
from entrypoints.cli import app as cli
from ks_engine import commands as c
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.settings import Settings
from projections.event import STREAM
from projections.monitoring_store import Monitoring, to_csv
from projections.read_models import ReadModels, build_projections
from projections.store import BatchOutcome, Projection, ViewDatabase, checkpoints, install
from tests.conftest import FixedClock, ks_environment
from tests.integration.test_projection_store import dump, other_views
from tests.unit.test_projection_scenario import CTX, play, signal_for


@pytest.fixture
def engine(durable_settings: Settings, clock: FixedClock) -> Engine:
    built = bootstrap(durable_settings, clock=clock, configure_logs=False)
    yield built  # type: ignore[misc]
    built.close()


async def publish_all(engine: Engine, js: JetStreamContext) -> int:
    """Relay the whole log; the stream's last sequence."""
    relay = Relay(engine.referrals, js, engine.relay_position())
    await relay.start()
    while await relay.publish_pending():
        pass
    return (await js.stream_info(STREAM)).state.last_seq


async def played(
    engine: Engine, js: JetStreamContext, clock: FixedClock, *, seed: int, steps: int
) -> tuple[int, ViewDatabase, list[Projection]]:
    """A played scenario relayed to the stream, and the engine's views installed (empty):
    the stream's last sequence, the views and their projections."""
    play(engine.referrals, clock, seed=seed, steps=steps)
    last = await publish_all(engine, js)
    db = open_views(engine.settings)
    projections = build_projections(engine.settings.service_levels)
    install(db, projections)
    return last, db, projections


async def rebuilt(
    js: JetStreamContext, settings: Settings, name: str = "rebuilt", workers: int | None = None
) -> ViewDatabase:
    """Fresh views from the start of the stream, in another database on the same store."""
    db = other_views(settings, name)
    projections = build_projections(Settings().service_levels)
    await rebuild_views(js, db, projections, batch=64, workers=workers)
    return db


async def test_a_projector_stopped_between_commit_and_ack_resumes_to_the_rebuilt_view(
    engine: Engine, js: JetStreamContext, clock: FixedClock
) -> None:
    last, db, projections = await played(engine, js, clock, seed=21, steps=150)
    # Given a projector that applied and committed a batch, and stopped before its ack
    first = Projector(js, db, projections, batch=40)
    acked = await first.step()  # a batch takes what the server had ready, up to 40
    assert 0 < acked <= 40
    batch = await first.fetch()
    outcomes = await first.commit([e for _, e in batch])
    assert batch
    assert {o.checkpoint.seq for o in outcomes} == {acked + len(batch)}
    assert acked + len(batch) < last
    await first.close()
    # When a new projector starts on the same views
    await Projector(js, db, projections, batch=40).catch_up(last)
    # Then every view equals one rebuilt from the start of the stream
    fresh = await rebuilt(js, engine.settings)
    assert dump(db) == dump(fresh)
    assert all(dump(db).values())
    assert {c.seq for c in checkpoints(db, [p.name for p in projections])} == {last}


async def test_after_a_rebuild_the_projectors_go_on_right_after_the_rebuilt_checkpoint(
    engine: Engine, js: JetStreamContext, clock: FixedClock
) -> None:
    projections = build_projections(engine.settings.service_levels)
    play(engine.referrals, clock, seed=23, steps=80)
    first = await publish_all(engine, js)
    views = await rebuilt(js, engine.settings)
    assert {c.seq for c in checkpoints(views, [p.name for p in projections])} == {first}
    cases_then = len(dump(views)["case_view"])
    consumers = {c.name for c in await js.consumers_info(STREAM)}
    assert consumers == {CONSUMER}  # the reading one is gone
    assert (await js.consumer_info(STREAM, CONSUMER)).ack_floor.stream_seq == first
    # More happens after the rebuild; the live projector picks it up from the checkpoint
    play(engine.referrals, clock, seed=24, steps=80)
    last = await publish_all(engine, js)
    assert last > first
    await Projector(js, views, projections, batch=25).catch_up(last)
    again = await rebuilt(js, engine.settings, "again")
    assert dump(views) == dump(again)
    assert len(dump(views)["case_view"]) > cases_then > 0


async def test_a_rebuild_in_one_process_equals_one_over_worker_processes(
    engine: Engine, js: JetStreamContext, clock: FixedClock
) -> None:
    play(engine.referrals, clock, seed=26, steps=120)
    last = await publish_all(engine, js)
    alone = await rebuilt(js, engine.settings, "alone", workers=1)
    parted = await rebuilt(js, engine.settings, "parted", workers=3)
    names = [p.name for p in build_projections(engine.settings.service_levels)]
    assert {c.seq for c in checkpoints(alone, names)} == {last}
    assert dump(alone) == dump(parted)
    assert all(dump(alone).values())


async def test_redelivered_events_are_skipped(
    engine: Engine, js: JetStreamContext, clock: FixedClock
) -> None:
    last, db, projections = await played(engine, js, clock, seed=22, steps=100)
    projector = Projector(js, db, projections, batch=30)
    # A committed batch is given back to the server (as a lost ack would be)
    batch = await projector.fetch()
    given_back = len(batch)
    assert given_back
    outcomes = await projector.commit([e for _, e in batch])
    assert [o.applied for o in outcomes] == [given_back] * 3
    for m, _ in batch:
        await m.nak()
    # Nothing is acknowledged until every delivery given back has come again: with ack
    # policy all, an ack of a later delivery would acknowledge those given back too, and
    # the server may deliver later events before it has taken the naks in.
    skipped = [0, 0, 0]
    fetched: list[tuple[Batch, list[BatchOutcome]]] = []
    deadline = time.monotonic() + 60
    while skipped[0] < given_back:
        assert time.monotonic() < deadline, f"{skipped[0]} of {given_back} came again"
        batch = await projector.fetch()
        outcomes = await projector.commit([e for _, e in batch])
        fetched.append((batch, outcomes))
        skipped = [n + o.skipped for n, o in zip(skipped, outcomes, strict=True)]
    for batch, outcomes in fetched:
        await projector.acknowledge(batch, outcomes)
    while min(c.seq for c in checkpoints(db, projector.names)) < last:
        assert time.monotonic() < deadline, "the views did not reach the end of the stream"
        await projector.step()
    await projector.close()
    assert skipped == [given_back] * 3
    fresh = await rebuilt(js, engine.settings)
    assert dump(db) == dump(fresh)  # monitoring's counts would double on a second apply


async def test_an_upgrade_from_one_consumer_per_view_applies_every_event_once_to_every_view(
    engine: Engine, js: JetStreamContext, clock: FixedClock
) -> None:
    last, db, projections = await played(engine, js, clock, seed=25, steps=150)
    # Given views left at different checkpoints by an earlier version, each with its own
    # durable consumer acknowledged up to its view's checkpoint
    for projection, until in zip(projections, (0, 50, 120), strict=True):
        if until:
            await Projector(js, db, [projection], batch=20).catch_up(until)
    await js.delete_consumer(STREAM, CONSUMER)
    stood = {c.name: c.seq for c in checkpoints(db, [p.name for p in projections])}
    assert stood["work_queue"] == 0 < stood["case_view"] < stood["monitoring"] < last
    for projection in projections:
        await per_view_consumer(js, consumer_name(projection), stood[projection.name])
    # When the new version's projector starts on them
    stop = asyncio.Event()
    running = asyncio.create_task(run_projectors(engine, js, stop))
    views = ReadModels(db)
    assert await views.wait_for_async(engine.referrals.recorder.max_notification_id(), timeout=60)
    stop.set()
    await running
    # Then every view holds every event once, and only the one consumer is left
    assert {c.seq for c in checkpoints(db, [p.name for p in projections])} == {last}
    assert {c.name for c in await js.consumers_info(STREAM)} == {CONSUMER}
    fresh = await rebuilt(js, engine.settings)
    assert dump(db) == dump(fresh)


async def per_view_consumer(js: JetStreamContext, name: str, applied: int) -> None:
    """A view's durable consumer as earlier versions made it, acknowledged up to ``applied``."""
    await js.add_consumer(
        STREAM,
        ConsumerConfig(
            durable_name=name,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE if applied else DeliverPolicy.ALL,
            opt_start_seq=applied + 1 if applied else None,
            ack_policy=AckPolicy.ALL,
            max_deliver=-1,
            filter_subject="ks.events.>",
        ),
    )


async def test_incremental_views_equal_rebuilt_views_after_many_cases_and_restarts(
    engine: Engine, js: JetStreamContext, clock: FixedClock
) -> None:
    app = engine.referrals
    stop = asyncio.Event()
    relay = asyncio.create_task(run_relay(engine, js, stop))
    projectors = asyncio.create_task(run_projectors(engine, js, stop))
    for chunk in range(4):
        # Cases keep arriving while relay and projectors run; projectors are killed twice
        await asyncio.to_thread(play, app, clock, 100 + chunk, steps=100)
        if chunk % 2 == 0:
            await asyncio.sleep(0.05 * chunk)
            projectors.cancel()
            await asyncio.gather(projectors, return_exceptions=True)
            projectors = asyncio.create_task(run_projectors(engine, js, stop))
    views = ReadModels(open_views(engine.settings))
    end = app.recorder.max_notification_id()
    assert end is not None
    assert await views.wait_for_async(end, timeout=60)
    stop.set()
    await asyncio.gather(relay, projectors)
    fresh = await rebuilt(js, engine.settings)
    assert dump(views.db) == dump(fresh)  # type: ignore[arg-type]
    assert len(dump(fresh)["case_view"]) > 60


async def test_a_query_can_wait_for_the_position_a_command_returned(
    engine: Engine, js: JetStreamContext
) -> None:
    app = engine.referrals
    views = ReadModels(open_views(engine.settings), monitoring_threshold=0)
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(run_relay(engine, js, stop)),
        asyncio.create_task(run_projectors(engine, js, stop)),
    ]
    try:
        opened = app.receive_signal(*signal_for("GM0928", "a" * 32))
        assert opened.case_id is not None
        assert opened.position is not None
        assert await views.wait_for_async(opened.position, timeout=30)
        assert views.cases.get(opened.case_id) is not None
        # Closing saves the index release after the case's event: its position is reached too
        closed = app.close_case(c.Close(case_id=opened.case_id, outcome=Outcome.MOVED_AWAY), CTX)
        assert await views.wait_for_async(closed.position, timeout=30)
        view = views.cases.get(opened.case_id)
        assert view is not None
        assert view.state == "closed"
        assert views.work_queue.get(str(opened.case_id), now=app.clock()) is None
    finally:
        stop.set()
        await asyncio.gather(*tasks)


def test_the_cli_rebuilds_reports_status_and_exports_statistics(
    durable_settings: Settings, nats_server: EmbeddedNatsServer, clock: FixedClock
) -> None:
    engine = bootstrap(durable_settings, clock=clock, configure_logs=False)
    play(engine.referrals, clock, seed=7, steps=120)

    async def relay_all() -> int:
        nc = await nats.connect(nats_server.url)
        try:
            stream = nc.jetstream()
            await ensure_events_stream(stream)
            return await publish_all(engine, stream)
        finally:
            await nc.close()

    last = asyncio.run(relay_all())
    engine.close()
    env = ks_environment(durable_settings)
    env.update(KS_NATS_URL=nats_server.url, KS_MONITORING_THRESHOLD="0")
    runner = CliRunner()

    def lags() -> dict[str, int]:
        result = runner.invoke(cli, ["projections", "status"], env=env)
        assert result.exit_code == 0, result.output
        rows = re.finditer(r"^(\w+)\s+\d+\s+\d+\s+(\d+)", result.output, re.M)
        return {m[1]: int(m[2]) for m in rows}

    assert lags() == dict.fromkeys(("work_queue", "case_view", "monitoring"), last)
    result = runner.invoke(cli, ["projections", "rebuild"], env=env)
    assert result.exit_code == 0, result.output
    assert "rebuilt monitoring" in result.output
    assert lags() == dict.fromkeys(("work_queue", "case_view", "monitoring"), 0)
    result = runner.invoke(cli, ["stats", "--csv"], env=env)
    assert result.exit_code == 0, result.output
    with opened_views(durable_settings) as db:
        expected = to_csv(Monitoring(db, threshold=0).rows())
    assert result.output == expected
    assert expected.count("\n") > 20
    result = runner.invoke(cli, ["projections", "rebuild", "timeline"], env=env)
    assert result.exit_code == 2
    assert "no read model 'timeline'" in result.output
