"""Two intake workers share the durable consumer: still one case per person, never two."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

from nats.aio.client import Client

from adapters.nats.intake import CONSUMER
from adapters.nats.streams import SIGNALS
from tests.faults.checks import (
    PARTNER,
    Plan,
    partner_connection,
    publish,
    receipts,
    verify_every_signal_took_effect_once,
)
from tests.faults.stack import Stack, Worker
from tests.nats_cluster import NatsCluster

BLOCK = 20  # people per block, one intake batch
PAUSED_UNTIL = "2999-01-01T00:00:00Z"  # until resumed by the test


def cases_accepted_by(worker: Worker) -> set[str]:
    """The cases this worker added a signal to, from its log."""
    lines = (json.loads(line) for line in worker.output().splitlines() if line.startswith("{"))
    return {line["case_id"] for line in lines if line.get("event") == "signal.accepted"}


async def test_two_intakes_receiving_first_signals_about_one_person_open_one_case(
    stack: Stack, nats_cluster: NatsCluster, engine_nc: Client
) -> None:
    # The consumer and streams are declared, then the workers stop while partners publish:
    # first signals about 20 people, then second first-signals about the same 20, and so on.
    stack.env["KS_INTAKE_BATCH_SIZE"] = str(BLOCK)
    for worker in await stack.start_serving("intake"):
        assert worker.stop() == 0
    plan = Plan.in_pairs(300, BLOCK, prefix="pairs", seed=5)
    partner = await partner_connection(nats_cluster.partner(PARTNER))
    await publish(partner, plan)
    await partner.close()

    # Both workers start on the backlog: neighbouring batches go to different workers, so
    # both receive a first signal about the same person at once. The consumer is paused until
    # both serve, so that neither drains the backlog before the other has started.
    js = engine_nc.jetstream()
    await js.pause_consumer(SIGNALS, CONSUMER, PAUSED_UNTIL)
    first, second = await asyncio.gather(
        stack.serving(stack.start("intake", "intake-a")),
        stack.serving(stack.start("intake", "intake-b")),
    )
    paused = await js.consumer_info(SIGNALS, CONSUMER)
    assert (paused.num_pending, paused.num_ack_pending) == (len(plan.signals), 0)
    assert (await js.resume_consumer(SIGNALS, CONSUMER)).paused is False
    await verify_every_signal_took_effect_once(js, stack.settings(), plan)

    # Each case was opened once: one receipt says "new case", the other "matched".
    opened = Counter(r["case_id"] for r in await receipts(js) if not r["matched_existing"])
    assert set(opened.values()) == {1}
    assert len(opened) == 300
    # Both workers worked on the same people: the race was really run.
    both = cases_accepted_by(first) & cases_accepted_by(second)
    assert both, "no person's signals reached both workers"
    assert stack.close() == {"intake": 0, "intake-a": 0, "intake-b": 0}
