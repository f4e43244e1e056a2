"""`GET /cases` and `GET /cases/{id}` under concurrent coordinators, against `ks run`.

The views are filled first (signals stored through the application, relayed to KS_EVENTS and
projected), a coordinator principal is added, then `ks run` serves the API on that data while
``CLIENTS`` clients each send their share of requests one after another, each on its own
kept-alive connection (``bench.http_load``: a client light enough not to take the server's
core on a 2-core machine).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import statistics
import time
from uuid import UUID

import httpx
import nats

from adapters.nats.embedded import EmbeddedNatsServer, free_port
from adapters.nats.events_stream import ensure_events_stream
from adapters.persistence.views import open_views
from bench.growth import _fill, relay_and_rebuild
from bench.http_load import Connection, ConnectionLostError
from bench.pipeline import engine_subprocess, peak_rss_mb, settled
from ks_engine.bootstrap import bootstrap
from ks_engine.heap import freeze_startup_heap
from ks_engine.principals import PrincipalRegistry, Role
from ks_engine.settings import Settings

CLIENTS = 32


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "requests": float(len(ordered)),
    }


async def _seed(settings: Settings, url: str, cases: int) -> list[UUID]:
    engine = bootstrap(settings)
    case_ids: list[UUID] = []
    try:
        # A new signal stores two events (its case's and the matching index's), so this
        # stores about one and a half times ``cases`` cases.
        rng = random.Random(9)  # noqa: S311 - benchmark data
        await asyncio.to_thread(_fill, engine, rng, cases * 3, case_ids, itertools.count())
        nc = await nats.connect(url)
        js = nc.jetstream()
        await ensure_events_stream(js)
        await relay_and_rebuild(engine, js, open_views(settings))
        await nc.close()
    finally:
        engine.close()
    return list(dict.fromkeys(case_ids))


async def _wait_ready(client: httpx.AsyncClient, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if (await client.get("/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the API did not come up; see ks-run.log in the data directory")
        await asyncio.sleep(0.2)


async def _clients(port: int, paths: list[str], token: str) -> tuple[list[float], int]:
    """Latencies of the answered requests, and how many failed in transport (the connection
    closed before the answer): those are counted and reported, not retried or timed."""
    queue = list(paths)
    latencies: list[float] = []
    failed = 0

    async def one_client() -> None:
        nonlocal failed
        connection = Connection("127.0.0.1", port, {"Authorization": f"Bearer {token}"})
        try:
            while queue:
                path = queue.pop()
                started = time.perf_counter()
                try:
                    status, _ = await connection.get(path)
                except ConnectionLostError:
                    failed += 1
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    raise RuntimeError(f"GET {path} answered {status}")
        finally:
            await connection.close()

    await asyncio.gather(*(one_client() for _ in range(CLIENTS)))
    if failed > len(paths) // 100:
        raise RuntimeError(f"{failed} of {len(paths)} requests failed in transport")
    return latencies, failed


async def api_latency(settings: Settings, cases: int, requests: int) -> dict[str, object]:
    """p50/p99 of both queries with ``cases`` cases in the views, ``CLIENTS`` at once."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with EmbeddedNatsServer(settings.data_dir / "nats") as server:
        case_ids = await _seed(settings, server.url, cases)
        # The client's own full collections (over what seeding left) would pause every
        # request in flight and count as the API's latency.
        freeze_startup_heap()
        registry = PrincipalRegistry(settings.principals_file)
        token = registry.add(
            role=Role.COORDINATOR, organisation="Knooppunt Kerkrade", municipalities=["GM0928"]
        ).token
        port = free_port()
        with engine_subprocess(settings, server.url, KS_API_PORT=str(port)) as proc:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                await _wait_ready(client)
            await settled([proc])
            rng = random.Random(3)  # noqa: S311 - benchmark data
            queue, queue_failed = await _clients(port, ["/cases"] * requests, token)
            detail, detail_failed = await _clients(
                port, [f"/cases/{rng.choice(case_ids)}" for _ in range(requests)], token
            )
            rss = peak_rss_mb(proc.pid)
    return {
        "cases_in_views": len(case_ids),
        "clients": CLIENTS,
        "list": _percentiles(queue) | {"failed": float(queue_failed)},
        "detail": _percentiles(detail) | {"failed": float(detail_failed)},
        "peak_rss_mb": rss,
    }
