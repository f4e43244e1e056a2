"""Running the engine's long-lived components: their event loop, NATS connection, embedded
server, stop signals."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import nats
import structlog
import uvloop
from nats.aio.client import Client
from nats.js import JetStreamContext

from adapters.nats.embedded import EmbeddedNatsServer
from ks_engine.settings import Settings

log = structlog.get_logger("ks.runtime")

T = TypeVar("T")


def run_event_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to its end on uvloop, the loop every long-lived process of the engine runs
    on (as the API's workers do): libuv's sockets and timers cost the NATS clients of the
    intake, relay and projectors less of their process than asyncio's (bench/NOTES.md)."""
    return uvloop.run(main)


class NatsNotConfiguredError(Exception):
    """A component meant to run alone was started without KS_NATS_URL."""


@dataclass
class NatsLink:
    """A connection to JetStream, and the embedded server behind it when there is one."""

    nc: Client
    js: JetStreamContext
    url: str
    server: EmbeddedNatsServer | None


def nats_credentials(settings: Settings) -> dict[str, Any]:
    """``nats.connect`` keywords for KS_NATS_USER and KS_NATS_PASSWORD, when set."""
    if settings.nats_user is None:
        return {}
    password = settings.nats_password.get_secret_value() if settings.nats_password else ""
    return {"user": settings.nats_user, "password": password}


@asynccontextmanager
async def nats_link(settings: Settings, *, embedded: bool) -> AsyncIterator[NatsLink]:
    """Connect to KS_NATS_URL, or (``embedded``) start nats-server under the data directory."""
    server: EmbeddedNatsServer | None = None
    if not settings.nats_url:
        if not embedded:
            raise NatsNotConfiguredError(
                "set it to the NATS server or cluster to run this component alone (e.g. "
                "KS_NATS_URL=nats://127.0.0.1:4222); `ks run` starts an embedded server instead"
            )
        server = EmbeddedNatsServer(
            settings.nats_store_dir,
            port=settings.embedded_nats_port,
            store_key=settings.nats_store_key_text(),
            end_with_parent=True,
        )
        server.start()
        log.info("nats.embedded_started", url=server.url)
    servers = [server.url] if server else settings.nats_servers
    url = ",".join(servers)

    async def on_error(exc: Exception) -> None:
        log.warning("nats.error", error=type(exc).__name__)

    async def on_disconnect() -> None:
        log.warning("nats.disconnected", url=url)

    try:
        nc = await nats.connect(
            servers,
            name="ks-engine",
            max_reconnect_attempts=-1,
            error_cb=on_error,
            disconnected_cb=on_disconnect,
            **({} if server else nats_credentials(settings)),
        )
        try:
            yield NatsLink(nc=nc, js=nc.jetstream(), url=url, server=server)
        finally:
            # Every publish of ours awaits its ack, so nothing is in flight: close, not drain.
            await nc.close()
    finally:
        if server is not None:
            server.stop()


def stop_on_signals(deadline: float | None = None) -> asyncio.Event:
    """An event set by SIGINT or SIGTERM, for a graceful stop.

    ``deadline``: seconds after the first signal at which the process ends anyway (exit status
    1), when its graceful stop hangs with no one left to end it: a process of `ks run` whose
    parent was killed (its NATS server ended with it) must not keep running. What was not
    acknowledged is delivered again, and stored writes are whole transactions."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if deadline is not None and not stop.is_set():
            overdue = threading.Timer(deadline, _end_overdue, args=(deadline,))
            overdue.daemon = True
            overdue.start()
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    return stop


def _end_overdue(deadline: float) -> None:
    log.error("process.stop_overdue", after_seconds=deadline)
    os._exit(1)
