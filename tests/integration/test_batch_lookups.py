"""A batch of signals keeps the search lookups the same as signals one by one: every case is
found by its number and by a shared name, whether the name's entry is new, made earlier in the
same batch, or stored by an earlier batch (which the intake asks of the store in one query)."""

from __future__ import annotations

from datetime import date

from domain.values import PersonalDetails, Signal
from ks_engine.bootstrap import Engine
from tests.referral_builders import BSN_A, BSN_B, BSN_C, KERKRADE, make_signal, partner_ctx

BORN = date(1990, 4, 12)


def named(bsn: str) -> Signal:
    signal = make_signal(bsn)
    return signal.model_copy(
        update={"personal": PersonalDetails(name="Fenna van Dijk", birth_date=BORN)}
    )


def test_cases_of_one_name_from_several_batches_are_all_found(engine: Engine) -> None:
    app = engine.referrals
    first = named(BSN_A)
    [earlier] = app.receive_signals([(first, partner_ctx(first))])
    second, third = named(BSN_B), named(BSN_C)
    later = app.receive_signals([(s, partner_ctx(s)) for s in (second, third)])
    case_ids = {earlier.case_id, *(o.case_id for o in later)}
    assert None not in case_ids
    assert len(case_ids) == 3

    by_name = app.search_cases([KERKRADE], family_name="van Dijk", birth_date=BORN)
    assert {c.id for c in by_name} == case_ids
    for case_id in case_ids:
        number = str(case_id)[:8]
        assert [c.id for c in app.search_cases([KERKRADE], number=number)] == [case_id]
    assert app.search_cases([KERKRADE], family_name="van Dijk", birth_date=date(1991, 4, 12)) == []
