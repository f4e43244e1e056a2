"""The relay: the event store's notification log is the outbox of stream ``KS_EVENTS``.

It reads the log in order and publishes every Referral event (index and idempotency records
stay inside) as a CloudEvent with ``Nats-Msg-Id`` = the event's id. Its position is recorded
only after the server acknowledged the publish, so a crash means publishing again, which the
stream's duplicate window absorbs; on start the relay also resumes after the last event the
stream holds, so nothing is stored twice even after the window. No gap, no duplicate.

What is published is only what ``projections.event`` names: codes and dates (no pseudonym).
With feedback on, each window's feedback to the partners who signalled goes to
``KS_FEEDBACK`` before the window's events (see ``adapters.nats.feedback``). The read of the
log is ``relay_reader``'s, the message of each event ``relay_translator``'s, the publishing of
a window ``ordered_publish``'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Protocol

import nats.errors
import structlog
from eventsourcing.persistence import PersistenceError
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from adapters.nats.events_stream import ensure_events_stream
from adapters.nats.feedback import (
    FeedbackPublisher,
    FeedbackTranslator,
    ensure_feedback_stream,
)
from adapters.nats.ordered_publish import OrderedPublisher, PublishFailed
from adapters.nats.relay_position import PositionRecord as PositionRecord  # re-exported
from adapters.nats.relay_position import RelayPosition as RelayPosition
from adapters.nats.relay_position import relay_position_path as relay_position_path
from adapters.nats.relay_translator import EventTranslator as EventTranslator  # re-exported
from adapters.nats.relay_translator import RelayError as RelayError
from adapters.nats.relay_translator import coverage as coverage
from adapters.nats.relay_translator import is_referral as is_referral
from adapters.nats.relay_windows import (
    ProcessWindows,
    StoreParts,
    ThreadWindows,
    Window,
    Windows,
    WindowTranslator,
)
from adapters.nats.stopping import raise_if_cancelled, sleep_or_stop
from ks_engine.application import Referrals
from ks_engine.partners import load_partners
from ks_engine.settings import Settings
from projections.errors import ViewDatabaseError
from projections.event import (
    REFERRAL_SUBJECTS,
    STREAM,
)


class RelayHost(Protocol):
    """What the relay needs of the engine (the composition root passes it)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def referrals(self) -> Referrals: ...

    def relay_position(self) -> PositionRecord: ...


log = structlog.get_logger("ks.relay")

POLL_SECONDS = 0.2
WINDOW = 5_000  # log positions read per round (five stored events per signal, one published)
# After a window of fewer positions than this (the relay is at the log's end, and the log
# grows by a save or two at a time), the next one, of at most this many positions, is
# translated in the relay's own process: handing a few events to the windows' processes and
# back costs more than translating them. A full one sends the next to the processes again.
SMALL_WINDOW = 250
RETRY_SECONDS = 2.0


class Relay:
    """Publishes the notification log's Referral events to KS_EVENTS, in order."""

    def __init__(
        self,
        app: Referrals,
        js: JetStreamContext,
        tracking: PositionRecord,
        *,
        publish_timeout: float = 5.0,
        resume_from_stream: bool = True,
        window: int = WINDOW,
        feedback: FeedbackTranslator | None = None,
        windows: Windows | None = None,
        after_small: Windows | None = None,
        small_window: int = SMALL_WINDOW,
    ) -> None:
        self.app = app
        self.window = window
        self.js = js
        self.tracking = tracking
        self.publish_timeout = publish_timeout
        self.resume_from_stream = resume_from_stream
        self.position = 0
        self.publisher = OrderedPublisher(
            js._nc, STREAM, REFERRAL_SUBJECTS, timeout=publish_timeout
        )
        self.feedback = (
            FeedbackPublisher(js, timeout=publish_timeout) if feedback is not None else None
        )
        self.held_already = 0  # windows the stream held whole (published again after a restart)
        self.windows: Windows = windows or ThreadWindows(WindowTranslator(app, window, feedback))
        # Where a window after one of fewer than ``small_window`` positions is made, if not
        # with the others (``SMALL_WINDOW``)
        self.after_small: Windows = after_small or self.windows
        self.small_window = small_window
        self._last_read = window  # positions the last window read: the first one as a large one
        self._ahead: dict[int, asyncio.Future[Window]] = {}  # windows read ahead, by start

    async def start(self) -> int:
        """Resume after the recorded position, or after the stream's last event if later."""
        self.position = await asyncio.to_thread(self.tracking.get)
        if self.resume_from_stream:
            # The newest Referral event: audit checkpoints share the stream on another subject.
            try:
                last = await self.js.get_msg(STREAM, subject=REFERRAL_SUBJECTS)
            except NotFoundError:
                last = None
            if last is not None:
                self.position = max(self.position, int(json.loads(last.data or b"{}")["position"]))
        if self.feedback is not None:
            await self.feedback.start()
        await self.windows.start()
        if self.after_small is not self.windows:
            await self.after_small.start()
        log.info("relay.started", position=self.position)
        return self.position

    async def publish_pending(self) -> int:
        """Publish one window of the log after the position; the number of positions read.

        The window's events are in flight together and the stream stores them in log order
        (see ``ordered_publish``); when the window is not stored whole, the position moves to
        the last of its events the stream holds and the rest is published again in the next
        round. After a full window the next windows are read (``relay_windows``) while this
        one is in flight; after one that reached the log's end they would find nothing yet,
        and would only keep the windows' processes from the next window once the log grows.
        """
        outgoing, feedback, last = await self._next_window()
        self._last_read = 0 if last is None else last - self.position
        if last is None:
            return 0
        if last - self.position >= self.window:
            self._read_ahead(last + 1)
        if self.feedback is not None:
            await self.feedback.publish(feedback)  # all of it before any of the events
        result = await self.publisher.publish(outgoing)
        self.held_already += result.held_already
        if result.failure is not None:
            if result.acknowledged:
                await self._move_to(outgoing[result.acknowledged - 1].position)
            raise result.failure
        # The stream holds every event of the window: only now move on. A window without
        # Referral events (access-log entries, index records) is not worth a write: read again
        # after a restart, it publishes nothing.
        if outgoing:
            await asyncio.to_thread(self.tracking.set, last)
        read = last - self.position
        self.position = last
        log.debug("relay.published", events=len(outgoing), position=self.position)
        return read

    async def _move_to(self, position: int) -> None:
        await asyncio.to_thread(self.tracking.set, position)
        self.position = position

    async def _next_window(self) -> Window:
        """The window after the position: the one read ahead from there if it found
        something (an empty one may be stale), else one read now."""
        wanted = self.position + 1
        for start, task in list(self._ahead.items()):
            if start < wanted and task.done():  # passed by: a window before it was not full
                del self._ahead[start]
                task.exception()  # retrieved, whatever it was: the window is not used
        ready = self._ahead.pop(wanted, None)
        if ready is not None:
            window = await ready
            if window[2] is not None:
                return window
        small = self._last_read < self.small_window
        return await (self.after_small if small else self.windows).submit(wanted)

    def _read_ahead(self, start: int) -> None:
        """Have the next windows (as many as ``windows.ahead``) from ``start`` read while this
        one is published, each from where the one before ends if that one is full (if not, it
        is passed by)."""
        for k in range(self.windows.ahead):
            at = start + k * self.window
            if at not in self._ahead:
                self._ahead[at] = self.windows.submit(at)

    async def _drop_ahead(self) -> None:
        """Wait for the windows read ahead and drop them (a reading thread cannot be
        interrupted)."""
        ahead, self._ahead = self._ahead, {}
        for task in ahead.values():
            with contextlib.suppress(Exception):
                await task

    async def run(self, stop: asyncio.Event, poll: float = POLL_SECONDS) -> None:
        """Publish until ``stop`` is set; NATS and database outages are waited out, never
        skipped (the position only moves after a window was published and recorded).

        Saves in this process, and saves other processes announce (the processes of `ks run`),
        wake the relay at once; any other save is found by polling every ``poll`` seconds.
        """
        loop = asyncio.get_running_loop()
        grown = asyncio.Event()

        def wake() -> None:
            loop.call_soon_threadsafe(grown.set)

        unlisten = self.app.on_grown(wake)
        try:
            await self._until_started(stop)
            while not stop.is_set():
                raise_if_cancelled()
                try:
                    read = await self.publish_pending()
                except PublishFailed as e:
                    if e.resumable:  # e.g. an audit checkpoint came between two events: go on
                        continue
                    log.warning("relay.publish_failed", error=str(e))
                    await sleep_or_stop(stop, RETRY_SECONDS)
                    continue
                except nats.errors.Error as e:
                    log.warning("relay.publish_failed", error=str(e) or type(e).__name__)
                    await sleep_or_stop(stop, RETRY_SECONDS)
                    continue
                except (PersistenceError, ViewDatabaseError) as e:
                    log.warning("relay.store_failed", error=type(e).__name__)
                    await sleep_or_stop(stop, RETRY_SECONDS)
                    continue
                if read < self.window:
                    await _wait_for(grown, stop, poll)
                    grown.clear()
        finally:
            unlisten()
            await self.close()

    async def close(self) -> None:
        """Let the windows being read finish, then stop their process and the publishers."""
        await self._drop_ahead()
        await self.windows.close()
        if self.after_small is not self.windows:
            await self.after_small.close()
        await self.publisher.close()
        if self.feedback is not None:
            await self.feedback.close()

    async def _until_started(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            raise_if_cancelled()
            try:
                await self.start()
                return
            except nats.errors.Error as e:
                log.warning("relay.start_failed", error=str(e) or type(e).__name__)
                await sleep_or_stop(stop, RETRY_SECONDS)
            except ViewDatabaseError as e:
                log.warning("relay.start_failed", error=type(e).__name__)
                await sleep_or_stop(stop, RETRY_SECONDS)


async def _wait_for(grown: asyncio.Event, stop: asyncio.Event, seconds: float) -> None:
    """Wait until the log grew, ``stop`` is set, or ``seconds`` passed."""
    if stop.is_set() or grown.is_set():
        return
    waiters = {asyncio.ensure_future(grown.wait()), asyncio.ensure_future(stop.wait())}
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def run_relay(
    engine: RelayHost,
    js: JetStreamContext,
    stop: asyncio.Event,
    *,
    translating: StoreParts | None = None,
) -> None:
    """Declare KS_EVENTS and relay the engine's events until ``stop`` is set; with
    ``translating`` (the store opened anew, in another process), windows of a store on disk are
    read and translated in processes of their own."""
    settings = engine.settings
    await ensure_events_stream(js, settings.nats_replicas)
    await ensure_feedback_stream(js, settings)
    if settings.store == "memory":
        log.warning("relay.memory_store", detail="positions restart with the process")
    tracking = await asyncio.to_thread(engine.relay_position)
    await relay_as_run(engine, js, tracking, translating=translating).run(stop)


def relay_as_run(
    engine: RelayHost,
    js: JetStreamContext,
    tracking: PositionRecord,
    *,
    translating: StoreParts | None = None,
) -> Relay:
    """The relay ``run_relay`` runs: with feedback to the partners, resuming after the
    stream's last event on a store that outlives the process."""
    settings = engine.settings
    durable = settings.store != "memory"
    partners = load_partners(settings.partners_path) if settings.partners_path else None
    windows: Windows | None = None
    feedback = FeedbackTranslator(engine.referrals, partners)
    after_small: Windows | None = None
    if translating is not None and durable:
        after_small = ThreadWindows(WindowTranslator(engine.referrals, SMALL_WINDOW, feedback))
        windows = ProcessWindows(
            translating,
            WINDOW,
            feedback=True,
            partners_path=settings.partners_path,
            workers=settings.relay_translators,
        )
    return Relay(
        engine.referrals,
        js,
        tracking,
        resume_from_stream=durable,
        feedback=feedback,
        windows=windows,
        after_small=after_small,
    )
