"""`ks` started as an operator starts it, and driven over NATS as a partner would: the helpers
of the end-to-end tests."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
import nats.js.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import ConsumerInfo

from adapters.persistence.views import open_views
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


async def consumer_when_ready(
    js: JetStreamContext, stream: str, name: str, timeout: float = 20
) -> ConsumerInfo:
    """The consumer's state once the component that creates it has started: a process creates
    its consumer after its streams, once it has warmed up (``Engine.warm_up``)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await js.consumer_info(stream, name)
        except nats.js.errors.NotFoundError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)


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


async def signals_and_receipts(url: str, bsns: list[str], prefix: str) -> list[dict[str, Any]]:
    """Once the engine on ``url`` takes signals, publish one about each of ``bsns`` (ids
    ``prefix-0``, ``prefix-1``, ...) and collect a receipt per signal, in the order they came."""
    nc = await connect_when_ready(url)
    try:
        receipts = asyncio.create_task(collect(nc, len(bsns), timeout=STARTING))
        await asyncio.sleep(0.2)  # the receipts' subscription is made before the first signal
        await publish_signals(nc, bsns, prefix)
        return await receipts
    finally:
        await nc.close()


async def wait_for_work_queue(
    store: Path | Settings, case_ids: set[str], timeout: float = STARTING, signals: int = 2
) -> list[WorkQueueEntry]:
    """The work queue entries of ``case_ids`` once every one shows ``signals`` signals; the
    views of the engine with these settings, or of its SQLite files in this data directory."""
    settings = store if isinstance(store, Settings) else Settings(data_dir=store)
    views = ReadModels(open_views(settings))
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        page = views.work_queue.page(now=datetime.now(UTC))
        found = [e for e in page.items if str(e.case_id) in case_ids]
        if len(found) == len(case_ids) and all(e.signal_count == signals for e in found):
            return found
        if asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.2)
