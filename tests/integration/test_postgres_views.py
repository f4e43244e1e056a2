"""Read models and the relay's position on a real PostgreSQL server (KS_STORE=postgres): where
they live, a server restart, and errors an operator can act on."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from adapters.nats.embedded import free_port
from adapters.persistence.postgres import connect
from adapters.persistence.postgres_views import PostgresViewDatabase
from adapters.persistence.sqlite_views import SqliteViewDatabase
from adapters.persistence.views import open_views, opened_views
from domain.deadlines import ServiceLevels
from entrypoints.cli import app as cli
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.settings import Settings
from projections.errors import ViewDatabaseError
from projections.event import ReferralEvent
from projections.read_models import NAMES, ReadModels, build_projections
from projections.store import apply_batch, checkpoints, install
from tests.conftest import FixedClock, ks_environment
from tests.postgres_server import PostgresServer
from tests.unit.test_projection_scenario import play, published, referrals


@pytest.fixture
def events(clock: FixedClock) -> list[ReferralEvent]:
    app = referrals(clock)
    play(app, clock, seed=11, steps=60)
    return published(app)


@pytest.fixture
def engine(postgres_settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    built = bootstrap(postgres_settings, clock=clock, configure_logs=False)
    yield built
    built.close()


def project(db: PostgresViewDatabase | SqliteViewDatabase, events: list[ReferralEvent]) -> None:
    for projection in build_projections(ServiceLevels()):
        apply_batch(db, projection, events)


def test_views_checkpoints_and_relay_position_live_on_the_postgres_server(
    engine: Engine, events: list[ReferralEvent], tmp_path: Path
) -> None:
    settings = engine.settings
    db = open_views(settings)
    assert isinstance(db, PostgresViewDatabase)
    views = ReadModels(db)
    project(db, events)
    position = engine.relay_position()
    position.set(40)
    position.set(12)  # a relay that restarted from an older record never moves it back

    # Read back through a plain connection to the engine's database: it is all there
    with connect(settings) as conn:
        count = conn.execute("SELECT count(*) FROM case_view").fetchone()
        tracked = conn.execute("SELECT name, stream_seq FROM projection_checkpoint").fetchall()
        relay = conn.execute("SELECT position FROM relay_position").fetchall()
    assert count is not None
    assert count[0] == len({e.case_id for e in events}) > 0
    assert dict(tracked) == dict.fromkeys(NAMES, len(events))
    assert relay == [(40,)]
    assert engine.relay_position().get() == 40
    assert views.wait_for(max(e.through for e in events), timeout=0)
    # ... and nothing went to the SQLite files of the embedded default
    assert not list(settings.data_dir.glob("*.sqlite"))
    # The embedded default still opens its SQLite file
    assert isinstance(open_views(Settings(data_dir=tmp_path / "embedded")), SqliteViewDatabase)


def test_views_carry_on_when_the_postgres_server_restarts(
    postgres_settings: Settings, postgres_server: PostgresServer, events: list[ReferralEvent]
) -> None:
    db = PostgresViewDatabase(
        postgres_settings.model_copy(update={"pg_connect_timeout_seconds": 1})
    )
    projections = build_projections(ServiceLevels())
    install(db, projections)
    for projection in projections:
        apply_batch(db, projection, events[:20])

    # Restarted: the pooled connections are broken; the next transaction gets a new one
    postgres_server.restart()
    for projection in projections:
        assert apply_batch(db, projection, events[:30]).applied == 10

    # While the server is down, the views report it in words (and the projectors wait)
    postgres_server.stop()
    try:
        with pytest.raises(ViewDatabaseError, match=r"read-model database .* unavailable"):
            checkpoints(db, NAMES)
    finally:
        postgres_server.start()

    # Back again: the views go on from their checkpoints
    for projection in projections:
        assert apply_batch(db, projection, events).applied == len(events) - 30
    assert {c.seq for c in checkpoints(db, NAMES)} == {len(events)}
    db.close()


def waiting_advisory_locks(settings: Settings) -> int:
    """How many advisory lock requests on the server are waiting (not granted)."""
    with connect(settings) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ).fetchone()
    assert row is not None
    return int(row[0])


def until_waiting(settings: Settings, count: int) -> None:
    deadline = time.monotonic() + 30
    while waiting_advisory_locks(settings) < count:
        assert time.monotonic() < deadline, f"{count} writers never queued"
        time.sleep(0.02)


def test_writers_of_one_view_queue_while_writers_of_other_views_go_ahead(
    postgres_settings: Settings,
) -> None:
    db = PostgresViewDatabase(postgres_settings)
    held, release = threading.Event(), threading.Event()
    entered: list[str] = []

    def hold() -> None:
        with db.transaction(scope="work_queue") as tx:
            tx.fetchone("SELECT 1")  # the locks are taken once a result came back
            held.set()
            release.wait(30)

    def enter(scope: str | list[str] | None, label: str) -> None:
        with db.transaction(scope=scope) as tx:
            tx.fetchone("SELECT 1")
            entered.append(label)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(30)
        other = threading.Thread(target=enter, args=("case_view", "another view"))
        other.start()
        other.join(30)
        assert entered == ["another view"]  # not held up by the work queue's writer
        same = threading.Thread(target=enter, args=("work_queue", "the same view"))
        same.start()
        until_waiting(postgres_settings, 1)
        views = ["monitoring", "work_queue", "case_view"]
        every = threading.Thread(target=enter, args=(views, "every view"))  # the projector's
        every.start()
        until_waiting(postgres_settings, 2)
        tables = threading.Thread(target=enter, args=(None, "creating tables"))
        tables.start()
        until_waiting(postgres_settings, 3)
        assert entered == ["another view"]
    finally:
        release.set()
        holder.join(30)
    same.join(30)
    every.join(30)
    tables.join(30)
    assert sorted(entered[1:]) == ["creating tables", "every view", "the same view"]
    db.close()


def test_a_wrong_password_for_the_views_is_reported_without_the_password(
    postgres_settings: Settings,
) -> None:
    wrong = postgres_settings.model_copy(update={"pg_password": SecretStr("not-the-password")})
    with pytest.raises(ViewDatabaseError) as raised:
        open_views(wrong)
    message = str(raised.value)
    assert "read-model database" in message
    assert postgres_settings.pg_dbname in message
    assert "password authentication failed" in message
    assert "not-the-password" not in message


def test_ks_stats_with_the_postgres_server_out_of_reach_says_so_in_words(
    postgres_settings: Settings, tmp_path: Path
) -> None:
    away = postgres_settings.model_copy(update={"pg_port": free_port(), "data_dir": tmp_path})
    result = CliRunner().invoke(cli, ["stats"], env=ks_environment(away))
    assert result.exit_code == 1
    assert "the read-model database is unavailable: cannot connect to PostgreSQL" in result.output
    assert f":{away.pg_port}" in result.output
    assert "Traceback" not in result.output
    assert postgres_settings.pg_password is not None
    assert postgres_settings.pg_password.get_secret_value() not in result.output


def test_views_opened_for_a_command_are_closed_after_it(postgres_settings: Settings) -> None:
    with opened_views(postgres_settings) as db:
        assert isinstance(db, PostgresViewDatabase)
        install(db, build_projections(ServiceLevels()))
        pooled = db._pool
        assert not pooled.closed
    assert pooled.closed
