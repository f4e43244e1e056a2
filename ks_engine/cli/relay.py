"""`ks relay`: publish the event store's Referral events to KS_EVENTS, alone in its process."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
import nats.errors
import typer
from nats.js import JetStreamContext

from adapters.nats.relay import run_relay
from ks_engine.bootstrap import bootstrap
from ks_engine.settings import Settings


def require_nats_url(settings: Settings) -> str:
    """KS_NATS_URL, or exit with a message saying how to set it."""
    if not settings.nats_url:
        typer.echo(
            "KS_NATS_URL is not set: set it to the NATS server or cluster to run this part "
            "alone (e.g. KS_NATS_URL=nats://127.0.0.1:4222); `ks run` starts everything "
            "with an embedded server instead",
            err=True,
        )
        raise typer.Exit(2)
    return settings.nats_url


@asynccontextmanager
async def jetstream(url: str) -> AsyncIterator[JetStreamContext]:
    """A JetStream context on ``url``; a clear exit when the server cannot be reached."""
    try:
        nc = await nats.connect(url, name="ks-engine", connect_timeout=5, max_reconnect_attempts=-1)
    except (OSError, nats.errors.Error) as e:
        typer.echo(f"cannot reach the NATS server in KS_NATS_URL: {e}", err=True)
        raise typer.Exit(1) from None
    try:
        yield nc.jetstream()
    finally:
        await nc.drain()


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM, for a graceful stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _relay() -> None:
    engine = bootstrap()
    try:
        url = require_nats_url(engine.settings)
        async with jetstream(url) as js:
            typer.echo("ks-engine relay running; Ctrl-C stops")
            await run_relay(engine, js, stop_on_signals())
    finally:
        engine.close()


def relay() -> None:
    """Run only the relay: Referral events from the event store to KS_EVENTS (KS_NATS_URL)."""
    asyncio.run(_relay())
