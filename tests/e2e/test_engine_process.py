"""The engine as an operator starts it: `ks run` and `ks intake` as real processes."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import nats
from nats.aio.client import Client

from adapters.nats.embedded import EmbeddedNatsServer, free_port
from ks_engine.bootstrap import bootstrap
from ks_engine.demo import demo_bsn
from ks_engine.settings import Settings
from tests.e2e.engine_process import (
    connect_when_ready,
    consumer_when_ready,
    output,
    publish_signals,
    signals_and_receipts,
    start,
    wait_for_work_queue,
)


async def test_ks_run_takes_signals_on_its_embedded_server_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    port = free_port()
    proc = start(["run"], tmp_path, KS_EMBEDDED_NATS_PORT=str(port), KS_API_PORT=str(free_port()))
    try:
        bsns = [demo_bsn(random.Random(seed)) for seed in (1, 2)]
        got = await signals_and_receipts(f"nats://127.0.0.1:{port}", bsns * 2, "run")
        # The relay and projectors in the same process bring both cases to the work queue
        queue = await wait_for_work_queue(tmp_path, {r["case_id"] for r in got})
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    log = output(tmp_path, "run")
    assert proc.returncode == 0, log[-2000:]
    assert [(e.signal_count, e.state) for e in queue] == [(2, "signalled")] * 2
    assert [r["status"] for r in got] == ["accepted"] * 4
    assert [r["matched_existing"] for r in got] == [False, False, True, True]
    assert "signal.accepted" in log
    for bsn in bsns:
        assert bsn not in log, "a BSN reached the engine's log"


async def stream_receipts(nc: Client) -> list[dict[str, Any]]:
    """Every receipt kept in KS_RECEIPTS, read as a partner's durable consumer would."""
    sub = await nc.jetstream().pull_subscribe("ks.receipts.>", durable=None, stream="KS_RECEIPTS")
    got: list[dict[str, Any]] = []
    while True:
        try:
            msgs = await sub.fetch(100, timeout=1)
        except (TimeoutError, nats.errors.TimeoutError):
            return got
        got += [json.loads(m.data) for m in msgs]


async def test_intake_killed_mid_stream_and_restarted_has_exactly_one_effect_per_signal(
    tmp_path: Path, nats_server: EmbeddedNatsServer
) -> None:
    rng = random.Random(7)
    bsns = [demo_bsn(rng) for _ in range(150)]
    env = {
        "KS_NATS_URL": nats_server.url,
        "KS_INTAKE_BATCH_SIZE": "10",
        "KS_INTAKE_ACK_WAIT_SECONDS": "2",
    }
    worker = start(["intake"], tmp_path, **env)
    nc = await connect_when_ready(nats_server.url)
    js = nc.jetstream()
    await publish_signals(nc, bsns + bsns, "kill")
    info = await consumer_when_ready(js, "KS_SIGNALS", "ks-intake")
    deadline = time.monotonic() + 60
    while info.num_ack_pending + info.num_pending == 300 or info.delivered.stream_seq < 30:
        assert time.monotonic() < deadline, "the intake never took its first signals"
        await asyncio.sleep(0.01)
        info = await js.consumer_info("KS_SIGNALS", "ks-intake")
    worker.kill()  # SIGKILL, mid-stream
    worker.wait()
    left = await js.consumer_info("KS_SIGNALS", "ks-intake")
    assert left.num_pending + left.num_ack_pending > 0, "the kill came after the last signal"
    restarted = start(["intake"], tmp_path, **env)
    try:
        for _ in range(600):
            info = await js.consumer_info("KS_SIGNALS", "ks-intake")
            if info.num_pending + info.num_ack_pending == 0:
                break
            await asyncio.sleep(0.05)
        got = await stream_receipts(nc)
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(timeout=30)
        await nc.close()
    assert info.num_pending + info.num_ack_pending == 0
    assert len(got) == 300  # one receipt per signal in the stream (deduplicated by Nats-Msg-Id)
    assert {r["signal_id"] for r in got if r["status"] == "accepted"} == {
        f"kill-{n}" for n in range(300)
    }
    engine = bootstrap(Settings(data_dir=tmp_path), configure_logs=False)
    try:
        cases = {r["case_id"] for r in got}
        assert len(cases) == 150  # one case per person, never two
        for case_id in cases:
            case = engine.referrals.get_case(UUID(case_id))
            keys = [s["signal_key"] for s in case.signals]
            assert len(keys) == 2, "each person's two signals, each applied once"
            assert len(set(keys)) == 2
    finally:
        engine.close()
