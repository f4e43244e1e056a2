"""Publishes in flight together against a real nats-server: stored in the order sent, a
message the stream did not take keeps every later one of its window out, and the publisher
tells how far the stream holds the window from one acknowledgement and the stream's state."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import nats
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import StreamConfig

from adapters.nats.embedded import EmbeddedNatsServer
from adapters.nats.ordered_publish import OrderedPublisher, Outgoing

STREAM = "ORDERED"


@pytest.fixture
async def nc(nats_server: EmbeddedNatsServer) -> AsyncIterator[Client]:
    conn = await nats.connect(nats_server.url)
    await conn.jetstream().add_stream(
        StreamConfig(name=STREAM, subjects=["ordered.>"], duplicate_window=600)
    )
    yield conn
    await conn.close()


def message(n: int, subject: str = "ordered.x") -> Outgoing:
    return Outgoing(subject=subject, payload=str(n).encode(), msg_id=f"m-{n}", position=n)


async def stored(nc: Client) -> list[str]:
    js = nc.jetstream()
    last = (await js.stream_info(STREAM)).state.last_seq
    return [((await js.get_msg(STREAM, seq)).data or b"").decode() for seq in range(1, last + 1)]


async def test_a_window_is_stored_in_order_and_again_as_duplicates(nc: Client) -> None:
    publisher = OrderedPublisher(nc, STREAM, "ordered.x")
    window = [message(n) for n in range(300)]
    replies_before = nc.stats["in_msgs"]
    first = await publisher.publish(window)
    assert (first.acknowledged, first.held_already, first.failure) == (300, False, None)
    assert nc.stats["in_msgs"] - replies_before == 1  # one acknowledgement for the window
    again = await publisher.publish(window)
    assert (again.acknowledged, again.held_already, again.failure) == (300, True, None)
    assert await stored(nc) == [str(n) for n in range(300)]
    # A window stored in part before: the rest is stored after it, and it was not all held
    more = [message(n) for n in range(300, 310)]
    partly = await publisher.publish([*window[-5:], *more])
    assert (partly.acknowledged, partly.held_already, partly.failure) == (15, False, None)
    assert await stored(nc) == [str(n) for n in range(310)]


async def test_a_message_not_taken_keeps_the_rest_of_its_window_out(nc: Client) -> None:
    # Message 5 goes to a subject no stream takes (as when the stream has no leader)
    publisher = OrderedPublisher(nc, STREAM, "ordered.x", timeout=2.0)
    window = [message(n) for n in range(10)]
    window[5] = message(5, subject="nowhere.x")
    result = await publisher.publish(window)
    assert result.acknowledged == 5
    assert result.failure is not None
    assert await stored(nc) == [str(n) for n in range(5)]
    # Published again from there while message 5 is still not taken: nothing more is stored,
    # and the failure is not one to publish on from at once (the relay waits before again)
    still = await publisher.publish(window[5:])
    assert still.acknowledged == 0
    assert still.failure is not None
    assert not still.failure.resumable
    assert await stored(nc) == [str(n) for n in range(5)]
    # Published again from there, the stream holds every message once, in order
    window[5] = message(5)
    again = await publisher.publish(window[5:])
    assert (again.acknowledged, again.failure) == (5, None)
    assert await stored(nc) == [str(n) for n in range(10)]


async def test_another_publishers_message_in_between_is_told_apart(nc: Client) -> None:
    publisher = OrderedPublisher(nc, STREAM, "ordered.x")
    assert (await publisher.publish([message(0)])).failure is None
    await nc.jetstream().publish("ordered.other", b"other", headers={"Nats-Msg-Id": "other"})
    # The window starts with the duplicate 0; 1 must follow 0 directly, and does not
    result = await publisher.publish([message(0), message(1)])
    assert result.acknowledged == 1
    assert result.failure is not None
    assert result.failure.resumable
    # A new window starts without naming a predecessor
    assert (await publisher.publish([message(1), message(2)])).failure is None
    assert await stored(nc) == ["0", "other", "1", "2"]


_streams = itertools.count()


async def settled_last_seq(js: JetStreamContext, name: str) -> int:
    """The stream's last sequence once it stopped changing (messages sent without an
    acknowledgement may still be on their way in)."""
    last = -1
    while True:
        now = (await js.stream_info(name)).state.last_seq
        if now == last:
            return now
        last = now
        await asyncio.sleep(0.2)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    size=st.integers(min_value=1, max_value=40),
    lost=st.sets(st.integers(min_value=0, max_value=39), max_size=4),
)
def test_any_losses_leave_the_stream_a_prefix_then_complete_it(
    nats_server: EmbeddedNatsServer, size: int, lost: set[int]
) -> None:
    asyncio.run(_losses_then_again(nats_server.url, size, lost))


async def _losses_then_again(url: str, size: int, lost: set[int]) -> None:
    conn = await nats.connect(url)
    try:
        js = conn.jetstream()
        name = f"P{next(_streams)}"
        await js.add_stream(StreamConfig(name=name, subjects=[f"{name}.>"], duplicate_window=600))
        publisher = OrderedPublisher(conn, name, f"{name}.>", timeout=2.0)
        wanted = [Outgoing(f"{name}.x", str(n).encode(), f"{name}-{n}", n) for n in range(size)]
        # Messages sent where no stream takes them stand for publishes the stream lost
        sent = [
            Outgoing("nowhere.x", o.payload, o.msg_id, o.position) if n in lost else o
            for n, o in enumerate(wanted)
        ]
        result = await publisher.publish(sent)
        first_lost = min((n for n in lost if n < size), default=size)
        if size - 1 in lost:
            # The last message's "no responders" comes from the server, not the stream, and
            # may overtake messages still on their way in: never more than the stream will hold
            assert result.acknowledged <= first_lost
        else:
            # The last message's answer comes from the stream, after every message before it
            assert result.acknowledged == first_lost
        assert await settled_last_seq(js, name) == first_lost
        # The relay's way on: again from the first one not acknowledged, now deliverable
        again = await publisher.publish(wanted[result.acknowledged :])
        assert again.failure is None
        last = (await js.stream_info(name)).state.last_seq
        payloads = [(await js.get_msg(name, seq)).data for seq in range(1, last + 1)]
        assert payloads == [o.payload for o in wanted]
    finally:
        await conn.close()
