"""New data keys' ids are UUIDv7: ordered by the millisecond they were made, so that new keys
join the end of the key table's index (not a random page of it), and still unique."""

from __future__ import annotations

from uuid import UUID

from hypothesis import example, given
from hypothesis import strategies as st

from adapters.persistence.keystore import time_ordered_key_id

MS = st.integers(0, 2**48 - 1)
BITS = st.binary(min_size=10, max_size=10)


@given(ms=MS, bits=BITS)
@example(ms=0, bits=b"\x00" * 10)
@example(ms=2**48 - 1, bits=b"\xff" * 10)
def test_an_id_is_a_version_7_uuid_carrying_its_millisecond(ms: int, bits: bytes) -> None:
    key_id = time_ordered_key_id(ms, bits)
    parsed = UUID(key_id)
    assert str(parsed) == key_id
    assert parsed.version == 7
    assert parsed.variant == "specified in RFC 4122"
    assert parsed.int >> 80 == ms


@given(first=MS, later=MS, a=BITS, b=BITS)
def test_an_id_made_in_a_later_millisecond_sorts_after_as_text(
    first: int, later: int, a: bytes, b: bytes
) -> None:
    if later > first:
        assert time_ordered_key_id(first, a) < time_ordered_key_id(later, b)


def test_ids_made_in_one_millisecond_differ() -> None:
    made = {time_ordered_key_id(1_800_000_000_000) for _ in range(10_000)}
    assert len(made) == 10_000


def test_ids_made_now_follow_the_clock() -> None:
    before = time_ordered_key_id()
    after = [time_ordered_key_id() for _ in range(1_000)]
    assert all(before[:13] <= later[:13] for later in after)  # the millisecond's 48 bits
