"""The relay's windows read ahead, for any growth of the log, window size, depth of reading
ahead and failed publishes: every case event is published, in order, and no window read ahead
is used for a stretch of the log other than the one after the relay's position.

The log, the windows (made when asked for, from the log as it then is: as stale as a window
read ahead can be) and the stream are stand-ins; ``tests/integration/test_relay*.py`` run the
relay on a real store and nats-server."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.nats.ordered_publish import Outgoing, PublishFailed, WindowResult
from adapters.nats.relay import Relay
from adapters.nats.relay_windows import Window


@dataclass
class Log:
    """Stored events: for each position (from 1), whether it is a case event."""

    cases: list[bool] = field(default_factory=list)


@dataclass
class Windows:
    log: Log
    size: int
    ahead: int
    asked: list[int] = field(default_factory=list)

    async def start(self) -> None:
        return None

    def submit(self, start: int) -> asyncio.Future[Window]:
        self.asked.append(start)
        made: asyncio.Future[Window] = asyncio.get_running_loop().create_future()
        highest = len(self.log.cases)
        if highest < start:
            made.set_result(([], [], None))
            return made
        end = min(start + self.size - 1, highest)
        messages = [
            Outgoing("s", b"", str(p), p) for p in range(start, end + 1) if self.log.cases[p - 1]
        ]
        made.set_result((messages, [], end))
        return made

    async def close(self) -> None:
        return None


@dataclass
class Stream:
    """Acknowledges the first ``acks[i]`` messages of the i-th window (all when beyond)."""

    acks: list[int]
    stored: list[int] = field(default_factory=list)
    windows: int = 0

    async def publish(self, messages: list[Outgoing]) -> WindowResult:
        allowed = self.acks[self.windows] if self.windows < len(self.acks) else len(messages)
        self.windows += 1
        taken = messages[: min(allowed, len(messages))]
        self.stored.extend(m.position for m in taken)
        if len(taken) < len(messages):
            return WindowResult(len(taken), 0, PublishFailed("not acknowledged"))
        return WindowResult(len(taken), False, None)

    async def close(self) -> None:
        return None


class Position:
    def __init__(self) -> None:
        self.value = 0

    def get(self) -> int:
        return self.value

    def set(self, position: int) -> None:
        self.value = position


async def relay_over(
    growth: list[list[bool]],
    size: int,
    ahead: int,
    acks: list[int],
    small: Windows | None = None,
    small_window: int = 0,
) -> tuple[Log, Stream, Windows]:
    log, stream = Log(), Stream(acks)
    windows = Windows(log, size, ahead)
    if small is not None:
        small.log = log
    relay = Relay(
        SimpleNamespace(),  # type: ignore[arg-type]  # the windows stand in for the store
        SimpleNamespace(_nc=None),  # type: ignore[arg-type]
        Position(),
        resume_from_stream=False,
        window=size,
        windows=windows,
        after_small=small,
        small_window=small_window,
    )
    relay.publisher = stream  # type: ignore[assignment]
    await relay.start()

    async def publish() -> Any:
        try:
            return await relay.publish_pending()
        except PublishFailed:
            return 1  # a failed publish: try again, as the relay's run does

    for grown in growth:
        log.cases.extend(grown)
        await publish()
    for _ in range(10 * (len(log.cases) + len(acks)) + 10):  # drain; bounded, to fail, not hang
        if not await publish():
            break
    return log, stream, windows


growths = st.lists(st.lists(st.booleans(), max_size=12), max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    growth=growths,
    size=st.integers(1, 7),
    ahead=st.integers(1, 3),
    acks=st.lists(st.integers(0, 4), max_size=6),
)
def test_every_case_event_is_published_once_in_order(
    growth: list[list[bool]], size: int, ahead: int, acks: list[int]
) -> None:
    log, stream, _ = asyncio.run(relay_over(growth, size, ahead, acks))
    # What failed was published again, what was acknowledged never: each once, in order.
    assert stream.stored == [p for p, case in enumerate(log.cases, start=1) if case]


@settings(max_examples=300, deadline=None)
@given(
    growth=growths,
    size=st.integers(1, 7),
    small_size=st.integers(1, 7),
    small_window=st.integers(0, 8),
    acks=st.lists(st.integers(0, 4), max_size=6),
)
def test_windows_after_small_ones_made_elsewhere_publish_every_case_event_once_in_order(
    growth: list[list[bool]], size: int, small_size: int, small_window: int, acks: list[int]
) -> None:
    small = Windows(Log(), small_size, 1)
    log, stream, _ = asyncio.run(relay_over(growth, size, 2, acks, small, small_window))
    # What failed was published again, what was acknowledged never: each once, in order.
    assert stream.stored == [p for p, case in enumerate(log.cases, start=1) if case]


def test_windows_are_read_ahead_as_deep_as_the_windows_ask() -> None:
    _, stream, windows = asyncio.run(relay_over([[True] * 20], 4, 3, []))
    # The first window is read when wanted; after it, three ahead, and on from there.
    assert windows.asked[:4] == [1, 5, 9, 13]
    assert stream.stored == list(range(1, 21))


def test_no_window_is_read_ahead_after_one_that_reached_the_logs_end() -> None:
    # Given a log of six events and windows of four: the first is full, the second is not
    _, stream, windows = asyncio.run(relay_over([[True] * 6], 4, 3, []))
    # Then windows are read ahead after the first only (from 5, 9 and 13), and after the
    # second (5 and 6) the relay asks for the window from 7 only when it looks again
    assert windows.asked == [1, 5, 9, 13, 7]
    assert stream.stored == list(range(1, 7))


def test_a_window_after_a_small_one_is_made_where_small_ones_are_until_one_is_full() -> None:
    # Given windows of eight, and of three after a window of fewer than three positions
    small = Windows(Log(), 3, 1)
    _, stream, windows = asyncio.run(
        relay_over([[True] * 2, [True] * 2, [True] * 10], 8, 1, [], small, 3)
    )
    # Then the first window (1-2) is an ordinary one; the two after it come from the small
    # windows (3-4; then 5-7, full), and the next ones are ordinary again (8-14, then none)
    assert small.asked == [3, 5]
    assert windows.asked == [1, 8, 15]
    assert stream.stored == list(range(1, 15))
