"""A worker lets a connection go (``Connection: close``) only while it holds more than its share
of the workers' connections, one at a time, and changes nothing else of the answer."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from entrypoints.processes.api_shares import (
    CLOSE_GAP_SECONDS,
    SLACK,
    CloseWhenOverShare,
    ConnectionShares,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@given(
    counts=st.lists(st.integers(0, 64), min_size=2, max_size=8),
    index=st.integers(0, 7),
    mine=st.integers(0, 64),
)
def test_a_worker_lets_go_exactly_when_over_its_share(
    counts: list[int], index: int, mine: int
) -> None:
    index %= len(counts)
    shares = ConnectionShares(counts, index, lambda: mine, Clock())
    others = sum(counts) - counts[index]
    over = mine > (others + mine) / len(counts) + SLACK
    assert shares.let_one_go() == over
    assert counts[index] == mine  # its count is written for the others


def test_one_connection_at_a_time() -> None:
    clock = Clock()
    counts = [0, 4]
    shares = ConnectionShares(counts, 0, lambda: 20, clock)
    assert shares.let_one_go()
    clock.now += CLOSE_GAP_SECONDS / 2
    assert not shares.let_one_go()  # the one let go may not have closed yet
    clock.now += CLOSE_GAP_SECONDS
    assert shares.let_one_go()


def answer(app: CloseWhenOverShare) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app({"type": "http", "method": "GET", "path": "/cases"}, receive, send))
    return sent


async def inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-a", b"1")]})
    await send({"type": "http.response.body", "body": b"{}"})


def test_the_answer_says_close_only_when_over_share() -> None:
    over = CloseWhenOverShare(inner, ConnectionShares([0, 2], 0, lambda: 30, Clock()))
    start, body = answer(over)
    assert start["headers"] == [(b"x-a", b"1"), (b"connection", b"close")]
    assert start["status"] == 200
    assert body == {"type": "http.response.body", "body": b"{}"}
    even = CloseWhenOverShare(inner, ConnectionShares([0, 16], 0, lambda: 16, Clock()))
    start, body = answer(even)
    assert start["headers"] == [(b"x-a", b"1")]
