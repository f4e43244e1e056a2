"""Reading a pull consumer without acknowledgements in big batches, for a rebuild.

nats-py's ``PullSubscription.fetch`` waits for each message of a batch on its own (a task and
a timer per message): that took more time than the rebuild's own work. Here a subscription
takes the messages as they arrive, as their parts (``raw_deliveries``); one pull request asks
for a whole batch, and the next batch is asked for before the current one is handed over, so
the server sends while the caller applies. Every batch asked for is one the stream holds (the
caller says how many messages it still expects), so a batch that does not fill up in time
means that messages are missing: the server ends it with a status message, or the timeout
passes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from nats.aio.client import Client as NATS

from adapters.nats.delivery import delivery_of
from adapters.nats.fetching import next_messages_subject
from adapters.nats.raw_deliveries import subscribe_raw, unsubscribe_raw
from projections.errors import ProjectionError

Message = tuple[str, bytes, int]  # subject, data, stream sequence


class _Batches:
    """Collects the delivered messages into the batches that were asked for."""

    def __init__(self) -> None:
        self.sizes: list[int] = []  # asked for, not yet complete
        self.current: list[Message] = []
        self.ready: asyncio.Queue[list[Message] | str] = asyncio.Queue()

    def take(self, subject: str, reply: str, data: bytes, headers: dict[str, str] | None) -> None:
        if not reply:  # a status message ends a pull request early (404, 408, 409)
            headers = headers or {}
            self.ready.put_nowait(
                f"{headers.get('Status', '?')} {headers.get('Description', '')}".strip()
            )
            return
        self.current.append((subject, data, delivery_of(reply).stream_seq))
        if self.sizes and len(self.current) == self.sizes[0]:
            self.sizes.pop(0)
            self.ready.put_nowait(self.current)
            self.current = []


@asynccontextmanager
async def _inbox(nc: NATS, batches: _Batches) -> AsyncIterator[str]:
    inbox = nc.new_inbox()
    sub = await subscribe_raw(nc, inbox, batches.take)
    try:
        yield inbox
    finally:
        await unsubscribe_raw(nc, sub)


async def read_batches(
    nc: NATS, stream: str, consumer: str, count: int, *, batch: int, timeout: float
) -> AsyncIterator[list[Message]]:
    """The next ``count`` messages of ``consumer`` (created without acknowledgements), in
    batches of up to ``batch``; ProjectionError when they do not all arrive."""
    batches = _Batches()
    subject = next_messages_subject(stream, consumer)
    expires = int(timeout * 1_000_000_000)
    asked = received = 0
    async with _inbox(nc, batches) as inbox:

        async def ask() -> None:
            nonlocal asked
            size = min(batch, count - asked)
            if size > 0:
                batches.sizes.append(size)
                asked += size
                request = orjson.dumps({"batch": size, "expires": expires})
                await nc.publish(subject, request, reply=inbox)

        await ask()
        await ask()  # one ahead: the server sends the next batch while this one is applied
        while received < count:
            try:
                got = await asyncio.wait_for(batches.ready.get(), timeout + 1.0)
            except TimeoutError:
                got = f"nothing for {timeout:g} seconds"
            if isinstance(got, str):
                raise ProjectionError(
                    f"{stream} delivered {received + len(batches.current)} of the {count} "
                    f"messages expected ({got})"
                )
            received += len(got)
            await ask()
            yield got
