"""A data key belongs to one case: erasing one case never destroys a key another case still
reads or seals under (merges move details, and their keys, to the case that stays open)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

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
        for case_id in case_ids(app):
            case = app.get_case(case_id)
            holders.update({str(p["key_id"]) for p in case.sealed_personal})
            if case.personal_erased is None and case.sealed_personal:
                assert app.personal_details(case_id).details is not None  # its keys all live
        assert [key for key, n in holders.items() if n > 1] == []
    finally:
        engine.close()
