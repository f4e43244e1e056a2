"""A long-running process loads what the first event needs before it takes work
(``Engine.warm_up``): the first signal after a start then writes no data keys of its own."""

from __future__ import annotations

from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.referral_builders import make_signal, partner_ctx


def _stored_keys(engine: Engine) -> int:
    with engine.audit.db.transaction(write=False) as tx:
        row = tx.fetchone("SELECT COUNT(*) FROM personal_data_keys", ())
    assert row is not None
    return int(row[0])


def test_the_intakes_warm_up_stores_the_first_keys_before_any_signal(
    durable_settings: Settings, clock: FixedClock
) -> None:
    engine = bootstrap(durable_settings, clock=clock, configure_logs=False)
    try:
        assert _stored_keys(engine) == 0
        engine.warm_up(opens_cases=True)
        prepared = _stored_keys(engine)
        assert prepared > 0

        signal = make_signal()
        outcome = engine.referrals.receive_signal(signal, partner_ctx(signal))

        assert outcome.case_id is not None
        assert _stored_keys(engine) == prepared  # the case's keys came from the prepared ones
        assert engine.referrals.personal_details(outcome.case_id).details is not None
    finally:
        engine.close()


def test_a_process_that_opens_no_cases_stores_no_keys_when_warming_up(
    durable_settings: Settings, clock: FixedClock
) -> None:
    engine = bootstrap(durable_settings, clock=clock, configure_logs=False)
    try:
        engine.warm_up(opens_cases=False)
        engine.warm_up(opens_cases=False)
        assert _stored_keys(engine) == 0
    finally:
        engine.close()


def test_warming_up_twice_stores_the_first_keys_once(
    durable_settings: Settings, clock: FixedClock
) -> None:
    engine = bootstrap(durable_settings, clock=clock, configure_logs=False)
    try:
        engine.warm_up(opens_cases=True)
        once = _stored_keys(engine)
        engine.warm_up(opens_cases=True)
        assert _stored_keys(engine) == once
    finally:
        engine.close()
