"""A relay window reads the first events and moves of the cases it needs in one query, on
SQLite and on PostgreSQL: each case event is published under the same municipality as by one
translator that met every event in order, whichever windows a translator is given and in
whichever order (two windows processes take them in turn; a window is read ahead, or again
after a failed publish), and no case is read on its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.nats.relay_translator import EventTranslator, is_referral
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.unit.test_projection_scenario import notifications, play


@pytest.fixture
def played(durable_settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    engine = bootstrap(durable_settings, clock=clock, configure_logs=False)
    play(engine.referrals, clock, seed=5, steps=200)
    yield engine
    engine.close()


@pytest.mark.parametrize("size", [7, 60])
def test_each_window_publishes_as_a_translator_that_met_every_case(
    played: Engine, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = played.referrals
    log = notifications(app)
    expected = {}
    remembering = EventTranslator(app)
    for n in log:
        if is_referral(n):
            expected[n.id] = remembering.translate(n, n.id)
    assert any(n.topic.endswith(".CaseTransferred") for n in log)  # cases moved

    # Counted, not replaced: the recorder still reads a case alone when asked to
    alone = []
    select_events = app.recorder.select_events
    monkeypatch.setattr(
        app.recorder, "select_events", lambda *a, **k: alone.append(a) or select_events(*a, **k)
    )
    for start in range(0, len(log), size):
        window = log[start : start + size]
        forgetting = EventTranslator(app)  # as a windows process that met none of them
        forgetting.read_ahead(window)
        for n in window:
            if is_referral(n):
                assert forgetting.translate(n, n.id) == expected[n.id]
    assert alone == []


@pytest.mark.parametrize("size", [3, 7, 60])
def test_windows_taken_in_turn_by_two_translators_publish_as_one(played: Engine, size: int) -> None:
    """As the relay's windows processes take windows in turn: what one of them remembers of a
    case may be older than a move the other one translated."""
    app = played.referrals
    log = notifications(app)
    one = EventTranslator(app)
    expected = {n.id: one.translate(n, n.id) for n in log if is_referral(n)}
    in_turn = [EventTranslator(app), EventTranslator(app)]
    for k, start in enumerate(range(0, len(log), size)):
        window = log[start : start + size]
        translator = in_turn[k % 2]
        translator.read_ahead(window)
        for n in window:
            if is_referral(n):
                assert translator.translate(n, n.id) == expected[n.id]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_one_translator_given_windows_in_any_order_publishes_as_one_in_order(
    played: Engine, data: st.DataObject
) -> None:
    """A window may be translated after later ones: read ahead, or again after a publish that
    failed part of the way. What the translator met in a later window must not decide an
    earlier one's municipality (a move further on)."""
    app = played.referrals
    log = notifications(app)
    one = EventTranslator(app)
    expected = {n.id: one.translate(n, n.id) for n in log if is_referral(n)}
    size = data.draw(st.integers(1, 40), label="size")
    windows = [log[start : start + size] for start in range(0, len(log), size)]
    translator = EventTranslator(app)
    for window in data.draw(st.permutations(windows), label="order"):
        translator.read_ahead(window)
        for n in window:
            if is_referral(n):
                assert translator.translate(n, n.id) == expected[n.id]
