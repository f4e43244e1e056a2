"""`ks audit verify` over ranges of the log in worker processes, on a real SQLite file (ranges
scanned) and a real PostgreSQL server (ranges walked): the report is the one walk's report,
intact or not, whether the edit lies inside a range, on either side of a boundary between
ranges, or in the last range."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest

from adapters.persistence.postgres import connect
from ks_engine.audit import verify as verify_module
from ks_engine.audit.findings import Report
from ks_engine.audit.ranges import split
from ks_engine.audit.verify import Verifier
from ks_engine.bootstrap import Engine, bootstrap, verifying_parts
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.integration.audit_files import edit as edit_file
from tests.unit.test_projection_scenario import play

WORKERS = 3


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Any) -> Settings:
    if request.param == "sqlite":
        return Settings(data_dir=tmp_path / "data")
    return request.getfixturevalue("postgres_settings")  # type: ignore[no-any-return]


@pytest.fixture
def engine(settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    """A sealed store of many cases with two signed checkpoints."""
    engine = bootstrap(settings, clock=clock, configure_logs=False)
    for seed in (7, 8):
        play(engine.referrals, clock, seed=seed, steps=30)
        engine.audit.sealer.seal_pending()
        assert engine.audit.sealer.checkpoint() is not None
    yield engine
    engine.close()


def edit(settings: Settings, *statements: str) -> None:
    """Change the store's tables directly, as someone with access to the database could."""
    if settings.store == "postgres":
        with connect(settings, autocommit=True) as conn:
            for statement in statements:
                conn.execute(
                    statement.replace("stored_events", "referrals_events").replace(
                        "rowid", "notification_id"
                    )
                )  # type: ignore[arg-type]
        return
    edit_file(settings.data_dir, *statements)


def reports(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> tuple[Report, Report, int]:
    """The report of one walk, that of ranges in ``WORKERS`` processes, and how many ranges
    the workers walked."""
    key = engine.audit.signing_key.public_key()
    one = Verifier(engine.referrals, engine.audit.chain, [key], grace_seconds=0).verify()
    walked: list[int] = []

    def counting(real: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
        def counted(*args: Any) -> list[Any]:
            results = real(*args)
            walked.append(len(results))
            return results

        return counted

    # The ranges are scanned (SQLite) or walked (PostgreSQL), each in a worker process
    for name in ("run_ranges", "run_scans"):
        monkeypatch.setattr(verify_module, name, counting(getattr(verify_module, name)))
    ranged = Verifier(
        engine.referrals,
        engine.audit.chain,
        [key],
        grace_seconds=0,
        parts=partial(verifying_parts, engine.settings),
        workers=WORKERS,
        min_per_range=1,
    ).verify()
    return one, ranged, sum(walked)


def same(one: Report, ranged: Report) -> None:
    assert ranged.problems == one.problems
    assert (ranged.verified, ranged.checkpoints, ranged.last_position) == (
        one.verified,
        one.checkpoints,
        one.last_position,
    )


def boundaries(engine: Engine) -> list[int]:
    """The first position of each range after the first."""
    upto = engine.referrals.recorder.max_notification_id() or 0
    return [first for first, _ in split(upto, WORKERS, 1)[1:]]


def test_an_intact_store_verifies_the_same_over_ranges(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, ranged, walked = reports(engine, monkeypatch)
    assert one.intact
    assert one.verified > 100
    assert walked == WORKERS
    same(one, ranged)


EDITS: dict[str, Callable[[int], list[str]]] = {
    "altered": lambda p: [
        f"UPDATE stored_events SET originator_version = originator_version + 1000 WHERE rowid = {p}"
    ],
    "removed with its seal": lambda p: [
        f"DELETE FROM stored_events WHERE rowid = {p}",
        f"DELETE FROM audit_chain WHERE position = {p}",
    ],
    "seal rewritten": lambda p: [
        f"UPDATE audit_chain SET link_hash = '{'ab' * 32}' WHERE position = {p}"
    ],
}


@pytest.mark.parametrize("kind", sorted(EDITS))
@pytest.mark.parametrize("where", ["last of a range", "first of a range", "last range"])
def test_an_edit_at_a_range_boundary_or_in_the_last_range_is_found_as_in_one_walk(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, settings: Settings, kind: str, where: str
) -> None:
    first_of_second = boundaries(engine)[0]
    upto = engine.referrals.recorder.max_notification_id() or 0
    position = {
        "last of a range": first_of_second - 1,
        "first of a range": first_of_second,
        "last range": upto - 2,
    }[where]
    edit(settings, *EDITS[kind](position))
    one, ranged, walked = reports(engine, monkeypatch)
    assert not one.intact
    assert walked == WORKERS
    same(one, ranged)
