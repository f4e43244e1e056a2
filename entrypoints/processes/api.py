"""The API process: the HTTP API and dashboard on their listening socket. Under `ks run` its
``/ready`` reports every process of `ks run` from the status file the supervising parent
writes; `ks api` serves the API alone."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from entrypoints.processes.host import process_main
from entrypoints.processes.status_file import BoardFile
from ks_engine.bootstrap import Engine
from ks_engine.runtime import NatsLink
from ks_engine.supervision import CannotStartError, StatusBoard
from ks_engine.supervisor import Component

if TYPE_CHECKING:
    from fastapi import FastAPI

    from projections.store import ViewDatabase

STATUS_FILE = Path("run") / "components.json"
"""Where `ks run` keeps its processes' board, under the data directory."""


class ApiNotStartedError(CannotStartError):
    """The API cannot listen on its address (in use, or not an address of this machine)."""


def _quiet_server_class() -> type:
    import uvicorn

    class QuietServer(uvicorn.Server):
        """Leaves SIGINT/SIGTERM to the engine's stop event."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return QuietServer


def build_api(
    engine: Engine,
    link: NatsLink | None,
    db: ViewDatabase,
    components: StatusBoard | None = None,
) -> FastAPI:
    """The API over the engine, its read models, and (with ``link``) the signal pipeline;
    ``/ready`` and ``/metrics`` report the supervised ``components`` when given."""
    from adapters.http import create_app
    from adapters.http.nats_signals import NatsSignalGateway
    from adapters.http.ports import ReadinessCheck
    from adapters.nats.projectors import status
    from ks_engine.partners import load_partners
    from projections.read_models import ReadModels, build_projections

    settings = engine.settings
    views = ReadModels(
        db,
        levels=settings.service_levels,
        monitoring_threshold=settings.monitoring_threshold,
        expiry=settings.expiry,
    )
    if link is None:
        return create_app(engine, read_models=views, components=components)
    projections = build_projections(settings.service_levels)

    async def nats_ready() -> str | None:
        return None if link.nc.is_connected else "not connected to NATS"

    async def lag() -> dict[str, int]:
        found = await status(link.js, db, projections)
        return {s.name: s.lag for s in found if s.lag is not None}

    checks: dict[str, ReadinessCheck] = {"nats": nats_ready}
    return create_app(
        engine,
        read_models=views,
        signals=NatsSignalGateway(
            link.js,
            partners=load_partners(settings.partners_path) if settings.partners_path else None,
        ),
        readiness=checks,
        projection_lag=lag,
        components=components,
    )


def _listen(host: str, port: int) -> socket.socket:
    """The API's listening socket, bound here so that a taken port is a clear error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Named TCP explicitly: asyncio sets TCP_NODELAY only on connections of a socket whose
    # protocol says TCP; without it every answer on a kept-alive connection waited ~40 ms for
    # the client's delayed acknowledgement of the headers before its body went out.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ApiNotStartedError(
            f"the HTTP API cannot listen on {host}:{port} ({exc.strerror}); "
            "set KS_API_PORT (or KS_API_HOST) to a free address"
        ) from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve_api(
    engine: Engine,
    link: NatsLink | None,
    stop: asyncio.Event,
    *,
    host: str | None = None,
    port: int | None = None,
    components: StatusBoard | None = None,
    workers: int | None = None,
) -> None:
    """Serve the API until ``stop``; signals go to NATS through ``link`` when there is one;
    ``components`` is the board of the supervised components ``/ready`` reports. With more
    than one worker (``workers``, else KS_API_WORKERS) worker processes answer the requests
    (``api_workers``); with one, this process does."""
    settings = engine.settings
    # An in-memory store lives in this process only: its API is served from here.
    count = 1 if settings.store == "memory" else workers or settings.api_workers
    sock = _listen(host or settings.api_host, port or settings.api_port)
    try:
        if count > 1:
            from entrypoints.processes.api_workers import serve_workers

            await serve_workers(engine, link, stop, sock, count, components)
        else:
            await serve_on_socket(engine, link, stop, sock, components=components)
    finally:
        sock.close()


async def serve_on_socket(
    engine: Engine,
    link: NatsLink | None,
    stop: asyncio.Event,
    sock: socket.socket,
    *,
    components: StatusBoard | None = None,
) -> None:
    """Serve the API in this process on the listening ``sock`` until ``stop``."""
    import uvicorn

    from adapters.http.nats_signals import ReceiptCounter
    from adapters.persistence.views import close_views, open_views

    db = None
    receipts: ReceiptCounter | None = None
    try:
        db = open_views(engine.settings)
        app = build_api(engine, link, db, components)
        if link is not None:
            outcomes = app.state.services.metrics.signal_outcomes
            receipts = ReceiptCounter(link.nc, lambda outcome: outcomes.labels(outcome).inc())
            await receipts.start()
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=5,
        )
        server = _quiet_server_class()(config)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        waiting = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait([serving, waiting], return_when=asyncio.FIRST_COMPLETED)
        finally:
            server.should_exit = True
            waiting.cancel()
        await serving
    finally:
        # Everything this run opened is closed, so that a restarted API can open it anew.
        if receipts is not None:
            await receipts.stop()
        if db is not None:
            close_views(db)


def component(engine: Engine, link: NatsLink, board: StatusBoard) -> Component:
    """The API reporting ``board`` (this process's own) on ``/ready``."""
    return partial(serve_api, engine, link, components=board)


def reporting_ks_run(engine: Engine, link: NatsLink, board: StatusBoard) -> Component:
    """The API reporting the board of `ks run`'s processes on ``/ready``."""
    shared = BoardFile(engine.settings.data_dir / STATUS_FILE)
    return partial(serve_api, engine, link, components=shared)


if __name__ == "__main__":
    process_main("api", reporting_ks_run if "--in-ks-run" in sys.argv else component)
