"""A data key belongs to one case: erasing one case never destroys a key another case still
reads or seals under (merges move details, and their keys, to the case that stays open; the
coordinators' notes keep a key of their own case)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from domain.case_notes import CaseNotes, notes_id
from ks_engine.audit.replay import case_ids
from ks_engine.bootstrap import bootstrap
from ks_engine.clock import AMSTERDAM
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.unit.test_projection_scenario import play


@pytest.mark.parametrize("seed", [7, 100, 2024])
def test_no_data_key_is_held_by_two_cases_whatever_the_traffic(seed: int, tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 11, 2, 9, 30, tzinfo=AMSTERDAM))
    engine = bootstrap(
        Settings(data_dir=tmp_path, store="memory"),
        clock=clock,
        configure_logs=False,
    )
    try:
        app = engine.referrals
        play(app, clock, seed=seed, steps=1500)  # merges and erasures among the traffic
        holders: Counter[str] = Counter()
        noted = 0
        for case_id in case_ids(app):
            case = app.get_case(case_id)
            holders.update({str(p["key_id"]) for p in case.sealed_personal})
            if case.personal_erased is None and case.sealed_personal:
                assert app.personal_details(case_id).details is not None  # its keys all live
            notes = app._find(CaseNotes, notes_id(case_id), {})
            if notes is not None:  # the notes' key is their case's alone, and lives with it
                holders.update({notes.key_id})
                noted += 1
                opened = app.case_notes(case_id)
                assert opened.status == ("erased" if case.personal_erased else "present")
        assert [key for key, n in holders.items() if n > 1] == []
        assert noted > 0
    finally:
        engine.close()
