"""`ks api`: the HTTP API alone, on loopback by default."""

from __future__ import annotations

from typing import Annotated

import typer

from ks_engine.settings import Settings


def api(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default KS_API_HOST)")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default KS_API_PORT)")] = None,
) -> None:
    """Serve the HTTP API (commands, catalogue, access log) on the configured store."""
    import uvicorn

    from adapters.http import create_app
    from ks_engine.bootstrap import bootstrap

    settings = Settings()
    engine = bootstrap(settings)
    try:
        app = create_app(engine)
        uvicorn.run(
            app,
            host=host or settings.api_host,
            port=port or settings.api_port,
            log_config=None,
            access_log=False,
        )
    finally:
        engine.close()
