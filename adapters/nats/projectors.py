"""Projectors: each read model is a durable pull consumer on ``KS_EVENTS``.

A projector fetches a batch, applies it to its view together with its checkpoint in one
transaction (``projections.store.apply_batch``), and acknowledges only after the commit. A
redelivered event at or below the checkpoint is skipped; an event after a gap is not applied,
and the consumer is recreated to start right after the checkpoint, so the database, not the
consumer, decides where a view stands.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Protocol

import nats.errors
import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from adapters.nats.fetching import fetch_batch
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
    apply_batch,
    checkpoints,
    install,
    read_checkpoint,
)


class ProjectorsHost(Protocol):
    """What the projectors need of the engine: its settings (the composition root passes it)."""

    @property
    def settings(self) -> Settings: ...


log = structlog.get_logger("ks.projector")

FETCH_BATCH = 200
ACK_WAIT_SECONDS = 30.0
RETRY_SECONDS = 2.0
IDLE_CHECK_EVERY = 10  # empty fetches between checks that the consumer still exists


def consumer_name(projection: Projection) -> str:
    return "ks-view-" + projection.name.replace("_", "-")


class Projector:
    """Feeds one read model from KS_EVENTS."""

    def __init__(
        self,
        js: JetStreamContext,
        db: ViewDatabase,
        projection: Projection,
        *,
        batch: int = FETCH_BATCH,
        fetch_timeout: float = 1.0,
    ) -> None:
        self.js = js
        self.db = db
        self.projection = projection
        self.batch = batch
        self.fetch_timeout = fetch_timeout
        self.durable = consumer_name(projection)
        self._sub: JetStreamContext.PullSubscription | None = None
        self._idle = 0

    # -- consumer ------------------------------------------------------------------------
    async def subscribe(self) -> None:
        """Bind to the durable consumer, recreating it when it cannot serve the checkpoint:
        missing, ahead of the view, or holding deliveries a stopped projector never acked."""
        seq = await asyncio.to_thread(self._checkpoint_seq)
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
            self._sub = await self.js.pull_subscribe_bind(durable=self.durable, stream=STREAM)

    def _checkpoint_seq(self) -> int:
        with self.db.read() as tx:
            return read_checkpoint(tx, self.projection.name).seq

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
        log.info("projector.consumer_created", projection=self.projection.name, start=seq + 1)

    async def close(self) -> None:
        """Leave the consumer; unacknowledged deliveries stay with the server."""
        await self._unsubscribe()

    async def _unsubscribe(self) -> None:
        if self._sub is not None:
            sub, self._sub = self._sub, None
            with contextlib.suppress(nats.errors.Error):
                await sub.unsubscribe()

    # -- one batch -----------------------------------------------------------------------
    async def fetch(self) -> list[tuple[Msg, ReferralEvent | OtherMessage]]:
        """The next batch from the stream (empty when nothing arrived in time)."""
        if self._sub is None:
            await self.subscribe()
        assert self._sub is not None
        msgs = await fetch_batch(self._sub, self.batch, wait=self.fetch_timeout)
        batch: list[tuple[Msg, ReferralEvent | OtherMessage]] = []
        for m in msgs:
            seq = m.metadata.sequence.stream
            try:
                batch.append((m, read_message(m.subject, m.data, seq)))
            except InvalidEventError as e:
                log.error(
                    "projector.unreadable_event",
                    projection=self.projection.name,
                    stream_seq=seq,
                    error=str(e),
                )
                raise ProjectionError(
                    f"read model {self.projection.name} stopped at stream message {seq}: {e}"
                ) from None
        return batch

    async def commit(self, events: list[ReferralEvent | OtherMessage]) -> BatchOutcome:
        """Apply the events and the checkpoint in one transaction."""
        return await asyncio.to_thread(apply_batch, self.db, self.projection, events)

    async def acknowledge(
        self, batch: list[tuple[Msg, ReferralEvent | OtherMessage]], outcome: BatchOutcome
    ) -> None:
        """Ack what the view now holds (the consumer acks every delivery up to the one acked);
        after a gap, restart the consumer at the checkpoint."""
        done = [m for m, e in batch if e.seq <= outcome.checkpoint.seq]
        if done:
            await done[-1].ack_sync()
        if outcome.gap_after is not None:
            log.warning(
                "projector.gap", projection=self.projection.name, stream_seq=outcome.gap_after + 1
            )
            await self._recreate(outcome.checkpoint.seq)
            await self.subscribe()

    async def step(self) -> int:
        """Fetch, apply and acknowledge one batch; the number of events applied."""
        batch = await self.fetch()
        if not batch:
            await self._check_idle()
            return 0
        self._idle = 0
        outcome = await self.commit([e for _, e in batch])
        await self.acknowledge(batch, outcome)
        if outcome.applied:
            log.info(
                "projector.applied",
                projection=self.projection.name,
                events=outcome.applied,
                skipped=outcome.skipped,
                stream_seq=outcome.checkpoint.seq,
                position=outcome.checkpoint.position,
            )
        return outcome.applied

    async def _check_idle(self) -> None:
        # A rebuild elsewhere deletes the consumer; a pull on a deleted one just stays empty.
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
                        projection=self.projection.name,
                        error=str(e) or type(e).__name__,
                    )
                    await self._unsubscribe()
                    await sleep_or_stop(stop, RETRY_SECONDS)
        finally:
            await self._unsubscribe()

    async def catch_up(self, until_seq: int) -> None:
        """Project until the checkpoint reaches stream sequence ``until_seq``."""
        try:
            while await asyncio.to_thread(self._checkpoint_seq) < until_seq:
                await self.step()
        finally:
            await self._unsubscribe()

    async def restart_after_checkpoint(self) -> None:
        """Recreate the durable consumer to deliver right after the view's checkpoint (after a
        rebuild, see ``adapters.nats.rebuild``)."""
        await self._recreate(await asyncio.to_thread(self._checkpoint_seq))


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
    """Run every read model's projector until ``stop`` is set; if one fails, the others are
    stopped (each resumes from its checkpoint) and the error is raised, so that they are
    restarted together."""
    db = open_views(engine.settings)
    try:
        projections = build_projections(engine.settings.service_levels)
        await asyncio.to_thread(install, db, projections)
        tasks = [asyncio.create_task(Projector(js, db, p).run(stop)) for p in projections]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for task in tasks:
                task.cancel()  # a no-op for those that ended
            ended = await asyncio.gather(*tasks, return_exceptions=True)
        for result in ended:
            if isinstance(result, Exception):
                raise result
    finally:
        close_views(db)
