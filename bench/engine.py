"""Engine figures: ks-engine's own paths on the same machine, in the same run."""

from __future__ import annotations

import asyncio
import json
import random
import time
from pathlib import Path

import nats

from adapters.nats.intake import CONSUMER, Intake
from adapters.nats.streams import SIGNALS, ensure_intake_streams
from ks_engine.bootstrap import bootstrap
from ks_engine.demo import demo_bsn
from ks_engine.settings import Settings
from ks_engine.signal_contract import example_signal

SOURCE = "https://bench.example.nl"


def signals(count: int, seed: int = 1) -> list[bytes]:
    """``count`` valid signals; about one in five is a further signal about a known person."""
    rng = random.Random(seed)  # noqa: S311 - benchmark data
    people: list[str] = []
    out = []
    for n in range(count):
        if people and rng.random() < 0.2:
            bsn = rng.choice(people)
        else:
            bsn = demo_bsn(rng)
            people.append(bsn)
        out.append(json.dumps(example_signal(bsn, source=SOURCE, event_id=f"b-{n}")).encode())
    return out


async def intake_ingest_rate(url: str, data_dir: Path, count: int) -> dict[str, float]:
    """Signals per second from publish until every one is stored and acked (SQLite, encrypted)."""
    engine = bootstrap(Settings(data_dir=data_dir, log_level="warning"), configure_logs=True)
    bodies = signals(count)
    nc = await nats.connect(url)
    js = nc.jetstream()
    await ensure_intake_streams(js, engine.settings)
    stop = asyncio.Event()
    intake = Intake(engine, js)
    task = asyncio.create_task(intake.run(stop))
    started = time.perf_counter()
    futures = [
        await js.publish_async(
            "ks.signals.GM0928", body, headers={"Nats-Msg-Id": f"{SOURCE}#b-{n}"}
        )
        for n, body in enumerate(bodies)
    ]
    await asyncio.gather(*futures)
    published = time.perf_counter() - started
    while True:
        info = await js.consumer_info(SIGNALS, CONSUMER)
        if info.num_pending + info.num_ack_pending == 0:
            break
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    await nc.close()
    engine.close()
    return {"signals_per_s": count / elapsed, "publish_s": published, "total_s": elapsed}
