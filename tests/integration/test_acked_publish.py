"""JetStream publishes answered one by one on a real nats-server: kept, duplicate, refused, no
stream, and given up on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import nats
import nats.errors
import nats.js.errors
import pytest
from nats.js.api import StreamConfig

from adapters.nats.acked_publish import AckedPublisher
from adapters.nats.embedded import EmbeddedNatsServer


@pytest.fixture
async def publisher(nats_server: EmbeddedNatsServer) -> AsyncIterator[AckedPublisher]:
    """A publisher on a connection to a server with the stream R (``r.>``)."""
    nc = await nats.connect(nats_server.url)
    await nc.jetstream().add_stream(StreamConfig(name="R", subjects=["r.>"]))
    publisher = AckedPublisher(nc)
    yield publisher
    if nc.is_connected:
        await publisher.close()
        await nc.close()


async def test_many_in_flight_each_answered_with_its_own_acknowledgement(
    publisher: AckedPublisher,
) -> None:
    futures = [
        await publisher.publish(f"r.{n % 7}", str(n).encode(), {"Nats-Msg-Id": f"m{n}"})
        for n in range(1_000)
    ]
    acks = await asyncio.wait_for(asyncio.gather(*futures), 10)
    assert [a.seq for a in acks] == list(range(1, 1_001))  # each future has its own message's
    assert {a.stream for a in acks} == {"R"}
    assert not any(a.duplicate for a in acks)
    again = await publisher.publish("r.0", b"0", {"Nats-Msg-Id": "m0"})
    assert (await asyncio.wait_for(again, 5)).duplicate
    assert publisher._waiting == {}  # nothing answered is remembered


async def test_a_refusal_and_no_stream_are_errors(publisher: AckedPublisher) -> None:
    refused = await publisher.publish("r.a", b"x", {"Nats-Expected-Stream": "OTHER"})
    with pytest.raises(nats.js.errors.APIError):
        await asyncio.wait_for(refused, 5)
    nowhere = await publisher.publish("elsewhere.a", b"x", {"Nats-Msg-Id": "n1"})
    with pytest.raises(nats.js.errors.NoStreamResponseError):
        await asyncio.wait_for(nowhere, 5)


async def test_a_future_given_up_on_is_forgotten(publisher: AckedPublisher) -> None:
    given_up = await publisher.publish("r.a", b"x", {"Nats-Msg-Id": "g1"})
    given_up.cancel()
    kept = await publisher.publish("r.a", b"y", {"Nats-Msg-Id": "g2"})
    assert (await asyncio.wait_for(kept, 5)).seq == 2  # the first was stored all the same
    assert publisher._waiting == {}


async def test_a_publish_that_could_not_be_sent_is_not_waited_for(
    publisher: AckedPublisher,
) -> None:
    await asyncio.wait_for(await publisher.publish("r.a", b"x", {"Nats-Msg-Id": "s1"}), 5)
    await publisher._nc.close()
    with pytest.raises(nats.errors.ConnectionClosedError):
        await publisher.publish("r.a", b"y", {"Nats-Msg-Id": "s2"})
    assert publisher._waiting == {}
