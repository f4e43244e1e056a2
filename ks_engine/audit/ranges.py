"""Verification over ranges of the log: each range walked on its own, the results joined."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.application import Application

from ks_engine.audit.chain import GENESIS, ChainStore, Checkpoint, Link
from ks_engine.audit.checkpoint_checks import CheckpointChecks
from ks_engine.audit.findings import Report

# Fewer positions per worker than this are walked in one process: a spawned worker costs
# about a second to start (imports, store opened), and at 60,000 events two workers were
# slower on two shared cores than one walk (docs/benchmarks.md).
MIN_PER_RANGE = 200_000
# The quick scan's workers are forked (nothing imported again) and cost about a tenth of a
# second of one core to start, what scanning some 5,000 events costs: ranges of fewer
# positions than this are scanned in one process. At 30,000 events two ranges of 15,000 took
# 0.60-0.62 s against 0.78-0.88 s for one walk (bench/NOTES.md).
MIN_PER_SCAN_RANGE = 10_000

Parts = Callable[[], AbstractContextManager[tuple[Application[UUID], ChainStore]]]


@dataclass
class Walk:
    """Where a walk of the log stands; ``prev`` None: trust the first link's ``prev``."""

    prev: str | None
    marks: set[int] = field(default_factory=set)  # positions of checkpoints to note
    first_position: int = 1
    count: int = 0
    complete: bool = True
    strays: bool = False  # a link from before the range came (read out of order)
    walked: Link | None = None
    first: Link | None = None
    last_link: Link | None = None
    met: dict[int, tuple[Link, int]] = field(default_factory=dict)

    def meet(self, link: Link) -> str:
        """Count ``link``; the hash its ``prev`` should hold."""
        self.count += 1
        if self.first is None:
            self.first = link
        if link.position < self.first_position:
            self.strays = True
        if link.position in self.marks:
            self.met[link.position] = (link, self.count)
        if self.prev is None:
            self.prev = link.prev
        return self.prev

    def passed(self, link: Link) -> None:
        self.prev, self.walked = link.link_hash, link
        if self.last_link is None or link.position > self.last_link.position:
            self.last_link = link


@dataclass(frozen=True)
class RangeResult:
    """One range walked: whether nothing was found, and what joining the ranges needs."""

    clean: bool
    verified: int
    count: int
    first: Link | None
    last: Link | None
    met: dict[int, tuple[Link, int]]  # checkpoint position -> its link, links up to it


def split(upto: int, workers: int, min_per_range: int) -> list[tuple[int, int | None]]:
    """Positions 1 to ``upto`` in equal ranges, at most ``workers`` and none smaller than
    ``min_per_range``; the last range runs to the chain's end."""
    n = max(1, min(workers, upto // max(1, min_per_range)))
    size = max(1, -(-upto // n))
    bounds: list[tuple[int, int | None]] = [(1 + k * size, (k + 1) * size) for k in range(n)]
    bounds[-1] = (bounds[-1][0], None)
    return bounds


def combine(
    checks: CheckpointChecks,
    results: list[RangeResult],
    checkpoints: dict[int, Checkpoint],
    report: Report,
) -> bool:
    """Join the ranges into ``report``: each range's first link must continue from the one
    before, each checkpoint must match the chain where a range met it. Whether all is intact
    (when not, the caller walks the log once more to word the findings)."""
    prev, count, last = GENESIS, 0, None
    for r in results:
        if not r.clean:
            return False
        if r.first is not None and r.last is not None:
            if r.first.prev != prev:
                return False
            prev, last = r.last.link_hash, r.last
        for position, (link, n) in sorted(r.met.items()):
            checks.against_chain(checkpoints.pop(position), link, count + n, report)
        count += r.count
        report.verified += r.verified
    report.last_position = last.position if last else 0
    checks.truncation(checkpoints, last, report)
    return not report.problems
