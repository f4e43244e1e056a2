"""A view table made before a column existed gets it when the engine starts, filled from its
rows' documents, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from adapters.persistence.postgres_views import PostgresViewDatabase
from adapters.persistence.sqlite_views import SqliteViewDatabase
from adapters.persistence.views import close_views
from domain.deadlines import ServiceLevels
from ks_engine.settings import Settings
from projections.read_models import build_projections
from projections.store import apply_batch, install
from projections.work_queue import WorkItem
from tests.conftest import FixedClock
from tests.unit.test_projection_scenario import hold, play, published, referrals


def _suspended_column(db: SqliteViewDatabase | PostgresViewDatabase) -> dict[str, str | None]:
    with db.read() as tx:
        return {
            str(r[0]): r[1] for r in tx.fetchall("SELECT case_id, suspended_until FROM work_queue")
        }


def _expected(db: SqliteViewDatabase | PostgresViewDatabase) -> dict[str, str | None]:
    with db.read() as tx:
        items = [
            WorkItem.model_validate_json(r[0]) for r in tx.fetchall("SELECT doc FROM work_queue")
        ]
    return {i.case_id: i.suspended_until.isoformat() if i.suspended_until else None for i in items}


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_a_work_queue_made_before_its_suspension_column_gets_it_filled(
    store: str, clock: FixedClock, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db: SqliteViewDatabase | PostgresViewDatabase
    if store == "postgres":
        settings: Settings = request.getfixturevalue("postgres_settings")
        db = PostgresViewDatabase(settings)
    else:
        db = SqliteViewDatabase(tmp_path / "views.sqlite")
    try:
        app = referrals(clock)
        cases = play(app, clock, seed=5, steps=200)
        rng = random.Random(1)
        for case_id in cases[::2]:  # some cases wait with a suspended deadline
            hold(app, case_id, rng)
        projections = build_projections(ServiceLevels())
        install(db, projections)
        for projection in projections:
            apply_batch(db, projection, published(app))
        expected = _expected(db)
        assert any(expected.values())
        assert not all(expected.values())
        with db.transaction() as tx:  # as the table was before the column existed
            tx.execute("ALTER TABLE work_queue DROP COLUMN suspended_until")
        install(db, projections)  # what every process does when it starts
        assert _suspended_column(db) == expected
        install(db, projections)  # and again: nothing to add
        assert _suspended_column(db) == expected
    finally:
        close_views(db)
