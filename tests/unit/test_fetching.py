"""How a pull consumer's fetch asks and waits, against a stand-in for the NATS connection that
answers each pull request as the test scripts it (a real server: tests/integration/
test_pull_consumer.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import orjson
import pytest
from nats.aio.msg import Msg
from nats.js.errors import ServiceUnavailableError

from adapters.nats.fetching import PullConsumer

Answer = Callable[["Connection", dict[str, Any], str], Coroutine[Any, Any, None]]


class Connection:
    """Stands in for a NATS connection: one subscription, pull requests answered by
    ``answer`` (the request, its reply subject), each request recorded."""

    def __init__(self, held: int = 0, answer: Answer | None = None) -> None:
        self.held = held  # messages the consumer holds, served in stream order
        self.served = 0
        self.requests: list[dict[str, Any]] = []
        self.answer = answer or Connection.serve
        self.cb: Callable[[Msg], Awaitable[None]] | None = None

    def new_inbox(self) -> str:
        return "_INBOX.test"

    async def subscribe(self, subject: str, cb: Any, **_: Any) -> Connection:
        assert subject == "_INBOX.test.*"
        self.cb = cb
        return self

    async def unsubscribe(self) -> None:
        self.cb = None

    async def publish(self, subject: str, payload: bytes, reply: str) -> None:
        assert subject == "$JS.API.CONSUMER.MSG.NEXT.S.c"
        request = orjson.loads(payload)
        self.requests.append(request)
        asyncio.get_running_loop().create_task(self.answer(self, request, reply))

    async def deliver(self, reply: str) -> None:
        self.served += 1
        seq, pending = self.served, self.held - self.served
        ack = f"$JS.ACK.S.c.1.{seq}.{seq}.1700000000000000000.{pending}"
        assert self.cb is not None
        await self.cb(Msg(_client=self, subject=reply, reply=ack))  # type: ignore[arg-type]

    async def status(self, reply: str, code: str) -> None:
        assert self.cb is not None
        await self.cb(Msg(_client=self, subject=reply, headers={"Status": code}))  # type: ignore[arg-type]

    async def serve(self, request: dict[str, Any], reply: str) -> None:
        """As the server does: what it holds, up to the batch; then, short of the batch, the
        end of the request (no messages for ``no_wait``, else expired)."""
        n = min(request["batch"], self.held - self.served)
        for _ in range(n):
            await self.deliver(reply)
        if n < request["batch"]:
            await self.status(reply, "404" if request.get("no_wait") else "408")


async def consumer(conn: Connection) -> PullConsumer:
    pull = PullConsumer(conn, "S", "c")  # type: ignore[arg-type]
    await pull.subscribe()
    return pull


def seqs(msgs: list[Msg]) -> list[int]:
    return [m.metadata.sequence.stream for m in msgs]


@pytest.mark.parametrize(
    ("held", "batch", "asked", "got"),
    [
        (0, 200, [1], 0),  # nothing: the wait for the first ends empty
        (1, 200, [1], 1),  # a lone message: no top-up to wait for
        (5, 200, [1, 4], 5),  # the top-up asks for what is pending, not for a whole batch
        (500, 200, [1, 199], 200),  # never more than the batch
        (3, 1, [1], 1),
    ],
)
async def test_a_fetch_tops_up_only_what_is_pending(
    held: int, batch: int, asked: list[int], got: int
) -> None:
    conn = Connection(held)
    msgs = await (await consumer(conn)).fetch(batch, wait=0.5)
    assert seqs(msgs) == list(range(1, got + 1))
    assert [r["batch"] for r in conn.requests] == asked
    assert [bool(r.get("no_wait")) for r in conn.requests] == [False] + [True] * (len(asked) - 1)


async def test_the_first_request_expires_with_the_wait() -> None:
    conn = Connection(0)
    assert await (await consumer(conn)).fetch(10, wait=0.5) == []
    assert conn.requests == [{"batch": 1, "expires": 500_000_000 - 100_000}]


async def test_a_delivery_after_its_request_was_given_up_comes_with_the_next_fetch() -> None:
    async def late(conn: Connection, request: dict[str, Any], reply: str) -> None:
        if len(conn.requests) == 1:  # the first request's delivery comes after its wait
            await asyncio.sleep(0.2)
            await conn.deliver(reply)

    conn = Connection(2, late)
    pull = await consumer(conn)
    assert await pull.fetch(10, wait=0.05) == []
    # Asked again while it is on its way: it answers the second request's wait
    assert seqs(await pull.fetch(10, wait=5.0)) == [1]
    asked = len(conn.requests)
    await conn.deliver("_INBOX.test.1")  # the first request's, again after it was given up
    assert seqs(await pull.fetch(10, wait=0.05)) == [2]
    assert len(conn.requests) == asked  # it was there: nothing asked for again


async def test_the_end_of_an_earlier_request_does_not_end_the_current_one() -> None:
    replies: list[str] = []

    async def answer(conn: Connection, request: dict[str, Any], reply: str) -> None:
        replies.append(reply)
        if len(replies) == 2:  # the first request's expiry arrives while the second waits
            await conn.status(replies[0], "408")
            await asyncio.sleep(0.05)
            await conn.deliver(reply)

    conn = Connection(1, answer)
    pull = await consumer(conn)
    assert await pull.fetch(10, wait=0.01) == []
    assert seqs(await pull.fetch(10, wait=1.0)) == [1]
    assert replies[0] != replies[1]


@pytest.mark.parametrize("code", ["404", "408", "409"])
async def test_the_server_ending_the_request_ends_the_wait(code: str) -> None:
    async def ended(conn: Connection, request: dict[str, Any], reply: str) -> None:
        await conn.status(reply, code)

    pull = await consumer(Connection(0, ended))
    assert await asyncio.wait_for(pull.fetch(10, wait=30.0), 5.0) == []


async def test_a_heartbeat_does_not_end_the_request() -> None:
    async def answer(conn: Connection, request: dict[str, Any], reply: str) -> None:
        await conn.status(reply, "100")
        await asyncio.sleep(0.05)
        await conn.deliver(reply)

    assert seqs(await (await consumer(Connection(1, answer))).fetch(10, wait=1.0)) == [1]


async def test_any_other_status_is_raised() -> None:
    async def unavailable(conn: Connection, request: dict[str, Any], reply: str) -> None:
        await conn.status(reply, "503")

    pull = await consumer(Connection(0, unavailable))
    with pytest.raises(ServiceUnavailableError):
        await pull.fetch(10, wait=1.0)
