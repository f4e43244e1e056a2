"""Whatever the order of deliveries, batches and closed cases, every partner signal takes
effect once: a first delivery opens or joins a case, every later delivery (in the same batch,
after a restart of the NATS duplicate window, after the case it opened was closed and another
opened) is reported as a duplicate of it and changes nothing. Run on SQLite, where the intake
asks the store in one query which of a batch's cases exist."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.values import Outcome
from ks_engine import commands as c
from ks_engine.bootstrap import bootstrap
from ks_engine.clock import AMSTERDAM
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.referral_builders import coordinator_ctx
from tests.signal_deliveries import PEOPLE, Deliveries, keyed_batch

KEYS = 6  # key k is always about PEOPLE[k % 3]
MONDAY = datetime(2026, 11, 2, 9, 30, tzinfo=AMSTERDAM)

deliver = st.tuples(st.just("deliver"), st.lists(st.integers(0, KEYS - 1), min_size=1, max_size=4))
close = st.tuples(st.just("close"), st.integers(0, len(PEOPLE) - 1))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.one_of(deliver, deliver, close), min_size=1, max_size=10))
def test_each_signal_takes_effect_once_however_often_it_comes(
    steps: list[tuple[str, object]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = bootstrap(
            Settings(store="sqlite", data_dir=Path(tmp)),
            clock=FixedClock(MONDAY),
            configure_logs=False,
        )
        try:
            app = engine.referrals
            model = Deliveries()
            for kind, arg in steps:
                if kind == "close":
                    assert isinstance(arg, int)
                    case_id = model.closed(arg)
                    if case_id is not None:
                        cmd = c.Close(case_id=case_id, outcome=Outcome.NO_CONTACT)
                        app.close_case(cmd, coordinator_ctx())
                    continue
                assert isinstance(arg, list)
                model.expect(arg, app.receive_signals(keyed_batch(arg)))
            model.check_kept_once(app)
        finally:
            engine.close()
