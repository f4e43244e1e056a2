"""How cost grows with history: append and aggregate load at 10k, 100k, 1M stored events.

The store is filled through the application itself (signals in batches, as the intake stores
them), then a fixed amount of further work is timed at each size. Flat figures across sizes
mean that neither appending nor loading a case slows down as the history grows.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import time
from functools import partial
from uuid import UUID

import nats
from nats.js import JetStreamContext

from adapters.nats.embedded import EmbeddedNatsServer
from adapters.nats.events_stream import ensure_events_stream
from adapters.nats.rebuild import rebuild_views
from adapters.nats.relay import Relay
from adapters.persistence.views import open_views
from domain.values import Signal
from ks_engine import commands as c
from ks_engine.audit.verify import Verifier
from ks_engine.bootstrap import Engine, bootstrap, verifying_parts
from ks_engine.demo import demo_bsn
from ks_engine.settings import Settings
from ks_engine.signal_contract import example_signal, parse_signal, to_domain
from projections.event import STREAM
from projections.read_models import build_projections
from projections.store import ViewDatabase

BATCH = 200
PROBE_SIGNALS = 2_000
PROBE_LOADS = 1_000
PROBE_ROUNDS = 5  # rounds of PROBE_LOADS loads: a single round moved by a quarter run to run


def _signal_batch(engine: Engine, rng: random.Random, start: int) -> list[tuple[Signal, c.Context]]:
    out = []
    for n in range(start, start + BATCH):
        doc = example_signal(demo_bsn(rng), source="https://bench.example.nl", event_id=f"g-{n}")
        parsed = parse_signal(
            json.dumps(doc).encode(), "ks.signals.GM0928", rules=engine.signal_rules()
        )
        signal, actor = to_domain(parsed, engine.pseudonymise)
        out.append((signal, c.Context(actor=actor, causation_id=parsed.event.signal_key)))
    return out


def _fill(engine: Engine, rng: random.Random, target_events: int, cases: list[UUID]) -> int:
    """Store signals until the log holds ``target_events``; the number of signals stored."""
    app = engine.referrals
    stored = 0
    while (app.recorder.max_notification_id() or 0) < target_events:
        batch = _signal_batch(engine, rng, len(cases) + stored)
        outcomes = app.receive_signals(batch)
        cases.extend(o.case_id for o in outcomes if o.case_id is not None)
        stored += len(batch)
    return stored


def probe(engine: Engine, rng: random.Random, cases: list[UUID]) -> dict[str, float]:
    """Append rate and aggregate-load time at the store's current size (the median of
    ``PROBE_ROUNDS`` rounds of ``PROBE_LOADS`` loads of random cases)."""
    app = engine.referrals
    batches = [_signal_batch(engine, rng, 10**9 + n * BATCH) for n in range(PROBE_SIGNALS // BATCH)]
    started = time.perf_counter()
    for batch in batches:
        app.receive_signals(batch)
    append = PROBE_SIGNALS / (time.perf_counter() - started)
    rounds = []
    for _ in range(PROBE_ROUNDS):
        picks = [rng.choice(cases) for _ in range(PROBE_LOADS)]
        started = time.perf_counter()
        for case_id in picks:
            app.get_case(case_id)
        rounds.append((time.perf_counter() - started) * 1000 / PROBE_LOADS)
    return {"append_signals_per_s": append, "case_load_ms": statistics.median(rounds)}


def verify_rate(engine: Engine) -> dict[str, float]:
    """Seal what is not sealed yet and sign a checkpoint, then time a full `ks audit verify`
    (every link and checkpoint recomputed): events per second."""
    engine.audit.sealer.seal_pending()
    engine.audit.sealer.checkpoint()
    verifier = Verifier(
        engine.referrals,
        engine.audit.chain,
        [engine.audit.signing_key.public_key()],
        grace_seconds=0,
        parts=partial(verifying_parts, engine.settings),
        workers=os.cpu_count() or 1,  # as `ks audit verify` by default
    )
    started = time.perf_counter()
    report = verifier.verify()
    elapsed = time.perf_counter() - started
    if not report.intact:
        raise RuntimeError(f"the benchmark store does not verify: {report.problems[0].message}")
    return {
        "verified_events": float(report.verified),
        "verify_events_per_s": report.verified / elapsed,
    }


async def relay_and_rebuild(
    engine: Engine, js: JetStreamContext, db: ViewDatabase
) -> dict[str, float]:
    """Relay what is new to KS_EVENTS (timed), then rebuild every view from the stream's start
    into a fresh database (timed): events per second for each."""
    relay = Relay(engine.referrals, js, engine.relay_position())
    await relay.start()
    before = (await js.stream_info(STREAM)).state.last_seq
    started = time.perf_counter()
    while await relay.publish_pending():
        pass
    relay_s = time.perf_counter() - started
    last = (await js.stream_info(STREAM)).state.last_seq
    started = time.perf_counter()
    await rebuild_views(js, db, build_projections(engine.settings.service_levels))
    rebuild_s = time.perf_counter() - started
    return {
        "relayed_events": float(last),
        "relay_events_per_s": (last - before) / relay_s,
        "rebuild_events_per_s": last / rebuild_s,
    }


async def growth(settings: Settings, sizes: list[int]) -> list[dict[str, float]]:
    """For each size (stored events, ascending): the probe's figures and the rebuild rate."""
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    engine = bootstrap(settings)
    views = open_views(settings)
    rng = random.Random(5)  # noqa: S311 - benchmark data
    cases: list[UUID] = []
    rows = []
    try:
        with EmbeddedNatsServer(data_dir / "nats") as server:
            nc = await nats.connect(server.url)
            js = nc.jetstream()
            await ensure_events_stream(js)
            for size in sizes:
                await asyncio.to_thread(_fill, engine, rng, size, cases)
                events = engine.referrals.recorder.max_notification_id() or 0
                row = {"stored_events": float(events), **probe(engine, rng, cases)}
                row |= verify_rate(engine)
                row |= await relay_and_rebuild(engine, js, views)
                rows.append(row)
            await nc.close()
    finally:
        engine.close()
    return rows
