"""The HTTP API on several worker processes sharing one port (KS_API_WORKERS)."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from adapters.nats.embedded import free_port
from entrypoints.processes.api import serve_api
from entrypoints.processes.api_workers import ApiWorkerExitedError
from ks_engine.access_log import AccessLog, AccessQuery
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.principals import PrincipalRegistry, Role
from ks_engine.settings import Settings

WORKERS = 2


@dataclass
class Served:
    engine: Engine
    base: str
    token: str
    principal_id: str
    stop: asyncio.Event
    serving: asyncio.Task[None]


async def _until_up(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(1200):
            try:
                if (await client.get("/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("the API's workers did not come up")


async def _serve(settings: Settings) -> AsyncIterator[Served]:
    engine = bootstrap(settings, configure_logs=False)
    issued = PrincipalRegistry(settings.principals_file).add(
        role=Role.COORDINATOR, organisation="Knooppunt Kerkrade", municipalities=["GM0928"]
    )
    port, stop = free_port(), asyncio.Event()
    serving = asyncio.create_task(
        serve_api(engine, None, stop, host="127.0.0.1", port=port, workers=WORKERS)
    )
    try:
        await _until_up(f"http://127.0.0.1:{port}")
        yield Served(
            engine, f"http://127.0.0.1:{port}", issued.token, issued.principal.id, stop, serving
        )
    finally:
        stop.set()
        await asyncio.gather(serving, return_exceptions=True)
        engine.close()


@pytest.fixture
async def served(durable_settings: Settings) -> AsyncIterator[Served]:
    async for s in _serve(durable_settings):
        yield s


@pytest.fixture
async def served_on_sqlite(tmp_path: Path) -> AsyncIterator[Served]:
    async for s in _serve(Settings(store="sqlite", data_dir=tmp_path / "data")):
        yield s


async def test_every_answer_of_every_worker_is_access_logged_before_it_is_given(
    served: Served,
) -> None:
    assert len(multiprocessing.active_children()) == WORKERS
    headers = {"Authorization": f"Bearer {served.token}"}
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    async with httpx.AsyncClient(base_url=served.base, headers=headers, limits=limits) as client:
        answers = await asyncio.gather(*(client.get("/cases") for _ in range(60)))
    assert {a.status_code for a in answers} == {200}
    # Read as soon as the last answer arrived: each entry was stored before its answer.
    log = AccessLog(served.engine.referrals, served.engine.referrals.clock)
    entries = log.find(AccessQuery(principal_id=served.principal_id), limit=1000).entries
    assert sorted(e.request_id for e in entries) == sorted(
        a.headers["X-Request-ID"] for a in answers
    )
    assert {(e.object, e.status, e.outcome.value) for e in entries} == {
        ("GET /cases", 200, "allowed")
    }
    # The workers leave sealing to the process that started them: it seals within a second.
    newest = max(e.position or 0 for e in entries)

    async def sealed() -> bool:
        head = await asyncio.to_thread(served.engine.audit.chain.head)
        return head is not None and head.position >= newest

    for _ in range(200):
        if await sealed():
            break
        await asyncio.sleep(0.05)
    assert await sealed(), "the workers' access-log entries were not sealed"


async def test_a_worker_that_ends_ends_the_api_and_its_other_workers(
    served_on_sqlite: Served,
) -> None:
    workers = multiprocessing.active_children()
    assert len(workers) == WORKERS
    assert workers[0].pid is not None
    os.kill(workers[0].pid, signal.SIGKILL)
    with pytest.raises(ApiWorkerExitedError, match="exit code -9"):
        await asyncio.wait_for(asyncio.shield(served_on_sqlite.serving), 60)
    assert multiprocessing.active_children() == []


def _counted(exposition: str, sample: str) -> float:
    """The value of ``sample`` (name and labels, as exposed) in a Prometheus text exposition."""
    for line in exposition.splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    return 0.0


async def test_metrics_count_the_requests_of_every_worker_whichever_is_scraped(
    served_on_sqlite: Served,
) -> None:
    served = served_on_sqlite
    sample = 'ks_http_requests_total{method="GET",route="/cases",status="200"}'
    headers = {"Authorization": f"Bearer {served.token}"}
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=0)  # a new connection
    async with httpx.AsyncClient(base_url=served.base, headers=headers, limits=limits) as client:
        answers = await asyncio.gather(*(client.get("/cases") for _ in range(40)))
        assert {a.status_code for a in answers} == {200}
        # A worker counts a request once its answer is sent: the last may be counted a moment
        # after the client has it.
        for _ in range(100):
            scraped = await client.get("/metrics")
            if _counted(scraped.text, sample) == 40.0:
                break
            await asyncio.sleep(0.05)
        scraped_again = [await client.get("/metrics") for _ in range(12)]
    scrapes = [scraped, *scraped_again]
    assert [s.status_code for s in scrapes] == [200] * 13
    # Each scrape is answered by one of the workers: every one sums both workers' counts.
    assert [_counted(s.text, sample) for s in scrapes] == [40.0] * 13
    assert all("ks_projection_lag_events" in s.text for s in scrapes)
