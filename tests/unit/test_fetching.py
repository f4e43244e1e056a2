"""A batch fetch tops up only when the first delivery says more messages are pending."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from adapters.nats.fetching import fetch_batch


class Subscription:
    """Stands in for a pull subscription: holds ``held`` messages, records each fetch."""

    def __init__(self, held: int) -> None:
        self.held = held
        self.fetches: list[int] = []

    async def fetch(self, batch: int, timeout: float) -> list[Any]:
        self.fetches.append(batch)
        if not self.held:
            raise TimeoutError
        n = min(batch, self.held)
        self.held -= n
        return [SimpleNamespace(metadata=SimpleNamespace(num_pending=self.held)) for _ in range(n)]


@pytest.mark.parametrize(
    ("held", "batch", "fetches", "got"),
    [
        (0, 200, [1], 0),  # nothing: the wait for the first ends empty
        (1, 200, [1], 1),  # a lone message: no top-up to wait for
        (5, 200, [1, 4], 5),  # the top-up asks for what is pending, not for a whole batch
        (500, 200, [1, 199], 200),  # never more than the batch
        (3, 1, [1], 1),
    ],
)
async def test_a_fetch_tops_up_only_what_is_pending(
    held: int, batch: int, fetches: list[int], got: int
) -> None:
    sub = Subscription(held)
    msgs = await fetch_batch(sub, batch, wait=0.5)  # type: ignore[arg-type]
    assert len(msgs) == got
    assert sub.fetches == fetches
