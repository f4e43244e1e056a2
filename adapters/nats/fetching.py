"""Pull-consumer fetches that return as soon as work is there.

``PullSubscription.fetch(n, timeout)`` of nats-py, when the consumer is idle, keeps its
request open until ``n`` messages arrived or ``timeout`` passed: a lone signal would wait for the
whole timeout. Here the first message is waited for alone, and the rest of the batch is taken
from what the server has without waiting longer than ``TOP_UP_SECONDS``, and not at all when the
first message's delivery says that nothing more is pending (a lone event is not held 10 ms).
"""

from __future__ import annotations

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext

TOP_UP_SECONDS = 0.01


async def fetch_batch(sub: JetStreamContext.PullSubscription, batch: int, wait: float) -> list[Msg]:
    """Up to ``batch`` messages; waits at most ``wait`` seconds for the first (empty: none)."""
    try:
        first = await sub.fetch(1, timeout=wait)
    except TimeoutError:  # nats-py raises its own subclass or the builtin, depending on when
        return []
    # The delivery says how many more the consumer holds: none, and a top-up would only wait.
    pending = first[-1].metadata.num_pending or 0
    if batch <= 1 or pending <= 0:
        return first
    try:
        more = await sub.fetch(min(batch - 1, pending), timeout=TOP_UP_SECONDS)
    except (TimeoutError, nats.errors.TimeoutError):
        more = []
    return first + more
