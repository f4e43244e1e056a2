"""``ks audit verify``: recompute every link of the chain and check every signed checkpoint.

Verification only reads: it never seals or repairs. It walks the notification log and the
chain side by side in position order and reports, in an auditor's words, each stored event
that was altered, removed, inserted or moved, each seal that was rewritten, and each
checkpoint that was forged or no longer matches (the newest events truncated). A finding names
what changed: the field in words and the column in brackets (``differences.py``).

Every column it reads is covered by a hash or a signature, or only named, never trusted: the
stored event's position, id, version, type and bytes by its seal; every column of a seal by
the seal's own hash (its ``sealed_at`` from chain format 2 on; an older seal's time is never
quoted); a checkpoint's position, head, count and time by its signature. Checkpoints kept
outside the database (``independent.py``) are compared with the stored ones.

On SQLite the log is first scanned quickly from plain rows (``scan.py``), over ranges in
worker processes when the log is long; only if that finds anything is the log walked (one
process), so the findings are always told by the walk, in the same words.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eventsourcing.application import Application

from adapters.persistence.audit_scan import log_rows
from ks_engine.audit.chain import GENESIS, ChainStore
from ks_engine.audit.checkpoint_checks import CheckpointChecks
from ks_engine.audit.findings import Report
from ks_engine.audit.independent import CheckpointSource
from ks_engine.audit.range_workers import run_ranges, run_scans
from ks_engine.audit.ranges import (
    MIN_PER_RANGE,
    MIN_PER_SCAN_RANGE,
    Parts,
    RangeResult,
    Walk,
    combine,
    split,
)
from ks_engine.audit.scan import scan
from ks_engine.audit.walk import merged
from ks_engine.audit.walker import Walker


class Verifier(Walker):
    """Verifies one application's store against its chain, its checkpoints and the
    checkpoints kept outside the database (``sources``)."""

    def __init__(
        self,
        app: Application[UUID],
        store: ChainStore,
        trusted: list[Ed25519PublicKey],
        *,
        grace_seconds: float = 2.0,
        sources: Sequence[CheckpointSource] = (),
        parts: Parts | None = None,
        workers: int = 1,
        min_per_range: int | None = None,
    ) -> None:
        super().__init__(app, store, CheckpointChecks(trusted))
        self.grace_seconds = grace_seconds
        self.sources = sources
        self.parts, self.workers, self.min_per_range = parts, workers, min_per_range

    def verify(self) -> Report:
        return self._verify(ranged=self.workers > 1, grace=True, quick=True)

    def _verify(self, *, ranged: bool, grace: bool, quick: bool) -> Report:
        report = Report()
        # Checkpoints first, then the log's end: a checkpoint signed meanwhile is within it.
        checkpoints = {cp.position: cp for cp in self.store.checkpoints()}
        upto = self.app.recorder.max_notification_id() or 0
        self.checks.signatures(checkpoints.values(), report)
        for source in self.sources:
            self.checks.compare(source, checkpoints, report)
        marks = set(checkpoints)
        head = self.store.head()
        if grace and head is not None and head.position < upto and self.grace_seconds:
            time.sleep(self.grace_seconds)  # events stored just now are being sealed
        rows = log_rows(self.app, self.store) if quick and not report.problems else None
        results: list[RangeResult] = []
        if rows is not None:  # the quick scan: ranges in forked workers, this one the first
            whole: list[tuple[int, int | None]] = [(1, None)]
            bounds = self._bounds(upto, MIN_PER_SCAN_RANGE) if ranged else whole
            if len(bounds) > 1 and self.parts is not None:
                results = run_scans(self._summary_of, self.parts, rows, bounds, upto, marks)
            else:
                with rows:
                    results = [scan(rows, self._summary_of, 1, None, upto, marks)]
        elif ranged and not report.problems and self.parts is not None:
            bounds = self._bounds(upto, MIN_PER_RANGE)
            results = run_ranges(self.parts, bounds, upto, marks) if len(bounds) > 1 else []
        if results:
            if combine(self.checks, results, checkpoints, report):
                return report
            # A finding: walk the whole log once more, so that it is told exactly as always.
            return self._verify(ranged=False, grace=False, quick=False)
        walk = Walk(GENESIS)
        self._walk(merged(self.app, self.store, upto), upto, walk, checkpoints, report)
        report.last_position = walk.last_link.position if walk.last_link else 0
        if walk.complete:
            self.checks.truncation(checkpoints, walk.last_link, report)
        self._moves.pair(report)
        return report

    def _bounds(self, upto: int, min_per_range: int) -> list[tuple[int, int | None]]:
        given = self.min_per_range
        return split(upto, self.workers, min_per_range if given is None else given)
