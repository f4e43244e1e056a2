"""Between the processes of `ks run`: a writer announces that it saved, the relay wakes.

In one process the relay is woken by the saves it sees; apart, it would find another
process's saves only by polling. A writer process publishes an empty core NATS message on
``SUBJECT`` after each save, and the relay process wakes on it. A lost announcement costs at
most one poll interval: the relay still polls, so nothing depends on it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from ks_engine.application import Referrals

SUBJECT = "ks.engine.recorded"


def announce_saves(referrals: Referrals, nc: Client) -> Callable[[], None]:
    """Announce every save of this process on ``SUBJECT``; the function that stops it."""
    loop = asyncio.get_running_loop()
    pending = False

    async def publish() -> None:
        nonlocal pending
        pending = False  # saves after this point announce again
        with contextlib.suppress(nats.errors.Error):
            await nc.publish(SUBJECT, b"")

    def announce() -> None:  # in the saving thread
        nonlocal pending
        if not pending:  # a burst of saves is announced once
            pending = True
            loop.call_soon_threadsafe(lambda: loop.create_task(publish()))

    return referrals.on_recorded(announce)


async def wake_on_saves(referrals: Referrals, nc: Client) -> Subscription:
    """Wake this process's relay whenever another process announces a save."""

    async def woken(_: Msg) -> None:
        referrals.grown_elsewhere()

    return await nc.subscribe(SUBJECT, cb=woken)
