"""Fixtures of the fault tests: the engine's processes on the real cluster and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client

from tests.faults.stack import Stack
from tests.nats_cluster import NatsCluster
from tests.postgres_server import PostgresDatabase, PostgresServer


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed fault test shows what its workers warned about, since their logs are gone
    with the test's directory (a CI run keeps only this report)."""
    report = yield
    stack = getattr(item, "funcargs", {}).get("stack")
    if report.failed and isinstance(stack, Stack):
        report.sections.append(("workers' warnings and errors", stack.warnings()))
    return report


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here is a fault test: `pytest -m faults` runs them alone."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.faults)


@pytest.fixture
def stack(
    tmp_path: Path, nats_cluster: NatsCluster, postgres_database: PostgresDatabase
) -> Iterator[Stack]:
    """The engine's settings on the cluster and a fresh database; its workers stopped after."""
    engine = Stack(tmp_path / "engine", nats_cluster, postgres_database)
    yield engine
    engine.close()


@pytest.fixture
async def engine_nc(nats_cluster: NatsCluster) -> AsyncIterator[Client]:
    """The test's own connection as the engine's user, to inspect streams and consumers."""
    nc = await nats.connect(**nats_cluster.engine.connect_options())
    yield nc
    await nc.close()


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test's own, to restart without disturbing other tests."""
    with PostgresServer() as server:
        yield server
