"""Subscriptions whose messages are handed over as their parts, on a real nats-server: the same
subject, reply subject and data nats-py's messages carry, a status message's headers as nats-py
reads them, and every other subscription of the connection served as before."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import nats
import orjson
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

from adapters.nats.embedded import EmbeddedNatsServer
from adapters.nats.fetching import next_messages_subject
from adapters.nats.raw_deliveries import subscribe_raw, unsubscribe_raw

Parts = tuple[str, str, bytes, dict[str, str] | None]


async def until(done: Callable[[], bool]) -> None:
    """Let the connection read for up to a second, until ``done`` (the assertions after it
    say what did not arrive)."""
    for _ in range(100):
        if done():
            return
        await asyncio.sleep(0.01)


async def test_parts_as_nats_py_reads_them_and_other_subscriptions_unchanged(
    nats_server: EmbeddedNatsServer,
) -> None:
    nc = await nats.connect(nats_server.url)
    raw: list[Parts] = []
    plain: list[Msg] = []

    async def keep(msg: Msg) -> None:
        plain.append(msg)

    await nc.subscribe("both.>", cb=keep)
    first = await subscribe_raw(nc, "both.>", lambda *parts: raw.append(parts))
    second: list[Parts] = []
    await subscribe_raw(nc, "other", lambda *parts: second.append(parts))
    before = nc.stats["in_msgs"]
    await nc.publish("both.a", b"one", reply="answer.here", headers={"Nats-Msg-Id": "x"})
    await nc.publish("both.b", b"two")
    await nc.publish("other", b"three", reply="r")
    await nc.flush()
    await until(lambda: len(plain) == 2)  # the plain subscription's task hands them over
    assert raw == [("both.a", "answer.here", b"one", None), ("both.b", "", b"two", None)]
    assert second == [("other", "r", b"three", None)]
    assert [(m.subject, m.reply, m.data) for m in plain] == [
        ("both.a", "answer.here", b"one"),
        ("both.b", "", b"two"),
    ]
    assert plain[0].headers == {"Nats-Msg-Id": "x"}
    assert nc.stats["in_msgs"] - before == 5
    await unsubscribe_raw(nc, first)
    await nc.publish("both.c", b"four")
    await nc.flush()
    await until(lambda: len(plain) == 3)
    assert len(raw) == 2  # no longer handed over
    assert [m.data for m in plain][-1] == b"four"  # the other subscription goes on
    await nc.close()


async def test_a_status_message_comes_with_the_headers_nats_py_reads(
    nats_server: EmbeddedNatsServer,
) -> None:
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name="RAW", subjects=["raw.>"]))
    await js.add_consumer("RAW", ConsumerConfig(durable_name="c", ack_policy=AckPolicy.NONE))
    raw: list[Parts] = []
    await subscribe_raw(nc, "status.raw", lambda *parts: raw.append(parts))
    plain = await nc.subscribe("status.plain")
    asked = next_messages_subject("RAW", "c")
    for inbox in ("status.raw", "status.plain"):  # nothing held: the server answers 404
        await nc.publish(asked, orjson.dumps({"batch": 1, "no_wait": True}), reply=inbox)
    read = await plain.next_msg(timeout=2)
    await nc.flush()
    await until(lambda: bool(raw))
    assert read.headers is not None
    assert read.headers["Status"] == "404"
    assert raw == [("status.raw", "", b"", read.headers)]
    await nc.close()


async def test_an_error_of_the_handler_is_reported_and_the_connection_reads_on(
    nats_server: EmbeddedNatsServer,
) -> None:
    reported: list[Exception] = []

    async def error_cb(e: Exception) -> None:
        reported.append(e)

    nc = await nats.connect(nats_server.url, error_cb=error_cb)
    got: list[bytes] = []

    def take(subject: str, reply: str, data: bytes, headers: dict[str, str] | None) -> None:
        if data == b"bad":
            raise ValueError("cannot take this one")
        got.append(data)

    await subscribe_raw(nc, "errors", take)
    for data in (b"first", b"bad", b"last"):
        await nc.publish("errors", data)
    await nc.flush()
    await until(lambda: len(got) == 2)
    assert got == [b"first", b"last"]
    assert [str(e) for e in reported] == ["cannot take this one"]
    assert nc.is_connected
    await nc.close()
