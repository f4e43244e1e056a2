"""PostgreSQL restarted under load: the intake pauses (naks), then goes on without loss."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from nats.aio.client import Client

from tests.faults.checks import (
    PARTNER,
    Plan,
    eventually,
    partner_connection,
    publish,
    verify_every_signal_took_effect_once,
    verify_views_converge,
)
from tests.faults.stack import Stack, Worker
from tests.nats_cluster import NatsCluster
from tests.postgres_server import PostgresServer


def retries(worker: Worker) -> int:
    """How often the worker put a signal back because the event store was away."""
    lines = (json.loads(line) for line in worker.output().splitlines() if line.startswith("{"))
    return sum(1 for line in lines if line.get("event") == "signal.retry")


async def test_postgres_restarted_under_load_pauses_the_intake_and_loses_nothing(
    tmp_path: Path, own_postgres: PostgresServer, nats_cluster: NatsCluster, engine_nc: Client
) -> None:
    stack = Stack(tmp_path / "engine", nats_cluster, own_postgres.create_database())
    # Retried every half second; up to 40 deliveries, so a slow restart is not dead-lettered.
    stack.env.update(
        KS_INTAKE_BATCH_SIZE="20",
        KS_INTAKE_RETRY_DELAY_SECONDS="0.5",
        KS_INTAKE_MAX_DELIVERIES="40",
    )
    try:
        intake, relay, projector = await stack.start_serving("intake", "relay", "project")
        js = engine_nc.jetstream()
        plan = Plan.of(500, 800, prefix="pg-restart", seed=31)
        partner = await partner_connection(nats_cluster.partner(PARTNER))
        publishing = asyncio.create_task(publish(partner, plan))

        # Under load, PostgreSQL goes away ...
        async def intake_busy() -> bool:
            info = await js.consumer_info("KS_SIGNALS", "ks-intake")
            return info.ack_floor.stream_seq >= 150

        await eventually(intake_busy, "150 signals processed")
        await asyncio.to_thread(own_postgres.stop)

        # ... the intake puts signals back (nak with a delay) instead of losing them ...
        async def intake_paused() -> bool:
            return retries(intake) > 0

        await eventually(intake_paused, "the intake naks while PostgreSQL is down")
        # ... and PostgreSQL comes back on the same port with the same data.
        await asyncio.to_thread(own_postgres.start)
        await publishing
        await partner.close()

        summary = await verify_every_signal_took_effect_once(js, stack.settings(), plan)
        await verify_views_converge(stack.settings(), summary)
        dead_letters = (await js.stream_info("KS_DLQ")).state.messages
        assert dead_letters == 0
        for worker in (intake, relay, projector):
            assert worker.running, worker.output()[-3000:]
        assert stack.close() == {"intake": 0, "relay": 0, "project": 0}
    finally:
        stack.close()
