"""Reading a consumer in big batches without acknowledgements, on a real nats-server: every
message once and in order whatever the batch size, and a clear error when some are missing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import nats
import pytest
from nats.aio.client import Client as NATS
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig

from adapters.nats.batch_read import Message, read_batches
from adapters.nats.embedded import EmbeddedNatsServer
from projections.errors import ProjectionError

STREAM = "T_READ"


@pytest.fixture
async def nc(nats_server: EmbeddedNatsServer) -> AsyncIterator[NATS]:
    client = await nats.connect(nats_server.url)
    js = client.jetstream()
    await js.add_stream(StreamConfig(name=STREAM, subjects=["t.read.>"]))
    for n in range(1, 138):
        await js.publish(
            f"t.read.{n % 3}", f"message {n}".encode(), headers={"Nats-Msg-Id": str(n)}
        )
    yield client
    await client.close()


async def reader(nc: NATS) -> str:
    name = f"reader-{nc.new_inbox()[-8:]}"
    js = nc.jetstream()
    config = ConsumerConfig(name=name, ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL)
    await js.add_consumer(STREAM, config)
    return name


@pytest.mark.parametrize("batch", [1, 10, 64, 137, 500])
async def test_every_message_arrives_once_in_order_in_batches_of_at_most_the_size(
    nc: NATS, batch: int
) -> None:
    got: list[list[Message]] = []
    async for msgs in read_batches(nc, STREAM, await reader(nc), 137, batch=batch, timeout=5):
        got.append(msgs)
    flat = [m for msgs in got for m in msgs]
    assert [seq for _, _, seq in flat] == list(range(1, 138))
    assert [data for _, data, _ in flat] == [f"message {n}".encode() for n in range(1, 138)]
    assert [subject for subject, _, _ in flat[:3]] == ["t.read.1", "t.read.2", "t.read.0"]
    assert all(len(msgs) <= batch for msgs in got)
    assert len(got) == -(-137 // batch)


async def test_messages_the_stream_does_not_hold_end_the_read_with_an_error(nc: NATS) -> None:
    seen: list[int] = []

    async def read_all() -> None:
        async for msgs in read_batches(nc, STREAM, await reader(nc), 140, batch=50, timeout=0.5):
            seen.append(len(msgs))

    with pytest.raises(ProjectionError, match=r"T_READ delivered 137 of the 140 messages"):
        await read_all()
    assert seen == [50, 50]  # the full batches before the one that could not fill up
