"""A case number (the first eight characters of a case's id) is asked of the store directly:
every store finds exactly the cases whose id begins with it, in the caller's municipalities."""

from __future__ import annotations

from uuid import UUID

from adapters.persistence.existing import originators_numbered
from domain.case_lookup import case_number, id_range
from ks_engine.bootstrap import Engine
from tests.referral_builders import BSN_A, BSN_B, BSN_C, KERKRADE, make_signal, partner_ctx


def _open_cases(engine: Engine, *bsns: str) -> list[UUID]:
    app = engine.referrals
    case_ids = []
    for bsn in bsns:
        signal = make_signal(bsn)
        outcome = app.receive_signal(signal, partner_ctx(signal))
        assert outcome.case_id is not None
        case_ids.append(outcome.case_id)
    return case_ids


def test_every_case_is_found_by_its_number_and_nothing_else_is(engine: Engine) -> None:
    case_ids = _open_cases(engine, BSN_A, BSN_B, BSN_C)
    app = engine.referrals
    for case_id in case_ids:
        number = case_number(case_id)
        assert [c.id for c in app.search_cases([KERKRADE], number=number)] == [case_id]
        assert [c.id for c in app.search_cases([KERKRADE], number=number.upper())] == [case_id]
        assert app.search_cases(["GM0882"], number=number) == []  # another municipality's remit
        assert app.search_cases([KERKRADE], number=number[:7]) == []  # too short to name a case
        assert [c.id for c in app.search_cases([KERKRADE], number=str(case_id))] == [case_id]
    unused = next(
        f"{n:08x}" for n in range(16**8) if all(case_number(c) != f"{n:08x}" for c in case_ids)
    )
    assert app.search_cases([KERKRADE], number=unused) == []
    assert app.search_cases([KERKRADE], number="zzzzzzzz") == []


def test_the_store_query_finds_each_id_that_begins_with_the_number(engine: Engine) -> None:
    case_ids = _open_cases(engine, BSN_A, BSN_B)
    recorder = engine.referrals.recorder
    for case_id in case_ids:
        number = case_number(case_id)
        found = originators_numbered(recorder, number)
        assert found is not None
        assert case_id in found
        assert all(f.hex.startswith(number) for f in found)  # nothing outside the range
        # The neighbouring numbers do not find it.
        below, above = (f"{int(number, 16) + d:08x}" for d in (-1, 1))
        assert case_id not in (originators_numbered(recorder, below) or [])
        assert case_id not in (originators_numbered(recorder, above) or [])


def test_the_range_of_a_number_holds_exactly_the_ids_that_begin_with_it() -> None:
    low, high = id_range("0a1b2c3d")
    assert low == UUID("0a1b2c3d-0000-0000-0000-000000000000")
    assert high == UUID("0a1b2c3d-ffff-ffff-ffff-ffffffffffff")
