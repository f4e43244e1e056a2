"""Access-log entries get ids in time order (UUID version 7), so the event store's index of
aggregate ids takes each new entry at its end."""

from __future__ import annotations

from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from ks_engine.access_log import AccessRecord, time_ordered_id

MS = 1_000_000  # nanoseconds
YEARS_OF_MS = st.integers(min_value=0, max_value=2**48 - 2)  # all the id's 48 bits hold


@given(YEARS_OF_MS, st.integers(min_value=1, max_value=10**9), st.integers(0, MS - 1))
def test_an_id_made_in_a_later_millisecond_sorts_after(ms: int, later: int, within: int) -> None:
    before = time_ordered_id(ms * MS + within)
    after = time_ordered_id(min(ms + later, 2**48 - 1) * MS)
    assert before.int < after.int
    assert before.hex < after.hex  # as the event store holds them: 32 hexadecimal digits
    assert str(before) < str(after)


@given(YEARS_OF_MS)
def test_an_id_is_a_version_7_uuid_of_its_millisecond(ms: int) -> None:
    made = time_ordered_id(ms * MS + 999_999)
    assert made.version == 7
    assert made.variant == "specified in RFC 4122"
    assert made.int >> 80 == ms
    assert UUID(str(made)) == made


def test_ids_of_one_millisecond_differ_and_access_records_use_them() -> None:
    assert len({time_ordered_id(5 * MS) for _ in range(1_000)}) == 1_000
    record = AccessRecord(entry={"status": 200})
    assert record.id.version == 7
    assert AccessRecord(entry={"status": 200}).id != record.id
