"""The ranged walk and scan of ``ks audit verify``: each range of the log in a worker process.

The quick scan's workers are forked where the system can (the modules this process has loaded
are not imported again: a spawned worker took about a second to start) and open their own
connections; this process scans the first range meanwhile. The walk's workers are spawned.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from copy import copy
from itertools import islice
from multiprocessing import get_all_start_methods, get_context

from ks_engine.audit.chain import Link
from ks_engine.audit.checkpoint_checks import CheckpointChecks
from ks_engine.audit.findings import Report
from ks_engine.audit.link_checks import LinkChecks
from ks_engine.audit.ranges import Parts, RangeResult, Walk
from ks_engine.audit.scan import LogRows, SummaryHash, scan
from ks_engine.audit.walk import BATCH, Stored, merged
from ks_engine.audit.walker import Walker


class RangeWalker(Walker):
    """Walks one range of the log on its own, in a worker process."""

    def walk_range(self, first: int, last: int | None, upto: int, marks: set[int]) -> RangeResult:
        """Walk positions ``first`` to ``last`` (to the chain's end when None) on their own,
        trusting the first link's ``prev`` (the caller checks it against the range before);
        the previous versions from before the range are looked up once per batch."""
        walk = Walk(None, marks=marks, first_position=first)
        pairs = merged(self.app, self.store, upto, first, last)
        report = Report()
        self._walk(self._predecessors(pairs, first), upto, walk, {}, report)
        clean = not report.problems and not walk.strays and walk.complete
        return RangeResult(clean, report.verified, walk.count, walk.first, walk.last_link, walk.met)

    def _predecessors(
        self, pairs: Iterator[tuple[Link | None, Stored | None]], first: int
    ) -> Iterator[tuple[Link | None, Stored | None]]:
        """The pairs, with the previous versions that lie before ``first`` looked up in one
        read per batch and kept for the walk."""
        while batch := list(islice(pairs, BATCH)):
            wanted = {
                (link.aggregate, link.version - 1)
                for link, _ in batch
                if link is not None and link.version > 1 and link.aggregate not in self._before
            }
            found = self.store.links_of(sorted(wanted)) if wanted else {}
            self._before |= {
                aggregate: (lk.version, lk.link_hash)
                for (aggregate, _), lk in found.items()
                if lk.position < first
            }
            yield from batch


def run_ranges(
    parts: Parts, bounds: list[tuple[int, int | None]], upto: int, marks: set[int]
) -> list[RangeResult]:
    """Each range walked in a worker process of its own (started afresh: no connection of
    this process is shared), in order."""
    with ProcessPoolExecutor(len(bounds), mp_context=get_context("spawn")) as pool:
        futures = [
            pool.submit(
                _walk_range,
                parts,
                first,
                last,
                upto,
                {m for m in marks if m >= first and (last is None or m <= last)},
            )
            for first, last in bounds
        ]
        return [f.result() for f in futures]


def _walk_range(
    parts: Parts, first: int, last: int | None, upto: int, marks: set[int]
) -> RangeResult:
    with parts() as (app, store):
        return RangeWalker(app, store, CheckpointChecks([])).walk_range(first, last, upto, marks)


def _marks_in(marks: set[int], first: int, last: int | None) -> set[int]:
    return {m for m in marks if m >= first and (last is None or m <= last)}


def run_scans(
    summary_hash: SummaryHash,
    parts: Parts,
    rows: LogRows,
    bounds: list[tuple[int, int | None]],
    upto: int,
    marks: set[int],
) -> list[RangeResult]:
    """The first range scanned here with ``summary_hash``, each other one in a worker process
    of its own (with its own store from ``parts`` and its own ``rows``), in order."""
    start = "fork" if "fork" in get_all_start_methods() else "spawn"
    (first, last), others = bounds[0], bounds[1:]
    with ProcessPoolExecutor(max(1, len(others)), mp_context=get_context(start)) as pool:
        futures = [
            pool.submit(_scan_range, parts, copy(rows), f, lt, upto, _marks_in(marks, f, lt))
            for f, lt in others
        ]
        with rows:
            here = scan(rows, summary_hash, first, last, upto, _marks_in(marks, first, last))
        return [here, *(f.result() for f in futures)]


def _scan_range(
    parts: Parts, rows: LogRows, first: int, last: int | None, upto: int, marks: set[int]
) -> RangeResult:
    with parts() as (app, store), rows:
        return scan(rows, LinkChecks(app, store)._summary_of, first, last, upto, marks)
