"""Waiting that a stop ends early, and cancellations the NATS client swallowed, for the
long-running loops (relay, projectors, and the supervisor's pause between restarts)."""

from __future__ import annotations

import asyncio


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds`` or until ``stop``; a cancellation is never swallowed (unlike
    ``asyncio.wait_for`` on Python 3.11, which can lose one that races its timeout)."""
    if stop.is_set():
        return
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({waiter}, timeout=seconds)
    finally:
        waiter.cancel()


def raise_if_cancelled() -> None:
    """Re-raise a cancellation the NATS client swallowed (it catches CancelledError in places),
    so that cancelling this task always stops it."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
