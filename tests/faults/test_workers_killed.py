"""Workers killed (SIGKILL) and restarted: nothing accepted is lost or applied twice."""

from __future__ import annotations

import asyncio

from nats.aio.client import Client

from tests.faults.checks import (
    PARTNER,
    Plan,
    eventually,
    partner_connection,
    publish,
    read_stream,
    verify_every_signal_took_effect_once,
    verify_views_converge,
    work_queue_counts,
)
from tests.faults.stack import Stack
from tests.nats_cluster import NatsCluster


async def test_killed_intake_relay_and_projector_lose_and_double_nothing(
    stack: Stack, nats_cluster: NatsCluster, engine_nc: Client
) -> None:
    # Small batches and a short ack wait, so that a kill lands inside a batch and what the
    # killed intake held comes back soon.
    stack.env.update(KS_INTAKE_BATCH_SIZE="20", KS_INTAKE_ACK_WAIT_SECONDS="3")
    intake, relay, projector = await stack.start_serving("intake", "relay", "project")
    js = engine_nc.jetstream()
    plan = Plan.of(400, 700, prefix="killed", seed=23)
    partner = await partner_connection(nats_cluster.partner(PARTNER))
    await publish(partner, plan)
    await partner.close()

    # 1. The intake is killed while it holds a batch, and started again.
    async def intake_busy() -> bool:
        info = await js.consumer_info("KS_SIGNALS", "ks-intake")
        return info.delivered.stream_seq >= 100 and info.num_ack_pending > 0

    await eventually(intake_busy, "the intake holding a batch")
    intake.kill()
    left = await js.consumer_info("KS_SIGNALS", "ks-intake")
    assert left.num_ack_pending + left.num_pending > 0, "the kill came after the last signal"
    intake = await stack.serving(stack.restart(intake))

    # 2. The relay is killed while it publishes, and started again.
    async def relay_busy() -> bool:
        return (await js.stream_info("KS_EVENTS")).state.messages >= 150

    await eventually(relay_busy, "the relay publishing")
    relay.kill()
    relay = await stack.serving(stack.restart(relay))

    # 3. The projector is killed once the work queue fills, and started again.
    async def projector_busy() -> bool:
        return len(await asyncio.to_thread(work_queue_counts, stack.settings())) >= 50

    await eventually(projector_busy, "the work queue filling")
    projector.kill()
    projector = await stack.serving(stack.restart(projector))

    # Every signal took effect once; KS_EVENTS holds every event once; the views converge.
    summary = await verify_every_signal_took_effect_once(js, stack.settings(), plan)
    await verify_views_converge(stack.settings(), summary)
    events = await read_stream(js, "KS_EVENTS", "ks.events.>")
    published = [(m.headers or {}).get("Nats-Msg-Id") for m in events]
    assert len(published) == len(set(published)), "an event was published twice"
    assert len(published) == len(summary.all_keys)  # one Signalled or SignalAdded per signal
    for worker in (intake, relay, projector):
        assert worker.running, worker.output()[-3000:]
    assert stack.close() == {"intake": 0, "relay": 0, "project": 0}
