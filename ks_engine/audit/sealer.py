"""The sealer: extends the hash chain over newly stored events and signs checkpoints.

It reads the notification log after commit, in order, and appends one link per event. The
application asks it to seal after each save (so a writer's events are sealed at once), and
``run_sealer`` seals whatever is left (other processes' events, a crash between commit and
seal), signs a checkpoint periodically and publishes checkpoints to ``ks.events.checkpoints``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import nats.errors
import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.application import Application
from eventsourcing.persistence import Notification, PersistenceError
from eventsourcing.utils import TopicError
from nats.js import JetStreamContext

from adapters.nats.stopping import raise_if_cancelled
from adapters.persistence.audit_tables import DuplicateRowError
from ks_engine.audit import chain, signing
from ks_engine.audit.chain import CHAIN_FORMAT, GENESIS, ChainStore, Checkpoint, Head, Link
from ks_engine.audit.decoding import quick_mapper
from ks_engine.audit.quick_summary import QuickReader
from ks_engine.audit.summary import is_case_event, summarise, summarise_state
from projections.event import CHECKPOINT_SUBJECT, STREAM

log = structlog.get_logger("ks.audit")

BATCH = 500
# How often other processes' saves are looked for. Often, so that each seal is small: the API's
# workers store an access-log entry per request in the same file, and under load, sealing once
# a second, each seal took 75-170 ms and the slowest requests ended with it (bench/NOTES.md).
POLL_SECONDS = 0.1


class SealingError(Exception):
    """A stored event cannot be sealed: it looks tampered with; the chain is not extended."""


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Sealer:
    """Extends one chain store over one application's notification log."""

    def __init__(
        self,
        app: Application[UUID],
        store: ChainStore,
        signing_key: Ed25519PrivateKey,
        *,
        clock: Callable[[], str] = _utc_now,
    ) -> None:
        self.app = app
        self.store = store
        self.signing_key = signing_key
        self.fingerprint = signing.fingerprint(signing_key.public_key())
        self.clock = clock
        self._municipality: dict[str, str] = {}
        self._reader = QuickReader(quick_mapper(app.mapper))  # as ``ks audit verify`` reads
        self._wake: Callable[[], None] | None = None  # set while ``run_sealer`` runs
        self._sealed_elsewhere = False

    # -- links --------------------------------------------------------------------------
    def seal_pending(self) -> int:
        """Seal every stored event after the chain's head; the number of events sealed."""
        total = 0
        while True:
            head = self.store.head()
            start = head.position + 1 if head else 1
            batch = self.app.recorder.select_notifications(start=start, limit=BATCH)
            if not batch:
                return total
            links = self._links(batch, head)
            try:
                self.store.append(links, after=head)
            except DuplicateRowError:
                continue  # another sealer got there first: read its head and go on after it
            total += len(links)

    def seal_after_save(self) -> None:
        """Seal now, or wake ``run_sealer`` when it runs in this process (so that the saving
        thread, the intake's, does not wait for it). A failure is logged and left to
        ``run_sealer`` and ``ks audit verify``."""
        if self._sealed_elsewhere:
            return
        wake = self._wake
        if wake is not None:
            wake()
            return
        try:
            self.seal_pending()
        except (SealingError, PersistenceError) as e:
            log.error("audit.sealing_failed", error=str(e))

    def leave_to_sealer_process(self) -> None:
        """Saves in this process no longer seal: the sealer process of `ks run` does, woken by
        the saves they announce (and polling besides), on a core of its own."""
        self._sealed_elsewhere = True

    def _links(self, batch: Sequence[Notification], head: Head | None) -> list[Link]:
        prev = head.link_hash if head else GENESIS
        latest = self._sealed_before(batch)
        links: list[Link] = []
        sealed_at = self.clock()
        for n in batch:
            aggregate = str(n.originator_id)
            state_hash = chain.sha256(n.state)
            summary_hash = self._summary_hash(n)
            prev_in_aggregate = self._prev_in_aggregate(n, latest)
            link_body = chain.body_hash(
                aggregate=aggregate,
                version=n.originator_version,
                topic=n.topic,
                state_hash=state_hash,
                summary_hash=summary_hash,
                prev_in_aggregate=prev_in_aggregate,
                chain_format=CHAIN_FORMAT,
                sealed_at=sealed_at,
            )
            link = Link(
                position=n.id,
                aggregate=aggregate,
                version=n.originator_version,
                topic=n.topic,
                state_hash=state_hash,
                summary_hash=summary_hash,
                prev_in_aggregate=prev_in_aggregate,
                prev=prev,
                link_hash=chain.link_hash(n.id, prev, link_body),
                sealed_at=sealed_at,
                chain_format=CHAIN_FORMAT,
            )
            latest[aggregate] = link
            links.append(link)
            prev = link.link_hash
        return links

    def _sealed_before(self, batch: Sequence[Notification]) -> dict[str, Link]:
        """The sealed previous version of each aggregate whose first event in ``batch`` is not
        its first version, looked up together (one read instead of one per event)."""
        first: dict[str, int] = {}
        for n in batch:
            first.setdefault(str(n.originator_id), n.originator_version)
        wanted = [(aggregate, version - 1) for aggregate, version in first.items() if version > 1]
        return {aggregate: link for (aggregate, _), link in self.store.links_of(wanted).items()}

    def _prev_in_aggregate(self, n: Notification, latest: dict[str, Link]) -> str:
        if n.originator_version == 1:
            return GENESIS
        aggregate = str(n.originator_id)
        previous = latest.get(aggregate)
        if previous is None or previous.version != n.originator_version - 1:
            raise SealingError(
                f"event {n.originator_version} of {aggregate} (position {n.id}) has no sealed "
                "previous version; it was not written by ks-engine: sealing stops here"
            )
        return previous.link_hash

    def _summary_hash(self, n: Notification) -> str:
        if not is_case_event(n.topic):
            return chain.summary_hash(None)
        quick = self._quick_summary_hash(n)
        return quick if quick is not None else chain.summary_hash(self._summary(n))

    def _quick_summary_hash(self, n: Notification) -> str | None:
        """The summary's hash from the event's decoded JSON, without its domain event object,
        as ``ks audit verify`` recomputes it (``QuickReader``); None where the event object
        has to tell (``_summary``): an event the reader leaves to the mapper, a later event
        naming a municipality, a case whose first event this process did not seal."""
        case, version = n.originator_id, n.originator_version
        if type(case) is not UUID:
            return None
        try:
            name, attributes = self._reader.read(n.topic, n.state)
            aggregate = str(case)
            if version == 1:
                municipality = attributes["municipality"]
            elif "municipality" in attributes:
                return None
            else:
                municipality = self._municipality.get(aggregate)
            if type(municipality) is not str or not municipality:
                return None
            summary = summarise_state(name, aggregate, version, attributes, municipality)
            digest = chain.plain_summary_hash(summary)  # read from a view: no float or UUID
        except Exception:  # whatever it was: the mapper reads the event, and fails as it fails
            return None
        self._remember(aggregate, municipality)
        return digest

    def _summary(self, n: Notification) -> dict[str, Any] | None:
        if not is_case_event(n.topic):
            return None
        try:
            event = self.app.mapper.to_domain_event(n)
        except (ValueError, KeyError, TypeError, TopicError) as e:  # unreadable: tampered
            raise SealingError(
                f"the event at position {n.id} cannot be read ({type(e).__name__}); it was "
                "altered after it was stored: sealing stops here"
            ) from None
        return summarise(event, self._municipality_of(event))

    def _municipality_of(self, event: Any) -> str:
        case = str(event.originator_id)
        found = getattr(event, "municipality", None) or self._municipality.get(case)
        if found is None:
            first = next(iter(self.app.events.get(event.originator_id, lte=1)))
            found = first.municipality  # type: ignore[attr-defined]
        self._remember(case, str(found))
        return str(found)

    def _remember(self, case: str, municipality: str) -> None:
        if len(self._municipality) > 50_000:
            self._municipality.clear()
        self._municipality[case] = municipality

    # -- checkpoints ----------------------------------------------------------------------
    def checkpoint(self) -> Checkpoint | None:
        """Sign the chain's head, unless the newest checkpoint already covers it."""
        head = self.store.head()
        if head is None:
            return None
        done = self.store.checkpoints()
        if done and done[-1].position >= head.position:
            return None
        # Counted up to the head read above: a link appended meanwhile is not covered.
        events, signed_at = self.store.count(upto=head.position), self.clock()
        message = chain.checkpoint_message(head.position, head.link_hash, events, signed_at)
        made = Checkpoint(
            position=head.position,
            head=head.link_hash,
            events=events,
            signed_at=signed_at,
            key_fingerprint=self.fingerprint,
            signature=signing.sign(self.signing_key, message),
        )
        try:
            self.store.add_checkpoint(made)
        except DuplicateRowError:
            return None  # another process signed the same head
        log.info("audit.checkpoint", position=made.position, events=made.events)
        return made

    async def publish_checkpoints(self, js: JetStreamContext, timeout: float = 5.0) -> int:
        """Publish unpublished checkpoints to ``ks.events.checkpoints`` (KS_EVENTS)."""
        published = 0
        for cp in await asyncio.to_thread(self.store.unpublished_checkpoints):
            body = json.dumps(cp.as_json(), separators=(",", ":")).encode()
            await js.publish(
                CHECKPOINT_SUBJECT,
                body,
                timeout=timeout,
                stream=STREAM,
                headers={"Nats-Msg-Id": f"ks-checkpoint-{cp.position}-{cp.head[:16]}"},
            )
            await asyncio.to_thread(self.store.mark_published, cp.position)
            published += 1
        return published


async def run_sealer(
    sealer: Sealer,
    stop: asyncio.Event,
    js: JetStreamContext | None = None,
    *,
    checkpoint_seconds: float = 300.0,
    poll_seconds: float = POLL_SECONDS,
) -> None:
    """Seal, checkpoint and publish until ``stop`` is set; a last checkpoint on the way out.

    Saves in this process wake it at once; other processes' saves are found by polling.
    """
    loop = asyncio.get_running_loop()
    woken = asyncio.Event()

    def wake() -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: the next run seals it
            loop.call_soon_threadsafe(woken.set)

    sealer._wake = wake
    try:
        await _seal_until_stopped(sealer, stop, woken, js, checkpoint_seconds, poll_seconds)
    finally:
        sealer._wake = None


async def _seal_until_stopped(
    sealer: Sealer,
    stop: asyncio.Event,
    woken: asyncio.Event,
    js: JetStreamContext | None,
    checkpoint_seconds: float,
    poll_seconds: float,
) -> None:
    loop = asyncio.get_running_loop()
    last_checkpoint = loop.time()
    while True:
        stopping = stop.is_set()
        woken.clear()
        try:
            await asyncio.to_thread(sealer.seal_pending)
            if stopping or loop.time() - last_checkpoint >= checkpoint_seconds:
                await asyncio.to_thread(sealer.checkpoint)
                last_checkpoint = loop.time()
        except (SealingError, PersistenceError) as e:
            log.error("audit.sealing_failed", error=str(e))
        if js is not None:
            try:
                await sealer.publish_checkpoints(js)
            except nats.errors.Error as e:
                log.warning("audit.checkpoint_publish_failed", error=str(e) or type(e).__name__)
            raise_if_cancelled()  # the NATS client swallows a cancellation in places
        if stopping:
            return
        await _wait_any(stop, woken, poll_seconds)


async def _wait_any(stop: asyncio.Event, woken: asyncio.Event, seconds: float) -> None:
    """Wait until ``stop`` or ``woken`` is set, at most ``seconds``; never swallows a
    cancellation (``asyncio.wait_for`` on Python 3.11 can)."""
    waiters = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(woken.wait())}
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
