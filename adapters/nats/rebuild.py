"""Rebuilding read models from the start of ``KS_EVENTS``, all chosen views in one pass.

The live projector reads with acknowledgements, one durable consumer for every view. A rebuild
instead reads the stream once through a short-lived consumer without acknowledgements (the
views' checkpoints in the database, not the consumer, say how far it came), parses each event
once and applies each batch to every chosen view, with each view's checkpoint, in one
transaction, so a view is never ahead of or behind its own checkpoint. When the stream's end (as
it was when the rebuild began) is reached, the projector's durable consumer is recreated to go
on right after the lowest checkpoint (of the rebuilt views, and of the others as far as the
consumer had acknowledged). Run it with the projector stopped (``ks projections rebuild``
says so).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Sequence

import nats.errors
import structlog
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from adapters.nats.batch_read import read_batches
from adapters.nats.projectors import Projector
from adapters.nats.rebuild_parts import PartsInFlight, worker_pool
from ks_engine.heap import heap_set_aside
from projections.errors import InvalidEventError, ProjectionError
from projections.event import STREAM, SUBJECT_PREFIX, OtherMessage, ReferralEvent, read_message
from projections.store import (
    FoldingProjection,
    Projection,
    ViewDatabase,
    apply_batches,
    reset,
)

log = structlog.get_logger("ks.rebuild")

REBUILD_BATCH = 5_000
FETCH_TIMEOUT_SECONDS = 5.0
IDLE_CONSUMER_SECONDS = 60.0  # the server removes the reading consumer if a rebuild dies


async def rebuild_views(
    js: JetStreamContext,
    db: ViewDatabase,
    projections: Sequence[Projection],
    *,
    batch: int = REBUILD_BATCH,
    workers: int | None = None,
) -> int:
    """Empty the views and project the stream from its start; the last stream sequence
    applied (0 for an empty stream). With more than one worker (by default one per CPU) each
    batch is folded by case in that many worker processes (``rebuild_parts``)."""
    workers = (os.cpu_count() or 1) if workers is None else workers
    for projection in projections:
        await asyncio.to_thread(reset, db, projection)
    last = (await js.stream_info(STREAM)).state.last_seq
    # What the process held before is set aside from the cycle collector meanwhile: its full
    # passes over a large process (an engine, the bench) cost more than the rebuild's work.
    with heap_set_aside():
        done = await _project_from_start(js, db, projections, last, batch, workers) if last else 0
    await Projector(js, db, projections).restart_after_checkpoint()
    log.info("rebuild.done", views=[p.name for p in projections], stream_seq=done)
    return done


async def _project_from_start(
    js: JetStreamContext,
    db: ViewDatabase,
    projections: Sequence[Projection],
    last: int,
    batch: int,
    workers: int,
) -> int:
    name = f"ks-rebuild-{uuid.uuid4().hex[:12]}"
    config = ConsumerConfig(
        name=name,
        ack_policy=AckPolicy.NONE,
        deliver_policy=DeliverPolicy.ALL,
        inactive_threshold=IDLE_CONSUMER_SECONDS,
        filter_subject=f"{SUBJECT_PREFIX}.>",
    )
    await js.add_consumer(STREAM, config)
    folding = [p for p in projections if isinstance(p, FoldingProjection)]
    pool = worker_pool(workers) if workers > 1 and len(folding) == len(projections) else None
    in_parts = PartsInFlight(pool, workers, db, folding) if pool is not None else None
    done = 0
    try:
        batches = read_batches(
            js._nc,  # the connection the JetStream context was made from
            STREAM,
            name,
            last,
            batch=batch,
            timeout=FETCH_TIMEOUT_SECONDS,
        )
        try:
            async for msgs in batches:
                if in_parts is not None:
                    done = await in_parts.apply(msgs)
                    continue
                events = [_read(*m) for m in msgs]
                outcomes = await asyncio.to_thread(apply_batches, db, projections, events)
                done = min(o.checkpoint.seq for o in outcomes)
                if any(o.gap_after is not None for o in outcomes) or done != events[-1].seq:
                    raise ProjectionError(
                        "the next message did not arrive in order; run the rebuild again"
                    )
            if in_parts is not None:
                done = await in_parts.finish()
        except ProjectionError as e:
            if in_parts is not None:
                done = await in_parts.settle()
            raise ProjectionError(f"the rebuild stopped at stream message {done}: {e}") from None
    finally:
        if in_parts is not None:
            await in_parts.settle()  # no batch is left half-written when this returns
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        with contextlib.suppress(nats.errors.Error):
            await js.delete_consumer(STREAM, name)
    return done


def _read(subject: str, data: bytes, seq: int) -> ReferralEvent | OtherMessage:
    try:
        return read_message(subject, data, seq)
    except InvalidEventError as e:
        raise ProjectionError(str(e)) from None
