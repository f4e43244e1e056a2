"""A pull consumer read in batches on a real nats-server: every message once, in stream order,
asking only for what the consumer holds."""

from __future__ import annotations

import nats
import orjson
import pytest
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig
from nats.js.errors import ServiceUnavailableError

from adapters.nats.embedded import EmbeddedNatsServer
from adapters.nats.fetching import pull_consumer


@pytest.mark.parametrize(("count", "batch"), [(0, 50), (1, 50), (7, 50), (500, 50), (333, 1)])
async def test_every_message_once_in_order_asking_for_what_is_held(
    nats_server: EmbeddedNatsServer, count: int, batch: int
) -> None:
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name="T", subjects=["t.>"]))
    for n in range(count):
        await js.publish(f"t.{n % 3}", str(n).encode())
    asked: list[dict[str, int]] = []  # the pull requests as the server received them

    async def spy(msg: Msg) -> None:
        asked.append(orjson.loads(msg.data))

    spy_nc = await nats.connect(nats_server.url)
    await spy_nc.subscribe("$JS.API.CONSUMER.MSG.NEXT.T.reader", cb=spy)
    await spy_nc.flush()
    config = ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, max_ack_pending=4 * batch)
    pull = await pull_consumer(js, "T", "reader", subject="t.>", config=config)
    got: list[bytes] = []
    while len(got) < count:
        msgs = await pull.fetch(batch, wait=2.0)
        assert msgs, "the consumer held messages, the fetch brought none"
        assert len(msgs) <= batch
        assert all(m.metadata.num_delivered == 1 for m in msgs)
        got += [m.data for m in msgs]
        for m in msgs:
            await m.ack()
    assert await pull.fetch(batch, wait=0.2) == []
    assert got == [str(n).encode() for n in range(count)]
    await spy_nc.flush()
    # Each fetch asked for one, then at most for what that one said was pending
    sizes = [min(batch, count - start) for start in range(0, count, batch)]
    expected = [r for size in sizes for r in ([1, size - 1] if size > 1 else [1])] + [1]
    assert [a["batch"] for a in asked] == expected  # the last: the empty fetch
    await pull.unsubscribe()
    await nc.close()
    await spy_nc.close()


async def test_a_consumer_deleted_under_the_reader_is_reported(
    nats_server: EmbeddedNatsServer,
) -> None:
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name="T", subjects=["t.>"]))
    await js.publish("t.a", b"one")
    pull = await pull_consumer(js, "T", "reader", config=ConsumerConfig())
    assert [m.data for m in await pull.fetch(10, wait=2.0)] == [b"one"]
    await js.delete_consumer("T", "reader")
    with pytest.raises(ServiceUnavailableError):  # as nats-py's own fetch reports it
        await pull.fetch(10, wait=2.0)
    await nc.close()
