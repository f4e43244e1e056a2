"""Two intakes on one store (the production arrangement runs two on one consumer): when the
other stores a batch between this one's question which ids exist and its commit, the store
refuses this batch, and the batch is stored together again, not signal by signal, with every
signal taking effect once, as if the other's batch had come first. Run on a real SQLite file
shared by two engines, as two intake processes share it."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.clock import AMSTERDAM
from ks_engine.settings import Settings
from ks_engine.signal_intake import SignalOutcome
from tests.conftest import FixedClock
from tests.signal_deliveries import Deliveries, keyed_batch

KEYS = 8  # key k is always about the person tests.signal_deliveries.person_of(k)
MONDAY = datetime(2026, 11, 2, 9, 30, tzinfo=AMSTERDAM)

keys = st.lists(st.integers(0, KEYS - 1), min_size=2, max_size=5)


def other_stores_first(
    engine: Engine, other: Engine, theirs: list[int]
) -> tuple[list[int], list[list[SignalOutcome]]]:
    """Let ``other`` store the batch ``theirs`` right after ``engine``'s intake has asked
    which ids exist, once: the sizes of the intake's saves (each a transaction, refused or
    not), and the other's outcomes once it has stored."""
    app = engine.referrals
    asked, saves = app._existing, []
    stored: list[list[SignalOutcome]] = []
    assert asked is not None, "an SQLite store answers which ids exist"
    raced = False

    def existing(recorder: Any, ids: Sequence[UUID]) -> set[UUID] | None:
        nonlocal raced
        found = asked(recorder, ids)
        if not raced:
            raced = True
            # Stored before this intake commits what it read.
            stored.append(other.referrals.receive_signals(keyed_batch(theirs)))
        return found

    save = app.save

    def counted(*objs: Any, **kwargs: Any) -> Any:
        saves.append(len(objs))
        return save(*objs, **kwargs)

    app._existing = existing  # type: ignore[method-assign]
    app.save = counted  # type: ignore[method-assign]
    return saves, stored


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(keys, keys), min_size=1, max_size=4))
def test_a_batch_refused_for_the_other_intakes_commit_is_stored_together_again(
    steps: list[tuple[list[int], list[int]]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings_ = Settings(store="sqlite", data_dir=Path(tmp))
        clock = FixedClock(MONDAY)
        first_intake = bootstrap(settings_, clock=clock, configure_logs=False)
        second_intake = bootstrap(settings_, clock=clock, configure_logs=False)
        try:
            model = Deliveries()
            for mine, theirs in steps:
                saves, stored_first = other_stores_first(first_intake, second_intake, theirs)
                outcomes = first_intake.referrals.receive_signals(keyed_batch(mine))
                # The other's batch committed first: the same outcomes as storing it first.
                model.expect(theirs, stored_first[0])
                model.expect(mine, outcomes)
                # At most one refused attempt, then the whole batch at once: never one by one.
                assert len(saves) <= 2, f"batch stored in {len(saves)} transactions"
                event(f"this batch stored in {len(saves)} attempts")
            model.check_kept_once(first_intake.referrals)
        finally:
            first_intake.close()
            second_intake.close()
