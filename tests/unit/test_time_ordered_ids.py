"""Time-ordered ids (UUID version 7): in order of their millisecond as a number, as the event
store's 32 hexadecimal digits and as text; distinct within a millisecond; used for access-log
entries and new data keys."""

from __future__ import annotations

from uuid import UUID

from hypothesis import example, given
from hypothesis import strategies as st

from adapters.persistence.audit_tables import SqliteAuditDatabase
from adapters.persistence.keystore import SqlKeyStore
from ks_engine.access_log import AccessRecord
from ks_engine.time_ordered_ids import RANDOM_BITS, time_ordered_id

MS = st.integers(min_value=0, max_value=2**48 - 1)  # all the id's 48 bits of time hold
RANDOM = st.integers(min_value=0, max_value=2**RANDOM_BITS - 1)


@given(MS, RANDOM)
@example(0, 0)
@example(2**48 - 1, 2**RANDOM_BITS - 1)
def test_an_id_is_a_version_7_uuid_of_its_millisecond_and_its_random_bits(
    ms: int, random: int
) -> None:
    made = time_ordered_id(ms, random)
    assert made.version == 7
    assert made.variant == "specified in RFC 4122"
    assert made.int >> 80 == ms
    assert UUID(str(made)) == made
    # the 74 random bits, around the version and variant, all kept
    assert (made.int >> 64 & 0xFFF) << 62 | made.int & (2**62 - 1) == random


@given(st.integers(0, 2**48 - 2), st.integers(1, 2**48 - 1), RANDOM, RANDOM)
def test_an_id_made_in_a_later_millisecond_sorts_after(
    first: int, step: int, a: int, b: int
) -> None:
    later = min(first + step, 2**48 - 1)
    before, after = time_ordered_id(first, a), time_ordered_id(later, b)
    assert before.int < after.int
    assert before.hex < after.hex  # as the event store holds them: 32 hexadecimal digits
    assert str(before) < str(after)


def test_ids_of_one_millisecond_differ_and_ids_made_now_follow_the_clock() -> None:
    assert len({time_ordered_id(1_800_000_000_000) for _ in range(10_000)}) == 10_000
    before = time_ordered_id()
    assert all(before.int >> 80 <= time_ordered_id().int >> 80 for _ in range(1_000))


def test_access_log_entries_and_new_data_keys_get_time_ordered_ids() -> None:
    record = AccessRecord(entry={"status": 200})
    assert record.id.version == 7
    assert AccessRecord(entry={"status": 200}).id != record.id
    keys = SqlKeyStore(SqliteAuditDatabase(None), b"k" * 32)
    made = [UUID(keys.create()) for _ in range(3)]
    assert all(key_id.version == 7 for key_id in made)
    assert len(set(made)) == 3
