"""Connections spread over the API's workers by their load.

The workers accept connections on one shared socket, and clients keep a connection for many
requests: whichever worker accepted it answers all of them. Clients that connect together (a
burst after a restart, a proxy opening its pool) are split by chance, and the split holds: in
the bench's phases one worker held 61-67% of the 32 connections and answered them slower
(bench/NOTES.md). So each worker writes how many connections it holds into memory the workers
share, and a worker holding more than its share (by more than one) answers with
``Connection: close``, at most once per ``CLOSE_GAP_SECONDS``: the client connects again, and
the worker that accepts first, more likely the less busy one, gets the connection. HTTP/1.1
clients reconnect after ``Connection: close`` as they do after any closed keep-alive.
"""

from __future__ import annotations

import time
from collections.abc import Callable, MutableSequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CLOSE_GAP_SECONDS = 0.05  # a worker lets one connection go at a time (it closes after its answer)
SLACK = 1  # connections over an even share a worker keeps


class ConnectionShares:
    """This worker's place (``index``) in the workers' shared counts of open connections."""

    def __init__(
        self,
        counts: MutableSequence[int],
        index: int,
        open_connections: Callable[[], int],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.counts = counts
        self.index = index
        self.open_connections = open_connections
        self.clock = clock
        self._last_close = float("-inf")

    def let_one_go(self) -> bool:
        """Whether the connection of the request being answered should close after it."""
        mine = self.open_connections()
        self.counts[self.index] = mine
        if mine <= sum(self.counts) / len(self.counts) + SLACK:
            return False
        now = self.clock()
        if now - self._last_close < CLOSE_GAP_SECONDS:
            return False
        self._last_close = now
        return True


class CloseWhenOverShare:
    """ASGI: answers with ``Connection: close`` when this worker holds more than its share."""

    def __init__(self, app: ASGIApp, shares: ConnectionShares) -> None:
        self.app = app
        self.shares = shares

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.shares.let_one_go():
            await self.app(scope, receive, send)
            return

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), (b"connection", b"close")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, closing)
