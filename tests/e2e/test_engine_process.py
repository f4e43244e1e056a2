"""The engine as an operator starts it: `ks run` and `ks intake` as real processes."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import nats
from nats.aio.client import Client

from adapters.nats.embedded import EmbeddedNatsServer, free_port
from adapters.persistence.views import open_views
from ks_engine.bootstrap import bootstrap
from ks_engine.demo import demo_bsn
from ks_engine.settings import Settings
from ks_engine.signal_contract import example_signal
from projections.read_models import ReadModels
from projections.work_queue_store import WorkQueueEntry

KS = str(Path(sys.executable).parent / "ks")
SOURCE = "https://jgz.example.nl"


STARTING = 120.0
"""Seconds `ks run` may take to start its processes and take the first signals in: about five
on an idle machine, much more on a loaded one (every process imports the engine); the waits
end as soon as what they wait for is there."""


def start(args: list[str], data_dir: Path, **env: str) -> subprocess.Popen[bytes]:
    """Start `ks ...`; its output goes to a file (a full pipe would block the engine)."""
    environment = dict(os.environ, KS_DATA_DIR=str(data_dir), KS_LOG_FORMAT="json", **env)
    with (data_dir / f"ks-{args[0]}.log").open("ab") as log:
        return subprocess.Popen([KS, *args], env=environment, stdout=log, stderr=log)


def output(data_dir: Path, command: str) -> str:
    return (data_dir / f"ks-{command}.log").read_text()


async def connect_when_ready(url: str, timeout: float = 20) -> Client:
    """Connect once the engine has declared its streams."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            nc = await nats.connect(url, max_reconnect_attempts=0, connect_timeout=1)
            await nc.jetstream().stream_info("KS_SIGNALS")
            return nc
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)


async def collect(nc: Client, count: int, timeout: float = 30) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    sub = await nc.subscribe("ks.receipts.>")
    deadline = asyncio.get_running_loop().time() + timeout
    while len(got) < count and asyncio.get_running_loop().time() < deadline:
        try:
            msg = await sub.next_msg(timeout=0.5)
        except nats.errors.TimeoutError:
            continue
        got.append(json.loads(msg.data))
    await sub.unsubscribe()
    return got


async def publish_signals(nc: Client, bsns: list[str], prefix: str) -> None:
    js = nc.jetstream()
    for n, bsn in enumerate(bsns):
        doc = example_signal(bsn, source=SOURCE, event_id=f"{prefix}-{n}")
        await js.publish(
            "ks.signals.GM0928",
            json.dumps(doc).encode(),
            headers={"Nats-Msg-Id": f"{SOURCE}#{prefix}-{n}"},
        )


async def test_ks_run_takes_signals_on_its_embedded_server_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    port = free_port()
    proc = start(["run"], tmp_path, KS_EMBEDDED_NATS_PORT=str(port), KS_API_PORT=str(free_port()))
    try:
        nc = await connect_when_ready(f"nats://127.0.0.1:{port}")
        receipts = asyncio.create_task(collect(nc, 4, timeout=STARTING))
        await asyncio.sleep(0.2)
        bsns = [demo_bsn(random.Random(seed)) for seed in (1, 2)]
        await publish_signals(nc, bsns * 2, "run")
        got = await receipts
        await nc.close()
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


async def wait_for_work_queue(
    data_dir: Path, case_ids: set[str], timeout: float = STARTING, signals: int = 2
) -> list[WorkQueueEntry]:
    """The work queue entries of ``case_ids`` once every one shows ``signals`` signals."""
    views = ReadModels(open_views(Settings(data_dir=data_dir)))
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        page = views.work_queue.page(now=datetime.now(UTC))
        found = [e for e in page.items if str(e.case_id) in case_ids]
        if len(found) == len(case_ids) and all(e.signal_count == signals for e in found):
            return found
        if asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.2)


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
    info = await js.consumer_info("KS_SIGNALS", "ks-intake")
    while info.num_ack_pending + info.num_pending == 300 or info.delivered.stream_seq < 30:
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
