"""The projector: every read model fed from ``KS_EVENTS`` through one durable pull consumer.

The projector fetches a batch, reads each message once, and applies the batch to every view,
each view from its own checkpoint, all views with their checkpoints in one transaction
(``projections.store.apply_batches``); it acknowledges only after the commit, up to the lowest
of the views' checkpoints. An event at or below a view's checkpoint is skipped by that view
(a redelivery, or a view ahead of the others); an event after a gap is not applied, and the
consumer is recreated to start right after the lowest checkpoint, so the database, not the
consumer, decides where each view stands. The per-view consumers of earlier versions
(``ks-view-<name>``) are deleted when the projector starts: the views keep their checkpoints,
and the shared consumer starts after the lowest of them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import nats.errors
import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from adapters.nats.delivery import delivery
from adapters.nats.fetching import PullConsumer, pull_consumer
from adapters.nats.stopping import raise_if_cancelled, sleep_or_stop
from adapters.persistence.views import close_views, open_views
from ks_engine.settings import Settings
from projections.errors import InvalidEventError, ProjectionError, ViewDatabaseError
from projections.event import STREAM, SUBJECT_PREFIX, OtherMessage, ReferralEvent, read_message
from projections.read_models import build_projections
from projections.store import (
    BatchOutcome,
    Projection,
    ViewDatabase,
    apply_batches,
    checkpoints,
    install,
)


class ProjectorsHost(Protocol):
    """What the projectors need of the engine: its settings (the composition root passes it)."""

    @property
    def settings(self) -> Settings: ...


log = structlog.get_logger("ks.projector")

CONSUMER = "ks-views"  # the one durable consumer of every read model
FETCH_BATCH = 200
ACK_WAIT_SECONDS = 30.0
RETRY_SECONDS = 2.0
IDLE_CHECK_EVERY = 10  # empty fetches between checks that the consumer still exists

Batch = list[tuple[Msg, ReferralEvent | OtherMessage]]


def consumer_name(projection: Projection) -> str:
    """The durable consumer one read model had to itself in earlier versions (deleted when
    the projector starts)."""
    return "ks-view-" + projection.name.replace("_", "-")


class Projector:
    """Feeds the read models from KS_EVENTS through one durable consumer."""

    def __init__(
        self,
        js: JetStreamContext,
        db: ViewDatabase,
        projections: Sequence[Projection],
        *,
        batch: int = FETCH_BATCH,
        fetch_timeout: float = 1.0,
    ) -> None:
        self.js = js
        self.db = db
        self.projections = list(projections)
        self.names = [p.name for p in self.projections]
        self.batch = batch
        self.fetch_timeout = fetch_timeout
        self.durable = CONSUMER
        self._sub: PullConsumer | None = None
        self._idle = 0
        self._earlier_removed = False

    # -- consumer ------------------------------------------------------------------------
    async def subscribe(self) -> None:
        """Bind to the durable consumer, recreating it when it cannot serve the lowest
        checkpoint: missing, ahead of a view, or holding deliveries a stopped projector never
        acked."""
        if not self._earlier_removed:
            await self._remove_earlier_consumers()
        seq = await asyncio.to_thread(self.lowest_checkpoint)
        try:
            info = await self.js.consumer_info(STREAM, self.durable)
        except NotFoundError:
            info = None
        if (
            info is None
            or info.ack_floor.stream_seq > seq
            or info.num_ack_pending
            or info.config.ack_policy != AckPolicy.ALL  # made by an earlier version
        ):
            await self._recreate(seq)
        if self._sub is None:
            self._sub = await pull_consumer(self.js, STREAM, self.durable)

    async def _remove_earlier_consumers(self) -> None:
        """Delete the per-view consumers of earlier versions, which nothing reads any more."""
        for projection in self.projections:
            with contextlib.suppress(NotFoundError):
                await self.js.delete_consumer(STREAM, consumer_name(projection))
                log.info("projector.consumer_replaced", consumer=consumer_name(projection))
        self._earlier_removed = True

    def lowest_checkpoint(self) -> int:
        """The stream sequence every view has applied (the lowest of their checkpoints)."""
        return min(c.seq for c in checkpoints(self.db, self.names))

    async def _recreate(self, seq: int) -> None:
        """(Re)create the consumer to deliver from just after stream sequence ``seq``."""
        await self._unsubscribe()
        with contextlib.suppress(NotFoundError):
            await self.js.delete_consumer(STREAM, self.durable)
        config = ConsumerConfig(
            durable_name=self.durable,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE if seq else DeliverPolicy.ALL,
            opt_start_seq=seq + 1 if seq else None,
            ack_policy=AckPolicy.ALL,  # one ack per batch: the last applied acks those before
            ack_wait=ACK_WAIT_SECONDS,
            max_deliver=-1,
            max_ack_pending=self.batch * 2,
            filter_subject=f"{SUBJECT_PREFIX}.>",
        )
        await self.js.add_consumer(STREAM, config)
        log.info("projector.consumer_created", views=self.names, start=seq + 1)

    async def close(self) -> None:
        """Leave the consumer; unacknowledged deliveries stay with the server."""
        await self._unsubscribe()

    async def _unsubscribe(self) -> None:
        if self._sub is not None:
            sub, self._sub = self._sub, None
            with contextlib.suppress(nats.errors.Error):
                await sub.unsubscribe()

    # -- one batch -----------------------------------------------------------------------
    async def fetch(self) -> Batch:
        """The next batch from the stream (empty when nothing arrived in time)."""
        if self._sub is None:
            await self.subscribe()
        assert self._sub is not None
        msgs = await self._sub.fetch(self.batch, wait=self.fetch_timeout)
        batch: Batch = []
        for m in msgs:
            seq = delivery(m).stream_seq
            try:
                batch.append((m, read_message(m.subject, m.data, seq)))
            except InvalidEventError as e:
                log.error("projector.unreadable_event", stream_seq=seq, error=str(e))
                raise ProjectionError(
                    f"the read models stopped at stream message {seq}: {e}"
                ) from None
        return batch

    async def commit(self, events: list[ReferralEvent | OtherMessage]) -> list[BatchOutcome]:
        """Apply the events to every view, each with its checkpoint, in one transaction."""
        return await asyncio.to_thread(apply_batches, self.db, self.projections, events)

    async def acknowledge(self, batch: Batch, outcomes: list[BatchOutcome]) -> None:
        """Ack what every view now holds (the consumer acks every delivery up to the one
        acked); after a gap, restart the consumer at the lowest checkpoint."""
        floor = min(o.checkpoint.seq for o in outcomes)
        done = [m for m, e in batch if e.seq <= floor]
        if done:
            await done[-1].ack_sync()
        gaps = [o for o in outcomes if o.gap_after is not None]
        if gaps:
            for o in gaps:
                log.warning("projector.gap", projection=o.checkpoint.name, stream_seq=floor + 1)
            await self._recreate(floor)
            await self.subscribe()

    async def step(self) -> int:
        """Fetch, apply and acknowledge one batch; the most events any view applied."""
        batch = await self.fetch()
        if not batch:
            await self._check_idle()
            return 0
        self._idle = 0
        outcomes = await self.commit([e for _, e in batch])
        await self.acknowledge(batch, outcomes)
        applied = max(o.applied for o in outcomes)
        if applied:
            log.info(
                "projector.applied",
                events=applied,
                skipped=min(o.skipped for o in outcomes),
                stream_seq=max(o.checkpoint.seq for o in outcomes),
                position=max(o.checkpoint.position for o in outcomes),
            )
        return applied

    async def _check_idle(self) -> None:
        # A rebuild elsewhere recreates the consumer; a pull on a deleted one just stays empty.
        self._idle += 1
        if self._idle >= IDLE_CHECK_EVERY:
            self._idle = 0
            await self.subscribe()

    # -- loops ---------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Project until ``stop`` is set; NATS and database outages are waited out (what
        was fetched and not committed is delivered again from the checkpoint)."""
        try:
            while not stop.is_set():
                raise_if_cancelled()
                try:
                    await self.step()
                except (nats.errors.Error, ViewDatabaseError) as e:
                    log.warning(
                        "projector.nats_failed"
                        if isinstance(e, nats.errors.Error)
                        else "projector.database_failed",
                        error=str(e) or type(e).__name__,
                    )
                    await self._unsubscribe()
                    await sleep_or_stop(stop, RETRY_SECONDS)
        finally:
            await self._unsubscribe()

    async def catch_up(self, until_seq: int) -> None:
        """Project until every view's checkpoint reaches stream sequence ``until_seq``."""
        try:
            while await asyncio.to_thread(self.lowest_checkpoint) < until_seq:
                await self.step()
        finally:
            await self._unsubscribe()

    async def restart_after_checkpoint(self) -> None:
        """Recreate the durable consumer to deliver right after the lowest checkpoint of these
        views and of those it fed before (after a rebuild of some, see
        ``adapters.nats.rebuild``)."""
        await self._remove_earlier_consumers()
        seq = await asyncio.to_thread(self.lowest_checkpoint)
        with contextlib.suppress(NotFoundError):
            # Acknowledged up to the lowest checkpoint of the views not rebuilt too
            seq = min(seq, (await self.js.consumer_info(STREAM, self.durable)).ack_floor.stream_seq)
        await self._recreate(seq)


@dataclass(frozen=True)
class ProjectionStatus:
    """Where a read model stands and how far it lags behind the stream."""

    name: str
    stream_seq: int
    position: int
    updated_at: str | None
    stream_last_seq: int | None

    @property
    def lag(self) -> int | None:
        return None if self.stream_last_seq is None else self.stream_last_seq - self.stream_seq


async def status(
    js: JetStreamContext | None, db: ViewDatabase, projections: list[Projection]
) -> list[ProjectionStatus]:
    """Each projection's checkpoint, and its lag when the stream can be asked."""
    last: int | None = None
    if js is not None:
        try:
            last = (await js.stream_info(STREAM)).state.last_seq
        except NotFoundError:
            last = 0
    found = await asyncio.to_thread(checkpoints, db, [p.name for p in projections])
    return [ProjectionStatus(c.name, c.seq, c.position, c.updated_at, last) for c in found]


async def run_projectors(engine: ProjectorsHost, js: JetStreamContext, stop: asyncio.Event) -> None:
    """Feed every read model until ``stop`` is set; an error the projector does not wait out
    is raised (the supervisor restarts it, and it resumes from the views' checkpoints)."""
    db = open_views(engine.settings)
    try:
        projections = build_projections(engine.settings.service_levels)
        await asyncio.to_thread(install, db, projections)
        await Projector(js, db, projections).run(stop)
    finally:
        close_views(db)
