"""One query tells which of many aggregates are stored (the intake's batch lookup)."""

from __future__ import annotations

from uuid import uuid4

from adapters.persistence.existing import SQLITE_MAX_PARAMETERS, existing_originators
from domain.person_index import person_index_id
from ks_engine.bootstrap import bootstrap
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.referral_builders import BSN_A, BSN_B, KERKRADE, make_signal, partner_ctx


def test_stored_ids_are_found_and_others_not(durable_settings: Settings, clock: FixedClock) -> None:
    engine = bootstrap(durable_settings, clock=clock, configure_logs=False)
    try:
        app = engine.referrals
        stored = set()
        for bsn in (BSN_A, BSN_B):
            signal = make_signal(bsn)
            outcome = app.receive_signal(signal, partner_ctx(signal))
            assert outcome.case_id is not None
            stored |= {outcome.case_id, person_index_id(KERKRADE, signal.person_pseudonym)}
        unknown = [uuid4() for _ in range(SQLITE_MAX_PARAMETERS + 5)]  # more than one chunk

        found = existing_originators(app.recorder, [*unknown, *stored, *stored])

        assert found == stored
    finally:
        engine.close()


def test_a_store_it_cannot_ask_answers_none(clock: FixedClock) -> None:
    engine = bootstrap(Settings(store="memory"), clock=clock, configure_logs=False)
    try:
        assert existing_originators(engine.referrals.recorder, [uuid4()]) is None
    finally:
        engine.close()
