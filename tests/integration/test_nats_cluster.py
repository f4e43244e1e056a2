"""The shipped NATS cluster configuration: replicated streams survive a lost node, and the
server itself keeps partners to their own subjects."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import nats
import nats.errors
import nats.js.errors
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import PubAck, StreamConfig

from tests.nats_cluster import Credentials, NatsCluster, once_elected

MIDWIFE = "verloskunde-heuvelland"
JGZ = "jgz-zuid-limburg"
DEADLINE = 60.0  # seconds; a guard against hanging, not a speed requirement
REFUSAL_WAIT = 10.0  # seconds for the server's refusal to arrive


@asynccontextmanager
async def connected(
    credentials: Credentials, errors: asyncio.Queue[str] | None = None
) -> AsyncIterator[Client]:
    """A connection as the given user; asynchronous server errors go to ``errors``."""

    async def on_error(exc: Exception) -> None:
        if errors is not None:
            errors.put_nowait(str(exc))

    nc = await nats.connect(**credentials.connect_options(), error_cb=on_error)
    try:
        yield nc
    finally:
        await nc.close()


async def publish_until_acked(
    js: JetStreamContext, subject: str, payload: bytes, msg_id: str
) -> PubAck:
    """Publish, retrying with the same message id while the cluster fails over."""
    deadline = time.monotonic() + DEADLINE
    while True:
        try:
            return await js.publish(subject, payload, timeout=1, headers={"Nats-Msg-Id": msg_id})
        except nats.errors.Error:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


def refusal(kind: str, subject: str) -> str:
    """The server's error for a refused publish or subscription (as nats-py reports it)."""
    return f'permissions violation for {kind} to "{subject}"'.lower()


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not await check():
        assert time.monotonic() < deadline, f"never happened: {what}"
        await asyncio.sleep(0.2)


async def stored_payloads(js: JetStreamContext, stream: str, count: int) -> list[bytes]:
    """Every message of ``stream``, each read once the stream has a leader (after a node is
    lost, the remaining nodes elect leaders anew)."""

    async def read(seq: int) -> bytes:
        return (await once_elected(lambda: js.get_msg(stream, seq))).data or b""

    return [await read(seq) for seq in range(1, count + 1)]


async def test_a_stream_with_three_replicas_survives_losing_a_node(
    nats_cluster: NatsCluster,
) -> None:
    async with connected(nats_cluster.engine) as nc:
        js = nc.jetstream()
        await once_elected(
            lambda: js.add_stream(
                StreamConfig(name="KS_EVENTS", subjects=["ks.events.>"], num_replicas=3)
            )
        )
        sent = [f"event {i}".encode() for i in range(200)]

        # Half the events are stored; then the stream's leader node is lost.
        for i, payload in enumerate(sent[:100]):
            await publish_until_acked(js, "ks.events.GM0928", payload, f"event-{i}")
        placement = (await once_elected(lambda: js.stream_info("KS_EVENTS"))).cluster
        assert placement is not None
        leader = placement.leader
        assert leader is not None
        lost = nats_cluster.index_of(leader)
        await asyncio.to_thread(nats_cluster.kill, lost)

        # Publishing goes on against the two remaining nodes.
        for i, payload in enumerate(sent[100:], start=100):
            await publish_until_acked(js, "ks.events.GM0928", payload, f"event-{i}")
        info = await once_elected(lambda: js.stream_info("KS_EVENTS"))
        assert info.cluster is not None
        assert info.cluster.leader != leader
        assert info.state.messages == 200  # retried publishes were not stored twice
        assert await stored_payloads(js, "KS_EVENTS", 200) == sent

        # The lost node comes back and catches up ...
        await asyncio.to_thread(nats_cluster.restart, lost)

        async def all_replicas_current() -> bool:
            cluster = (await once_elected(lambda: js.stream_info("KS_EVENTS"))).cluster
            replicas = (cluster.replicas or []) if cluster else []
            return len(replicas) == 2 and all(r.current for r in replicas)

        await eventually(all_replicas_current, "the restarted node's replica is current")

        # ... so that losing another node still leaves every event readable.
        other = next(i for i, node in enumerate(nats_cluster.nodes) if i != lost)
        await asyncio.to_thread(nats_cluster.kill, other)
        info = await _stream_info_when_led(js, "KS_EVENTS")
        assert info.state.messages == 200
        assert await stored_payloads(js, "KS_EVENTS", 200) == sent


async def _stream_info_when_led(js: JetStreamContext, stream: str) -> nats.js.api.StreamInfo:
    deadline = time.monotonic() + DEADLINE
    while True:
        try:
            info = await js.stream_info(stream)
            if info.cluster is not None and info.cluster.leader:
                return info
        except nats.errors.Error:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.2)


async def fetch_when_led(sub: JetStreamContext.PullSubscription) -> list[Msg]:
    """One message; a new replicated consumer answers 503 until its leader is elected."""
    deadline = time.monotonic() + DEADLINE
    while True:
        try:
            return await sub.fetch(1, timeout=DEADLINE)
        except nats.js.errors.ServiceUnavailableError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def test_a_partner_may_publish_signals_and_nothing_else(nats_cluster: NatsCluster) -> None:
    errors: asyncio.Queue[str] = asyncio.Queue()
    async with (
        connected(nats_cluster.engine) as engine,
        connected(nats_cluster.partner(MIDWIFE), errors) as partner,
    ):
        engine_js = engine.jetstream()
        for name, subjects in (("KS_SIGNALS", ["ks.signals.>"]), ("KS_EVENTS", ["ks.events.>"])):
            config = StreamConfig(name=name, subjects=subjects, num_replicas=3)
            await once_elected(lambda config=config: engine_js.add_stream(config))

        # A signal reaches the engine's stream, and the partner gets the stream's ack back.
        ack = await publish_until_acked(
            partner.jetstream(), "ks.signals.GM0928", b"{}", f"https://{MIDWIFE}.nl#1"
        )
        assert (ack.stream, ack.seq, ack.duplicate) == ("KS_SIGNALS", 1, None)

        # The engine takes it from its durable pull consumer, header intact, and acks it.
        intake = await once_elected(
            lambda: engine_js.pull_subscribe("ks.signals.>", durable="intake")
        )
        [signal] = await fetch_when_led(intake)
        assert (signal.data, signal.headers) == (b"{}", {"Nats-Msg-Id": f"https://{MIDWIFE}.nl#1"})
        await signal.ack_sync()
        assert (await once_elected(intake.consumer_info)).num_ack_pending == 0

        # Anything else is refused by the server.
        refused = [
            "ks.events.GM0928",
            f"ks.receipts.GM0928.{JGZ}.forged",
            "ks.dlq.signals",
            "$JS.API.STREAM.LIST",
            "$JS.API.STREAM.PURGE.KS_SIGNALS",
        ]
        for subject in refused:
            await partner.publish(subject, b"{}")
        await partner.flush()
        violations = [await asyncio.wait_for(errors.get(), REFUSAL_WAIT) for _ in refused]
        for subject, violation in zip(refused, violations, strict=True):
            assert refusal("publish", subject) in violation.lower()

        # Nothing but the signal was stored.
        signals = await once_elected(lambda: engine_js.stream_info("KS_SIGNALS"))
        events = await once_elected(lambda: engine_js.stream_info("KS_EVENTS"))
        assert (signals.state.messages, events.state.messages) == (1, 0)


async def test_a_partner_receives_its_own_receipts_and_cannot_subscribe_to_others(
    nats_cluster: NatsCluster,
) -> None:
    # All on one node, so that the partners' subscriptions are known where the engine publishes.
    def on_first_node(credentials: Credentials) -> Credentials:
        return dataclasses.replace(credentials, servers=credentials.servers[:1])

    errors: asyncio.Queue[str] = asyncio.Queue()
    async with (
        connected(on_first_node(nats_cluster.engine)) as engine,
        connected(on_first_node(nats_cluster.partner(MIDWIFE)), errors) as midwife,
        connected(on_first_node(nats_cluster.partner(JGZ))) as jgz,
    ):
        own: asyncio.Queue[Msg] = asyncio.Queue()
        jgz_own: asyncio.Queue[Msg] = asyncio.Queue()
        snooped: asyncio.Queue[Msg] = asyncio.Queue()
        await midwife.subscribe(f"ks.receipts.*.{MIDWIFE}.>", cb=own.put)
        await jgz.subscribe(f"ks.receipts.*.{JGZ}.>", cb=jgz_own.put)

        # The midwife tries to read JGZ's receipts, all receipts, and other users' replies.
        refused = [f"ks.receipts.*.{JGZ}.>", "ks.receipts.>", "_INBOX.>", f"_INBOX.{JGZ}.>"]
        for subject in refused:
            await midwife.subscribe(subject, cb=snooped.put)
        await midwife.flush()
        await jgz.flush()
        violations = [await asyncio.wait_for(errors.get(), REFUSAL_WAIT) for _ in refused]
        for subject, violation in zip(refused, violations, strict=True):
            assert (
                f'permissions violation for subscription to "{subject}"'.lower()
                in violation.lower()
            )

        # The engine sends JGZ's receipt, then the midwife's.
        await engine.publish(f"ks.receipts.GM0928.{JGZ}.ref-1", b'{"status": "accepted"}')
        await engine.publish(f"ks.receipts.GM0928.{MIDWIFE}.ref-2", b'{"status": "accepted"}')
        await engine.flush()

        # Each partner gets its own; the midwife's refused subscriptions got nothing before it.
        mine = await asyncio.wait_for(own.get(), DEADLINE)
        assert mine.subject == f"ks.receipts.GM0928.{MIDWIFE}.ref-2"
        theirs = await asyncio.wait_for(jgz_own.get(), DEADLINE)
        assert theirs.subject == f"ks.receipts.GM0928.{JGZ}.ref-1"
        assert snooped.empty()
        assert own.empty()


async def test_a_partner_receives_feedback_on_its_own_signals_only(
    nats_cluster: NatsCluster,
) -> None:
    def on_first_node(credentials: Credentials) -> Credentials:
        return dataclasses.replace(credentials, servers=credentials.servers[:1])

    errors: asyncio.Queue[str] = asyncio.Queue()
    async with (
        connected(on_first_node(nats_cluster.engine)) as engine,
        connected(on_first_node(nats_cluster.partner(MIDWIFE)), errors) as midwife,
    ):
        own: asyncio.Queue[Msg] = asyncio.Queue()
        snooped: asyncio.Queue[Msg] = asyncio.Queue()
        await midwife.subscribe(f"ks.feedback.*.{MIDWIFE}", cb=own.put)
        refused = [f"ks.feedback.*.{JGZ}", "ks.feedback.>"]
        for subject in refused:
            await midwife.subscribe(subject, cb=snooped.put)
        await midwife.flush()
        violations = [await asyncio.wait_for(errors.get(), REFUSAL_WAIT) for _ in refused]
        for subject, violation in zip(refused, violations, strict=True):
            assert (
                f'permissions violation for subscription to "{subject}"'.lower()
                in violation.lower()
            )
        await engine.publish(f"ks.feedback.GM0928.{JGZ}", b'{"data": {"status": "accepted"}}')
        await engine.publish(f"ks.feedback.GM0928.{MIDWIFE}", b'{"data": {"status": "closed"}}')
        await engine.flush()
        mine = await asyncio.wait_for(own.get(), DEADLINE)
        assert mine.subject == f"ks.feedback.GM0928.{MIDWIFE}"
        assert snooped.empty()
        assert own.empty()


async def test_connections_without_a_known_user_and_password_are_refused(
    nats_cluster: NatsCluster,
) -> None:
    async def ignore(exc: Exception) -> None:
        pass

    partner = nats_cluster.partner(MIDWIFE)
    for user, password in (
        (None, None),
        (MIDWIFE, "not-the-password"),
        ("engine", partner.password),
    ):
        with pytest.raises(nats.errors.Error, match=r"(?i)authorization violation"):
            await nats.connect(
                servers=partner.servers[:1],
                user=user,
                password=password,
                allow_reconnect=False,
                connect_timeout=2,
                error_cb=ignore,
            )
