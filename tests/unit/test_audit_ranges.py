"""Joining ranges of a verification: every position in exactly one range, and a range whose
first link does not continue from the range before is never taken as intact."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from ks_engine.audit.chain import GENESIS, Link
from ks_engine.audit.checkpoint_checks import CheckpointChecks
from ks_engine.audit.findings import Report
from ks_engine.audit.ranges import RangeResult, combine, split


@given(st.integers(0, 5000), st.integers(1, 16), st.integers(1, 2000))
def test_the_ranges_cover_every_position_once_in_order(
    upto: int, workers: int, smallest: int
) -> None:
    bounds = split(upto, workers, smallest)
    assert 1 <= len(bounds) <= workers
    assert bounds[0][0] == 1
    assert bounds[-1][1] is None  # the last runs to the chain's end
    for (_, last), (first, _) in pairwise(bounds):
        assert last is not None
        assert first == last + 1
    if len(bounds) > 1:
        assert all(last is not None and last - first + 1 >= smallest for first, last in bounds[:-1])


def _link(position: int, prev: str) -> Link:
    return Link(position, "a", position, "t", "s", "", GENESIS, prev, f"{position:064x}", "")


def _range(first: int, last: int, prev: str) -> RangeResult:
    links = [_link(first, prev)] + [_link(p, f"{p - 1:064x}") for p in range(first + 1, last + 1)]
    return RangeResult(True, len(links), len(links), links[0], links[-1], {})


def test_ranges_that_continue_each_other_are_joined() -> None:
    report = Report()
    ranges = [_range(1, 10, GENESIS), _range(11, 20, f"{10:064x}")]
    assert combine(CheckpointChecks([]), ranges, {}, report)
    assert (report.verified, report.last_position) == (20, 20)


def test_a_range_that_does_not_continue_the_one_before_is_not_intact() -> None:
    # The last link of the first range was removed: the second range is intact by itself.
    ranges = [_range(1, 9, GENESIS), _range(11, 20, f"{10:064x}")]
    assert not combine(CheckpointChecks([]), ranges, {}, Report())
    assert not combine(CheckpointChecks([]), [_range(1, 9, "f" * 64)], {}, Report())


def test_a_range_with_a_finding_is_not_intact() -> None:
    found = RangeResult(False, 0, 1, None, None, {})
    assert not combine(CheckpointChecks([]), [_range(1, 9, GENESIS), found], {}, Report())
