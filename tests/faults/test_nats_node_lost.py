"""A NATS node is lost while partners publish: every signal still takes effect exactly once."""

from __future__ import annotations

import asyncio

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
from tests.faults.stack import Stack
from tests.nats_cluster import NatsCluster, once_elected


async def test_losing_a_nats_node_while_partners_publish_loses_and_doubles_nothing(
    stack: Stack, nats_cluster: NatsCluster, engine_nc: Client
) -> None:
    # The production profile: intake, relay and projectors as separate processes.
    stack.env["KS_INTAKE_BATCH_SIZE"] = "100"
    workers = await stack.start_serving("intake", "relay", "project")
    js = engine_nc.jetstream()

    # A partner publishes 2,000 signals about 1,200 people ...
    plan = Plan.of(1200, 2000, prefix="node-lost", seed=11)
    partner = await partner_connection(nats_cluster.partner(PARTNER))
    publishing = asyncio.create_task(publish(partner, plan))

    # ... and a quarter of the way the node leading KS_SIGNALS is lost.
    async def a_quarter_published() -> bool:
        return (await once_elected(lambda: js.stream_info("KS_SIGNALS"))).state.last_seq >= 500

    await eventually(a_quarter_published, "500 signals published")
    placement = (await once_elected(lambda: js.stream_info("KS_SIGNALS"))).cluster
    assert placement is not None
    assert placement.leader is not None
    await asyncio.to_thread(nats_cluster.kill, nats_cluster.index_of(placement.leader))
    await publishing
    await partner.close()
    # The workers' health check still passes on the two nodes left.
    health = await asyncio.to_thread(stack.run, "check")
    assert health.returncode == 0, health.stderr

    # Every signal became exactly one effect, and the work queue agrees with the event store.
    summary = await verify_every_signal_took_effect_once(js, stack.settings(), plan)
    assert len(summary.signals_of) == 1200
    await verify_views_converge(stack.settings(), summary)

    # The workers rode out the lost node and stop cleanly.
    assert all(w.running for w in workers), [w.output()[-3000:] for w in workers]
    assert stack.close() == {"intake": 0, "relay": 0, "project": 0}
