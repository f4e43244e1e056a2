"""How cost grows with history: append and aggregate load at 10k, 100k, 1M stored events.

The store is filled through the application itself (signals in batches, as the intake stores
them), then a fixed amount of further work is timed at each size. Flat figures across sizes
mean that neither appending nor loading a case slows down as the history grows.

The machine's speed drifts by a fifth or more over minutes (the same loads took 139 and 186 µs
each in two processes a few minutes apart), as much as the growth being looked for. On SQLite
a copy of the store is therefore kept at each size, and once the largest is reached the
appends and loads are timed again on every size's store in turn, batch by batch and round by
round, so that drift falls on all sizes alike.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import shutil
import sqlite3
import statistics
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from uuid import UUID

import nats
from nats.js import JetStreamContext

from adapters.nats.embedded import EmbeddedNatsServer
from adapters.nats.events_stream import ensure_events_stream
from adapters.nats.feedback import ensure_feedback_stream
from adapters.nats.rebuild import rebuild_views
from adapters.nats.relay import relay_as_run
from adapters.persistence.views import open_views
from domain.values import Signal
from ks_engine import commands as c
from ks_engine.audit.verify import Verifier
from ks_engine.bootstrap import Engine, bootstrap, reading_parts, verifying_parts
from ks_engine.demo import demo_bsn
from ks_engine.heap import heap_set_aside
from ks_engine.settings import DEVELOPMENT_SECRETS, Settings
from ks_engine.signal_contract import example_signal, parse_signal, to_domain
from projections.event import STREAM
from projections.read_models import build_projections
from projections.store import ViewDatabase

BATCH = 200
PROBE_SIGNALS = 2_000
PROBE_LOADS = 1_000
PROBE_ROUNDS = 5  # rounds of PROBE_LOADS loads: a single round moved by a quarter run to run


Store = tuple[Engine, list[UUID]]  # an engine on a store, and cases stored in it


def _signal_batch(
    engine: Engine, rng: random.Random, numbers: Iterator[int]
) -> list[tuple[Signal, c.Context]]:
    """A batch of new signals: each event id is one not used before in this run (``numbers``),
    as a repeated id is a partner's redelivery, recognised and not stored again."""
    out = []
    for n in itertools.islice(numbers, BATCH):
        doc = example_signal(demo_bsn(rng), source="https://bench.example.nl", event_id=f"g-{n}")
        parsed = parse_signal(
            json.dumps(doc).encode(), "ks.signals.GM0928", rules=engine.signal_rules()
        )
        signal, actor = to_domain(parsed, engine.pseudonymise)
        out.append((signal, c.Context(actor=actor, causation_id=parsed.event.signal_key)))
    return out


def _fill(
    engine: Engine,
    rng: random.Random,
    target_events: int,
    cases: list[UUID],
    numbers: Iterator[int],
) -> None:
    """Store signals until the log holds ``target_events``; the cases they open join ``cases``."""
    app = engine.referrals
    while (app.recorder.max_notification_id() or 0) < target_events:
        outcomes = app.receive_signals(_signal_batch(engine, rng, numbers))
        cases.extend(o.case_id for o in outcomes if o.case_id is not None)


def copy_log_into_file(engine: Engine) -> None:
    """SQLite: copy the store's write-ahead log into its file, all of it (PostgreSQL: nothing)."""
    if engine.settings.store != "sqlite":
        return
    conn = sqlite3.connect(engine.settings.sqlite_path, timeout=60)
    try:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.close()
    if busy:
        raise RuntimeError("the store's log could not be copied into its file: it is in use")


def _store_unseen(engine: Engine, batch: list[tuple[Signal, c.Context]]) -> None:
    """Store ``batch``; RuntimeError if any of its signals was not stored as a new one."""
    outcomes = engine.referrals.receive_signals(batch)
    if any(o.duplicate or o.refusal is not None for o in outcomes):
        raise RuntimeError("a probe signal was not stored: it timed no append")


def probe(
    stores: list[Store], rng: random.Random, numbers: Iterator[int]
) -> list[dict[str, float]]:
    """For each store: its append rate (``PROBE_SIGNALS`` new signals, in batches) and its
    aggregate-load time (the median of ``PROBE_ROUNDS`` rounds of ``PROBE_LOADS`` loads of its
    random cases), each batch and round taken in turn with the other stores'.

    On SQLite appends go to the write-ahead log, which the store copies into its file every
    ``sqlite_wal.EVENT_STORE_CHECKPOINT_PAGES`` pages; each copy is part of what appends cost,
    a few hundred milliseconds at 1M stored. The probe's appends fill about one log, so how many
    copies fell inside them depended on how full the log was when they began (one or two at
    1M). Every store therefore begins with its log copied (not timed), and its appending time
    includes copying what its appends left in the log at the end: the whole cost of the
    appends, once.

    This machine pages out file pages nobody read for about a minute (DAMON), so a store
    untouched while another was filled, verified or relayed would be timed reading its pages
    from the disk, and the smaller stores (copied minutes before) more than the largest. Each
    SQLite store is therefore read through once before the timing, so that every size starts
    from its store in memory; what the loads still read from the disk is reported beside them
    (``case_load_disk_kb``, from ``/proc/self/io``).

    The first batch an engine stores after it started costs more than the next ones (2,726-
    2,888 against 4,202-5,474 signals/s on a copy of a 300,000-event store, bench/NOTES.md); in
    turn, the earlier sizes' stores are opened just before they are probed and the largest was
    just filled. Every store therefore stores one batch before the timing (not timed), so that
    no size is timed cold.

    The intake's process sets its startup heap aside from the cycle collector; the bench's
    process holds far more (every store's engine, the cases it picks from), and the collector's
    full passes over it fell on whichever store's batch was running. The probe runs with what
    the process held before it set aside, as the intake and a rebuild do."""
    with heap_set_aside():
        return _probe(stores, rng, numbers)


def _probe(
    stores: list[Store], rng: random.Random, numbers: Iterator[int]
) -> list[dict[str, float]]:
    for engine, _ in stores:
        read_through(engine)
    for engine, _ in stores:
        _store_unseen(engine, _signal_batch(engine, rng, numbers))
    batches = [
        [_signal_batch(engine, rng, numbers) for _ in range(PROBE_SIGNALS // BATCH)]
        for engine, _ in stores
    ]
    for engine, _ in stores:
        copy_log_into_file(engine)
    appending = [0.0] * len(stores)
    for n in range(PROBE_SIGNALS // BATCH):
        for s, (engine, _) in enumerate(stores):
            started = time.perf_counter()
            _store_unseen(engine, batches[s][n])
            appending[s] += time.perf_counter() - started
    for s, (engine, _) in enumerate(stores):
        started = time.perf_counter()
        copy_log_into_file(engine)
        appending[s] += time.perf_counter() - started
    rounds: list[list[float]] = [[] for _ in stores]
    disk = [0] * len(stores)
    for _ in range(PROBE_ROUNDS):
        for s, (engine, cases) in enumerate(stores):
            picks = [rng.choice(cases) for _ in range(PROBE_LOADS)]
            read_before = disk_read_bytes()
            started = time.perf_counter()
            for case_id in picks:
                engine.referrals.get_case(case_id)
            rounds[s].append((time.perf_counter() - started) * 1000 / PROBE_LOADS)
            disk[s] += disk_read_bytes() - read_before
    loads = PROBE_ROUNDS * PROBE_LOADS
    return [
        {
            "append_signals_per_s": PROBE_SIGNALS / spent,
            "case_load_ms": statistics.median(r),
            "case_load_disk_kb": read / loads / 1024,
        }
        for spent, r, read in zip(appending, rounds, disk, strict=True)
    ]


def read_through(engine: Engine) -> None:
    """SQLite: read the store's files once, so that their pages are in memory (PostgreSQL:
    nothing; its server keeps its own cache)."""
    if engine.settings.store != "sqlite":
        return
    buffer = bytearray(1 << 20)
    for path in (engine.settings.sqlite_path, Path(f"{engine.settings.sqlite_path}-wal")):
        if path.is_file():
            with path.open("rb", buffering=0) as f:
                while f.readinto(buffer):
                    pass


def disk_read_bytes() -> int:
    """The bytes this process has had read from storage so far (0 where the system does not
    say)."""
    try:
        with open("/proc/self/io") as f:
            for line in f:
                if line.startswith("read_bytes:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _kept_copy(settings: Settings, size: int) -> Settings:
    """A copy of the SQLite store as it is now (with its secrets), and its settings."""
    copy = settings.model_copy(update={"data_dir": settings.data_dir / f"at-{size}"})
    copy.data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(settings.data_dir / DEVELOPMENT_SECRETS, copy.data_dir)
    source, target = sqlite3.connect(settings.sqlite_path), sqlite3.connect(copy.sqlite_path)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return copy


def _probe_in_turn(
    kept: list[tuple[Settings, list[UUID]]], last: Store, rng: random.Random, numbers: Iterator[int]
) -> list[dict[str, float]]:
    """``probe`` on the kept copies and the last store, in turn."""
    copies = [(bootstrap(s, configure_logs=False), cases) for s, cases in kept]
    try:
        return probe([*copies, last], rng, numbers)
    finally:
        for engine, _ in copies:
            engine.close()


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
    """Relay what is new to KS_EVENTS (timed), as `ks relay` does (with feedback to the
    partners, its windows translated in `KS_RELAY_TRANSLATORS` processes of their own, all
    started before the timing), then rebuild every view from the stream's start into a fresh
    database (timed): events per second for each."""
    await ensure_feedback_stream(js, engine.settings)
    relay = relay_as_run(
        engine, js, engine.relay_position(), translating=partial(reading_parts, engine.settings)
    )
    await relay.start()
    before = (await js.stream_info(STREAM)).state.last_seq
    started = time.perf_counter()
    try:
        while await relay.publish_pending():
            pass
        relay_s = time.perf_counter() - started
    finally:
        await relay.close()
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
    numbers = itertools.count()
    cases: list[UUID] = []
    rows = []
    kept: list[tuple[Settings, list[UUID]]] = []  # SQLite: a copy of the store at each size
    try:
        with EmbeddedNatsServer(data_dir / "nats") as server:
            nc = await nats.connect(server.url)
            js = nc.jetstream()
            await ensure_events_stream(js)
            for size in sizes:
                await asyncio.to_thread(_fill, engine, rng, size, cases, numbers)
                events = engine.referrals.recorder.max_notification_id() or 0
                row = {"stored_events": float(events), **probe([(engine, cases)], rng, numbers)[0]}
                if settings.store == "sqlite" and size != sizes[-1]:
                    kept.append((_kept_copy(settings, size), list(cases)))
                row |= verify_rate(engine)
                row |= await relay_and_rebuild(engine, js, views)
                rows.append(row)
            await nc.close()
        if kept:
            in_turn = _probe_in_turn(kept, (engine, cases), rng, numbers)
            for row, figures in zip(rows, in_turn, strict=True):
                row |= {f"{name}_in_turn": value for name, value in figures.items()}
    finally:
        engine.close()
    return rows
