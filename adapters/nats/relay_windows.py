"""The relay's windows: a span of the notification log read, and each case event in it
translated into its message on ``KS_EVENTS`` and the feedback it gives.

Translating is most of the relay's work per event (decrypting, decoding, the public form, the
CloudEvent's JSON) and needs no connection to NATS. ``ThreadWindows`` does it in a worker
thread of the relay's process, which shares one interpreter lock with the publishing.
``ProcessWindows`` does it in processes of their own (``KS_RELAY_TRANSLATORS``, two by
default), each with its own engine on the same store, so that the relay publishes one window
while the next ones are translated on other cores. The messages are the same either way: the
same reader and translator make them.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager, ExitStack
from multiprocessing import get_context
from pathlib import Path
from typing import Protocol

from adapters.nats.feedback import FeedbackOut, FeedbackTranslator
from adapters.nats.ordered_publish import Outgoing
from adapters.nats.relay_reader import LogReader, log_reader
from adapters.nats.relay_translator import EventTranslator
from ks_engine.application import Referrals
from ks_engine.heap import collection_paused, freeze_startup_heap
from ks_engine.partners import load_partners

PARENT_CHECK_SECONDS = 1.0  # how often the windows' process looks whether the relay is there
PEEK = 50  # read past the window to tell how far its last event's reader has seen

# The messages of a window, its feedback, and its last position (None: nothing stored there)
Window = tuple[list[Outgoing], list[FeedbackOut], int | None]
# Opens the event store in a process of its own (given by the composition root; picklable)
StoreParts = Callable[[], AbstractContextManager[Referrals]]


class WindowTranslator:
    """Reads windows of ``app``'s log and translates their case events."""

    def __init__(self, app: Referrals, window: int, feedback: FeedbackTranslator | None) -> None:
        self.window = window
        self.reader: LogReader = log_reader(app.recorder)
        self.translator = EventTranslator(app, feedback=feedback)

    def read(self, start: int) -> Window:
        """The window of the log from ``start``."""
        span = self.reader.read(start, self.window, PEEK)
        if span is None:
            return [], [], None
        self.translator.read_ahead(span.events)
        translate = self.translator.translate_with_feedback
        translated = [translate(n, t) for n, t in zip(span.events, span.through, strict=True)]
        feedback = [f for _, found in translated for f in found]
        return [message for message, _ in translated], feedback, span.end


class Windows(Protocol):
    """Where the relay has its windows read and translated."""

    ahead: int  # windows read while the relay publishes one

    async def start(self) -> None: ...

    def submit(self, start: int) -> asyncio.Future[Window]:
        """The window from ``start``, being made from now on (not from the caller's next
        ``await``: the relay reads the next window while it publishes this one)."""
        ...

    async def close(self) -> None: ...


class ThreadWindows:
    """Windows made in a worker thread of this process: one read ahead (a second one's thread
    would take the interpreter from the publishing)."""

    ahead = 1

    def __init__(self, translator: WindowTranslator) -> None:
        self.translator = translator

    async def start(self) -> None:
        return None

    def submit(self, start: int) -> asyncio.Future[Window]:
        return asyncio.get_running_loop().run_in_executor(None, self.translator.read, start)

    async def close(self) -> None:
        return None


class ProcessWindows:
    """Windows made in ``workers`` processes of their own. Should one die, the window it was
    making fails with ``BrokenProcessPool``, and with it the relay, which its supervisor starts
    again from its recorded position (with new processes). One window more than there are
    workers is read ahead, so that none waits while a window is handed over."""

    def __init__(
        self,
        parts: StoreParts,
        window: int,
        *,
        feedback: bool,
        partners_path: Path | None,
        workers: int = 1,
    ) -> None:
        self._args = (parts, window, feedback, partners_path)
        self.workers = workers
        self.ahead = workers + 1
        self.started: set[int] = set()  # the pids of the processes that answered ``start``
        self._pool: ProcessPoolExecutor | None = None

    async def start(self) -> None:
        """Start every process and open its store (it takes a second or two) before the
        first window is wanted: each answers with its pid, holding its answer a moment so that
        one already started cannot answer for another still starting."""
        loop = asyncio.get_running_loop()
        pool = self._started()
        while len(self.started) < self.workers:
            asked = [loop.run_in_executor(pool, _started_here) for _ in range(self.workers)]
            self.started.update(await asyncio.gather(*asked))

    def submit(self, start: int) -> asyncio.Future[Window]:
        made = asyncio.get_running_loop().run_in_executor(self._started(), _read_here, start)
        return asyncio.ensure_future(_received(made))

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=get_context("spawn"),
                initializer=_start_here,
                initargs=(os.getpid(), *self._args),
            )
        return self._pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        self.started = set()
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)


# In the windows' own process: its translator, and what keeps its store open.
_translator: WindowTranslator | None = None
_open = ExitStack()


def _start_here(
    relay: int, parts: StoreParts, window: int, feedback: bool, partners: Path | None
) -> None:
    global _translator
    # The relay's pid as the relay gave it: a process that starts after the relay has gone
    # (its parent then is another) ends at once rather than watch the wrong one.
    _end_with_parent(relay)
    atexit.register(_open.close)  # the store closed when the relay shuts the process down
    app = _open.enter_context(parts())
    registry = load_partners(partners) if partners else None
    _translator = WindowTranslator(
        app, window, FeedbackTranslator(app, registry) if feedback else None
    )
    freeze_startup_heap()  # the engine lives as long as the process


def _end_with_parent(parent: int) -> None:
    """End this process soon after the relay's process has gone, however it went (a killed
    process stops nothing of its own: this one would be left reading for no one)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="ks-relay-parent-watch", daemon=True).start()


START_HOLD_SECONDS = 0.05  # how long a process holds its answer to ``start``


def _started_here() -> int:
    assert _translator is not None, "the windows' process did not start"
    time.sleep(START_HOLD_SECONDS)
    return os.getpid()


# A window as it crosses between the processes: plain tuples, which pickle several times
# faster than named ones (whose pickling calls back into Python for every message).
WireWindow = tuple[
    list[tuple[str, bytes, str, int]], list[tuple[str, bytes, str, int, int]], int | None
]


def _read_here(start: int) -> WireWindow:
    assert _translator is not None, "the windows' process did not start"
    with collection_paused():  # process-wide: fine here, where nothing else runs
        messages, feedback, end = _translator.read(start)
        return (
            [(m.subject, m.payload, m.msg_id, m.position) for m in messages],
            [(*f.out, f.part) for f in feedback],
            end,
        )


async def _received(made: asyncio.Future[WireWindow]) -> Window:
    messages, feedback, end = await made
    new = tuple.__new__
    return (
        [new(Outgoing, m) for m in messages],
        [FeedbackOut(new(Outgoing, f[:4]), f[4]) for f in feedback],
        end,
    )
