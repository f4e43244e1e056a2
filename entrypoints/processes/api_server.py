"""The HTTP API served on a listening socket in this process: by the API process itself, or by
each of its worker processes (``api_workers``)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator, MutableSequence
from typing import TYPE_CHECKING, Any

from entrypoints.processes.api_shares import CloseWhenOverShare, ConnectionShares
from ks_engine.bootstrap import Engine
from ks_engine.runtime import NatsLink
from ks_engine.supervision import StatusBoard

if TYPE_CHECKING:
    from fastapi import FastAPI

    from projections.store import ViewDatabase


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


async def serve_on_socket(
    engine: Engine,
    link: NatsLink | None,
    stop: asyncio.Event,
    sock: socket.socket,
    *,
    components: StatusBoard | None = None,
    count_receipts: bool = True,
    shares: tuple[MutableSequence[int], int] | None = None,
) -> None:
    """Serve the API in this process on the listening ``sock`` until ``stop``; with
    ``count_receipts`` (one of several workers), count the intake's receipts for /metrics;
    with ``shares`` (the workers' shared connection counts and this worker's place in them),
    let connections go while it holds more than its share (``api_shares``)."""
    import uvicorn

    from adapters.http.first_requests import prepare_first_requests
    from adapters.http.nats_signals import ReceiptCounter
    from adapters.persistence.views import close_views, open_views
    from ks_engine.heap import freeze_startup_heap

    db = None
    receipts: ReceiptCounter | None = None
    try:
        db = open_views(engine.settings)
        app = build_api(engine, link, db, components)
        if link is not None and count_receipts:
            outcomes = app.state.services.metrics.signal_outcomes
            receipts = ReceiptCounter(link.nc, lambda outcome: outcomes.labels(outcome).inc())
            await receipts.start()
        served: Any = app
        if shares is not None:
            counts, index = shares
            served = CloseWhenOverShare(
                app, ConnectionShares(counts, index, lambda: len(server.server_state.connections))
            )
        config = uvicorn.Config(
            served,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=5,
        )
        server = _quiet_server_class()(config)
        await asyncio.to_thread(engine.warm_up, opens_cases=False)
        await prepare_first_requests(app)
        freeze_startup_heap()
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
