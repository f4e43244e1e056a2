"""`ks audit verify` scans a real SQLite file quickly and walks it only when the scan finds
something: the report is the walk's report, intact or not, for a change to any column of any
row; a store with nothing changed is scanned clean (never walked), and a change the scan
cannot see is no change to the report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from adapters.persistence.audit_scan import log_rows
from ks_engine.audit import chain
from ks_engine.audit.findings import Report
from ks_engine.audit.scan import scan
from ks_engine.audit.verify import Verifier
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.settings import Settings
from tests.integration.audit_files import events_db, reseal_from
from tests.integration.test_audit_tampering import (  # noqa: F401
    CHANGES,
    change_one_row,
    copy_of,
    sealed,
)


def verifier(engine: Engine) -> Verifier:
    return Verifier(
        engine.referrals,
        engine.audit.chain,
        [engine.audit.signing_key.public_key()],
        grace_seconds=0,
    )


def scanned_clean(engine: Engine) -> bool:
    """Whether the quick scan alone finds the whole log intact."""
    rows = log_rows(engine.referrals, engine.audit.chain)
    assert rows is not None
    upto = engine.referrals.recorder.max_notification_id() or 0
    v = verifier(engine)
    with rows:
        return scan(rows, v._summary_of, 1, None, upto, set()).clean


def reports(data: Path) -> tuple[Report, Report, bool]:
    """The report as `ks audit verify` gives it, the report of the walk alone, and whether
    the scan found the log intact."""
    engine = bootstrap(Settings(data_dir=data), configure_logs=False)
    try:
        quick = verifier(engine).verify()
        walked = verifier(engine)._verify(ranged=False, grace=False, quick=False)
        return quick, walked, scanned_clean(engine)
    finally:
        engine.close()


def same(quick: Report, walked: Report) -> None:
    assert quick.problems == walked.problems
    assert (quick.verified, quick.checkpoints, quick.last_position) == (
        walked.verified,
        walked.checkpoints,
        walked.last_position,
    )


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts the walks verification makes."""
    counted: list[int] = []
    real = Verifier._walk

    def walk(self: Verifier, *args: Any) -> None:
        counted.append(1)
        real(self, *args)

    monkeypatch.setattr(Verifier, "_walk", walk)
    return counted


def test_an_intact_store_is_scanned_clean_and_never_walked(sealed: Path, walks: list[int]) -> None:  # noqa: F811
    with copy_of(sealed) as data:
        engine = bootstrap(Settings(data_dir=data), configure_logs=False)
        try:
            report = verifier(engine).verify()
            assert report.intact
            assert report.verified == engine.referrals.recorder.max_notification_id()
            assert walks == []
            assert scanned_clean(engine)
        finally:
            engine.close()


@pytest.mark.parametrize("column", sorted(CHANGES), ids="{0[0]}.{0[1]}".format)
@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pick=st.integers(min_value=0), variant=st.integers(min_value=0, max_value=41))
@example(pick=0, variant=0)
@example(pick=-1, variant=6)
def test_a_change_to_any_column_gives_the_walks_report(
    sealed: Path,  # noqa: F811
    column: tuple[str, str],
    pick: int,
    variant: int,
) -> None:
    table, _ = column
    with copy_of(sealed) as data:
        change_one_row(data, column, pick, variant)
        quick, walked, clean = reports(data)
    same(quick, walked)
    if table != "audit_checkpoints":  # a change to the log or the chain: the scan sees it
        assert not clean
        assert not quick.intact


def test_a_resealed_summary_after_the_newest_checkpoint_is_found_by_the_scan(
    sealed: Path,  # noqa: F811
) -> None:
    """A forger with the file changes the summary hash of the newest case event's seal and
    recomputes its hash (no checkpoint covers it yet): only the summary, recomputed from the
    stored event, shows it."""
    with copy_of(sealed) as data:
        with events_db(data) as db:
            db.execute(
                "DELETE FROM audit_checkpoints WHERE position ="
                " (SELECT MAX(position) FROM audit_checkpoints)"
            )
            position = db.execute(
                "SELECT position FROM audit_chain"
                " WHERE topic LIKE 'domain.referral:%' ORDER BY position DESC LIMIT 1"
            ).fetchone()[0]
            db.execute(
                "UPDATE audit_chain SET summary_hash = ? WHERE position = ?",
                (chain.sha256(b"another summary"), position),
            )
            # its link and the links after it: each continues from the one before, as the
            # forger makes it
            reseal_from(db, position)
        quick, walked, clean = reports(data)
    same(quick, walked)
    assert not clean
    assert [p.kind for p in quick.problems] == ["altered"]
    assert "summary" in quick.problems[0].message
