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
from tests.referral_builders import BSN_A, BSN_B, BSN_C, make_signal, partner_ctx

PEOPLE = (BSN_A, BSN_B, BSN_C)
KEYS = 8  # key k is always about PEOPLE[k % 3]
MONDAY = datetime(2026, 11, 2, 9, 30, tzinfo=AMSTERDAM)

keys = st.lists(st.integers(0, KEYS - 1), min_size=2, max_size=5)


def batch_of(arg: Sequence[int]) -> list[Any]:
    signals = [make_signal(PEOPLE[k % 3], key=f"partner#{k}") for k in arg]
    return [(s, partner_ctx(s)) for s in signals]


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
            stored.append(other.referrals.receive_signals(batch_of(theirs)))
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
            first: dict[int, UUID] = {}  # key -> the case its first delivery opened or joined
            person_case: dict[int, UUID] = {}  # person -> their case (none is closed here)

            def expect(arg: list[int], outcomes: list[SignalOutcome]) -> None:
                for k, outcome in zip(arg, outcomes, strict=True):
                    assert outcome.refusal is None
                    assert outcome.case_id is not None
                    if k in first:
                        assert outcome.duplicate, f"signal {k} took effect twice"
                        assert outcome.case_id == first[k]
                    else:
                        assert not outcome.duplicate, f"signal {k} was new, yet a duplicate"
                        if k % 3 in person_case:
                            assert outcome.case_id == person_case[k % 3]  # one case per person
                        first[k] = person_case[k % 3] = outcome.case_id

            for mine, theirs in steps:
                saves, stored_first = other_stores_first(first_intake, second_intake, theirs)
                outcomes = first_intake.referrals.receive_signals(batch_of(mine))
                # The other's batch committed first: the same outcomes as storing it first.
                expect(theirs, stored_first[0])
                expect(mine, outcomes)
                # At most one refused attempt, then the whole batch at once: never one by one.
                assert len(saves) <= 2, f"batch stored in {len(saves)} transactions"
                event(f"this batch stored in {len(saves)} attempts")
            kept = sorted(
                s["signal_key"]
                for case_id in set(first.values())
                for s in first_intake.referrals.get_case(case_id).signals
            )
            assert kept == sorted(f"partner#{k}" for k in first)
        finally:
            first_intake.close()
            second_intake.close()
