"""The walk's memory of recent links keeps the most recently met aggregates, at most ``size``,
however many it has met."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ks_engine.audit.link_checks import Recent


@given(st.lists(st.integers(0, 20), max_size=200), st.integers(1, 8))
def test_recent_keeps_the_most_recently_met_aggregates(met: list[int], size: int) -> None:
    recent = Recent(size)
    for n, aggregate in enumerate(met):
        recent[str(aggregate)] = (n, f"hash {n}")
    newest: list[int] = []  # the last `size` distinct aggregates met, newest first
    for aggregate in reversed(met):
        if aggregate not in newest:
            newest.append(aggregate)
    kept = newest[:size]
    for aggregate in set(met):
        last = max(n for n, a in enumerate(met) if a == aggregate)
        expected = (last, f"hash {last}") if aggregate in kept else None
        assert recent.get(str(aggregate)) == expected
