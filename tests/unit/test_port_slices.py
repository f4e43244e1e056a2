"""The suite's servers get ports that no other pytest-xdist worker hands out."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.ports import port_range


@given(workers=st.integers(2, 64), ephemeral_low=st.integers(12_000, 60_999))
def test_each_worker_has_its_own_non_empty_share_below_the_ephemeral_range(
    workers: int, ephemeral_low: int
) -> None:
    shares = [port_range(f"gw{i}", workers, ephemeral_low) for i in range(workers)]
    seen: set[int] = set()
    for share in shares:
        assert len(share) > 0
        assert share[0] >= 10_000
        assert share[-1] < ephemeral_low
        assert seen.isdisjoint(share)
        seen.update(share)


def test_a_run_without_workers_uses_the_whole_range() -> None:
    assert port_range(None, 1, 32_768) == range(10_000, 32_768)
    assert port_range("gw0", 1, 32_768) == range(10_000, 32_768)
