"""`ks api`: the HTTP API alone, on loopback by default."""

from __future__ import annotations

from typing import Annotated

import typer

from entrypoints.processes.api import ApiNotStartedError, serve_api
from ks_engine.bootstrap import bootstrap
from ks_engine.runtime import nats_link, run_event_loop, stop_on_signals
from ks_engine.settings import Settings


async def _serve_alone(host: str | None, port: int | None) -> None:
    engine = bootstrap()
    try:
        stop = stop_on_signals()
        if engine.settings.nats_url is None:
            typer.echo("KS_NATS_URL is not set: POST /signals answers 503 until it is")
            await serve_api(engine, None, stop, host=host, port=port)
            return
        from adapters.nats.streams import ensure_intake_streams

        async with nats_link(engine.settings, embedded=False) as link:
            # Idempotent: the API publishes signals and follows receipts even before the intake
            # has ever started.
            await ensure_intake_streams(link.js, engine.settings)
            await serve_api(engine, link, stop, host=host, port=port)
    except ApiNotStartedError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    finally:
        engine.close()


def api(
    host: Annotated[str | None, typer.Option(help="Address (default KS_API_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default KS_API_PORT)")] = None,
) -> None:
    """Serve the HTTP API alone: queries on the read models, commands, and signals (these go
    to KS_NATS_URL when it is set)."""
    Settings()  # refuse unsafe settings before anything starts
    run_event_loop(_serve_alone(host, port))
