"""Reading a durable pull consumer in batches that return as soon as work is there.

nats-py's ``PullSubscription.fetch(n, timeout)``, when the consumer is idle, keeps its request
open until ``n`` messages arrived or ``timeout`` passed: a lone signal would wait for the whole
timeout. So the first message is asked for alone, and the rest of the batch is taken from what
the server has without waiting longer than ``TOP_UP_SECONDS``, and not at all when the first
message's delivery says that nothing more is pending (a lone event is not held 10 ms).

nats-py's ``fetch`` also waits for each message of a batch on its own, with a task and a timer
per message: 41-47 µs of CPU per message fetched and acknowledged, against 18-21 µs here
(bench/NOTES.md). Here a plain subscription takes the deliveries as they arrive, each pull
request has a reply subject of its own, and a request is waited for once: until it brought what
it asked for, or the server ended it (no messages, request expired, a conflict), or its time
passed. A delivery that arrives after its request was given up is kept for the next fetch:
the server counts it as delivered, so it is not dropped. The server's end of an earlier request
is passed by; any other status of the current request is raised as nats-py raises it.
"""

from __future__ import annotations

import asyncio
import contextlib

import nats.errors
import orjson
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig
from nats.js.errors import APIError, NotFoundError

from adapters.nats.delivery import delivery

TOP_UP_SECONDS = 0.01
_REQUEST_ENDED = {"404", "408", "409"}  # no messages, request expired, a conflict
_HEARTBEAT = "100"


def next_messages_subject(stream: str, consumer: str) -> str:
    """Where a pull request for ``consumer``'s next messages is published."""
    return f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}"


class PullConsumer:
    """A durable pull consumer of ``stream``, read in batches (see the module docstring).
    ``subscribe`` before the first ``fetch``; ``unsubscribe`` at the end."""

    def __init__(self, nc: NATS, stream: str, durable: str) -> None:
        self._nc = nc
        self._next = next_messages_subject(stream, durable)
        self._sub: Subscription | None = None
        self._inbox = ""
        self._requests = 0
        self._reply = ""  # the current request's reply subject
        self._want = 0  # deliveries held once the current request has brought all it asked for
        self._got: list[Msg] = []  # delivered, not yet handed out
        self._status: Msg | None = None  # how the server ended the current request
        self._waiter: asyncio.Future[None] | None = None

    async def subscribe(self) -> None:
        self._inbox = self._nc.new_inbox()
        self._sub = await self._nc.subscribe(
            f"{self._inbox}.*", cb=self._take, pending_msgs_limit=-1, pending_bytes_limit=-1
        )

    async def unsubscribe(self) -> None:
        if self._sub is not None:
            sub, self._sub = self._sub, None
            await sub.unsubscribe()

    async def _take(self, msg: Msg) -> None:
        if msg.reply:
            self._got.append(msg)
        elif msg.subject == self._reply:
            status = (msg.headers or {}).get("Status")
            if status == _HEARTBEAT:
                return
            self._status = msg
        else:
            return  # the end of a request given up earlier
        waiter = self._waiter
        ended = self._status is not None or len(self._got) >= self._want
        if ended and waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _request(self, size: int, wait: float, *, no_wait: bool = False) -> None:
        """Ask for ``size`` more deliveries and wait until they are here, the server ended
        the request, or ``wait`` seconds passed."""
        self._requests += 1
        self._reply = f"{self._inbox}.{self._requests}"
        self._want = len(self._got) + size
        self._status = None
        request: dict[str, object] = {"batch": size}
        if no_wait:
            request["no_wait"] = True
        else:
            request["expires"] = max(int(wait * 1_000_000_000) - 100_000, 1)
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._nc.publish(self._next, orjson.dumps(request), reply=self._reply)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, wait)
        finally:
            self._waiter = None
        status = self._status
        if status is not None and (status.headers or {}).get("Status") not in _REQUEST_ENDED:
            raise APIError.from_msg(status)

    async def fetch(self, batch: int, wait: float) -> list[Msg]:
        """Up to ``batch`` deliveries; waits at most ``wait`` seconds for the first (empty:
        none came)."""
        if self._sub is None:
            raise nats.errors.BadSubscriptionError
        if not self._got:
            await self._request(1, wait)
            if not self._got:
                return []
        # The delivery says how many more the consumer holds: none, and a top-up would only wait.
        pending = delivery(self._got[-1]).pending
        more = min(batch - len(self._got), pending)
        if more > 0:
            await self._request(more, TOP_UP_SECONDS, no_wait=True)
        out, self._got = self._got[:batch], self._got[batch:]
        return out


async def pull_consumer(
    js: JetStreamContext,
    stream: str,
    durable: str,
    *,
    subject: str | None = None,
    config: ConsumerConfig | None = None,
) -> PullConsumer:
    """The durable consumer ``durable`` of ``stream``, subscribed to; with ``config`` it is
    made (filtered on ``subject``) when it does not exist yet, as ``js.pull_subscribe`` does."""
    if config is not None:
        try:
            await js.consumer_info(stream, durable)
        except NotFoundError:
            config.name = config.durable_name = durable
            if subject is not None and not config.filter_subjects:
                config.filter_subject = subject
            await js.add_consumer(stream, config=config)
    consumer = PullConsumer(js._nc, stream, durable)  # the connection ``js`` was made from
    await consumer.subscribe()
    return consumer
