"""Fixtures shared by every tier: fixed clocks, settings on temporary directories, real servers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import structlog
from hypothesis import settings

from adapters.nats.embedded import EmbeddedNatsServer
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.clock import AMSTERDAM
from ks_engine.settings import Settings, new_secrets
from tests.nats_cluster import NatsCluster
from tests.postgres_server import PostgresDatabase, PostgresServer

# Tests never assert on wall-clock speed: hypothesis's per-example deadline would fail a property
# on a busy machine, not on a wrong answer.
settings.register_profile("ks", deadline=None)
settings.load_profile("ks")


def _plain_tracebacks() -> None:
    """structlog's default lines, an exception's traceback as plain text.

    Unconfigured (tests build engines with ``configure_logs=False``), structlog draws a logged
    exception's traceback with rich, every frame's local variables included: about ten seconds
    of CPU for one error logged inside the HTTP API. `ks` itself writes tracebacks as plain
    text (``format_exc_info`` in ks_engine/log.py).
    """
    structlog.configure(
        processors=[
            *structlog.get_config()["processors"][:-1],
            structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback),
        ]
    )


@pytest.fixture(autouse=True)
def plain_tracebacks() -> None:
    """Again after a test put structlog back to its defaults (``reset_defaults``)."""
    if not structlog.is_configured():
        _plain_tracebacks()


class FixedClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def ks_environment(settings: Settings) -> dict[str, str]:
    """The ``KS_*`` environment variables that give a ``ks`` process these settings' store."""
    return settings.store_environment()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 2, 9, 30, tzinfo=AMSTERDAM))  # a Monday


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[EmbeddedNatsServer]:
    """A real nats-server with JetStream, on loopback, store in the test's directory, encrypted
    at rest as `ks run` runs it."""
    key = new_secrets()["nats_store_key"]
    with EmbeddedNatsServer(tmp_path / "nats", store_key=key) as server:
        yield server


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings on the test's directory, once per event store the application runs on
    (PostgreSQL: the test's own database on the session's server)."""
    if request.param == "postgres":
        settings: Settings = request.getfixturevalue("postgres_settings")
        return settings
    return Settings(store=request.param, data_dir=tmp_path / "data")


@pytest.fixture(params=["sqlite", "postgres"])
def durable_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings on each store that outlives a process: event store, read models and relay
    position in SQLite files, or all on the test's own PostgreSQL database."""
    if request.param == "postgres":
        settings: Settings = request.getfixturevalue("postgres_settings")
        return settings
    return Settings(store="sqlite", data_dir=tmp_path / "data")


@pytest.fixture
def engine(store_settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    """The engine wired by the composition root on each store, with the test's clock."""
    built = bootstrap(store_settings, clock=clock, configure_logs=False)
    yield built
    built.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole session (fails, never skips, without binaries)."""
    with PostgresServer() as server:
        yield server


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> Iterator[PostgresDatabase]:
    """A fresh, empty database for one test, dropped afterwards."""
    database = postgres_server.create_database()
    yield database
    postgres_server.drop_database(database.dbname)


@pytest.fixture(autouse=True)
def views_databases_closed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every PostgreSQL read-model database a test opens is closed when the test ends. A pool
    left open is closed by whoever drops it last; left in a reference cycle, by the cycle
    collector, on whatever thread it happens to run - maybe the pool's own worker, which
    cannot join itself, and pytest then fails whichever test is running."""
    from adapters.persistence.postgres_views import PostgresViewDatabase

    opened: list[PostgresViewDatabase] = []
    made = PostgresViewDatabase.__init__

    def kept(self: PostgresViewDatabase, settings: Settings) -> None:
        made(self, settings)
        opened.append(self)

    monkeypatch.setattr(PostgresViewDatabase, "__init__", kept)
    yield
    for db in opened:
        db.close()


@pytest.fixture
def postgres_settings(postgres_database: PostgresDatabase, tmp_path: Path) -> Settings:
    """Settings for an engine on the test's own PostgreSQL database."""
    return Settings(data_dir=tmp_path / "data", **postgres_database.settings_fields())


@pytest.fixture
def nats_cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    """The shipped 3-node JetStream cluster (deploy/nats) on loopback, with its users."""
    with NatsCluster(tmp_path / "cluster") as cluster:
        yield cluster
