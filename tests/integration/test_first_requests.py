"""An API worker prepares before it serves what its first requests would otherwise build on
their way (the routers' route tables), without a request of its own reaching the log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pydantic
import pytest

from adapters.http.first_requests import prepare_first_requests
from adapters.persistence.views import close_views, open_views
from entrypoints.processes.api_server import build_api
from ks_engine.access_log import AccessQuery
from ks_engine.bootstrap import bootstrap
from ks_engine.principals import Role, registry_for
from ks_engine.settings import Settings


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Any, str]]:
    settings = Settings(data_dir=tmp_path)
    engine = bootstrap(settings)
    db = open_views(settings)
    token = (
        registry_for(settings)
        .add(role=Role.COORDINATOR, organisation="Knooppunt Kerkrade", municipalities=["GM0928"])
        .token
    )
    try:
        yield build_api(engine, None, db), token
    finally:
        close_views(db)
        engine.close()


def _adapters_built_by(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every pydantic TypeAdapter made from now on (FastAPI makes one per parameter of each
    route when it builds a router's table)."""
    built: list[object] = []
    original = pydantic.TypeAdapter.__init__

    def counting(self: pydantic.TypeAdapter[Any], *args: Any, **kwargs: Any) -> None:
        built.append(args[0] if args else kwargs.get("type"))
        original(self, *args, **kwargs)

    monkeypatch.setattr(pydantic.TypeAdapter, "__init__", counting)
    return built


async def _first_work_queue(app: Any, token: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ks") as client:
        return await client.get("/cases", headers={"Authorization": f"Bearer {token}"})


async def test_after_preparing_the_first_request_builds_no_route_table(
    served: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, token = served
    assert await prepare_first_requests(app) == 404
    built = _adapters_built_by(monkeypatch)

    answer = await _first_work_queue(app, token)

    assert answer.status_code == 200
    assert built == []


async def test_unprepared_the_first_request_builds_the_route_tables(
    served: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the preparation saves: without it, the first request builds them."""
    app, token = served
    built = _adapters_built_by(monkeypatch)

    answer = await _first_work_queue(app, token)

    assert answer.status_code == 200
    assert len(built) > 10


async def test_preparing_leaves_nothing_in_the_access_log(
    served: tuple[Any, str],
) -> None:
    app, token = served
    log = app.state.services.access_log

    def entries() -> int:
        return len(log.find(AccessQuery(), limit=1000).entries)

    await prepare_first_requests(app)
    assert entries() == 0

    assert (await _first_work_queue(app, token)).status_code == 200
    assert entries() == 1  # a request of a coordinator is logged, as ever
