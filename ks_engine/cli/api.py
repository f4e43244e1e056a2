"""`ks api`: the HTTP API alone, on loopback by default; and the API as a `ks run` component."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Annotated

import typer

from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.runtime import NatsLink, nats_link, stop_on_signals
from ks_engine.settings import Settings


def _quiet_server_class() -> type:
    import uvicorn

    class QuietServer(uvicorn.Server):
        """Leaves SIGINT/SIGTERM to the engine's stop event."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return QuietServer


async def serve_api(
    engine: Engine,
    link: NatsLink | None,
    stop: asyncio.Event,
    *,
    host: str | None = None,
    port: int | None = None,
) -> None:
    """Serve the API until ``stop``; signals go to NATS through ``link`` when there is one."""
    import uvicorn

    from adapters.http import create_app
    from adapters.http.nats_signals import NatsSignalGateway

    settings = engine.settings
    app = create_app(engine, signals=NatsSignalGateway(link.js) if link else None)
    config = uvicorn.Config(
        app,
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_config=None,
        access_log=False,
        lifespan="off",
    )
    server = _quiet_server_class()(config)
    serving = asyncio.create_task(server.serve())
    waiting = asyncio.create_task(stop.wait())
    await asyncio.wait([serving, waiting], return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    waiting.cancel()
    await serving


async def _serve_alone(host: str | None, port: int | None) -> None:
    engine = bootstrap()
    try:
        stop = stop_on_signals()
        if engine.settings.nats_url is None:
            typer.echo("KS_NATS_URL is not set: POST /signals answers 503 until it is")
            await serve_api(engine, None, stop, host=host, port=port)
            return
        async with nats_link(engine.settings, embedded=False) as link:
            await serve_api(engine, link, stop, host=host, port=port)
    finally:
        engine.close()


def api(
    host: Annotated[str | None, typer.Option(help="Address (default KS_API_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default KS_API_PORT)")] = None,
) -> None:
    """Serve the HTTP API alone (signals go to KS_NATS_URL when it is set)."""
    Settings()  # refuse unsafe settings before anything starts
    asyncio.run(_serve_alone(host, port))
