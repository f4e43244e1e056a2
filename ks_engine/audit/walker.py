"""The walk of ``ks audit verify``: the log and the chain side by side, each pair checked."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

from eventsourcing.application import Application

from ks_engine.audit.chain import ChainStore, Checkpoint, Link
from ks_engine.audit.checkpoint_checks import CheckpointChecks
from ks_engine.audit.findings import Report
from ks_engine.audit.link_checks import LinkChecks, Recent
from ks_engine.audit.ranges import Walk
from ks_engine.audit.walk import Stored

MAX_PROBLEMS = 20


class Walker(LinkChecks):
    """Walks pairs of link and stored event in position order, checking each link and
    event and each checkpoint the walk meets."""

    def __init__(self, app: Application[UUID], store: ChainStore, checks: CheckpointChecks) -> None:
        super().__init__(app, store)
        self.checks = checks

    def _walk(
        self,
        pairs: Iterator[tuple[Link | None, Stored | None]],
        upto: int,
        walk: Walk,
        checkpoints: dict[int, Checkpoint],
        report: Report,
    ) -> None:
        """Check each link and stored event in turn, and each checkpoint where the walk
        meets its position."""
        latest = Recent()
        for link, event in pairs:
            if len(report.problems) >= MAX_PROBLEMS:
                walk.complete = False
                break
            if link is None:
                assert event is not None
                self._unsealed(event, walk.last_link, report)
                continue
            if event is None and link.position > upto and self._stored_now(link.position):
                break  # stored and sealed after this verification began: the next one's
            prev = walk.meet(link)
            problems_before = len(report.problems)
            intact = self._check_link(link, event, prev, walk.walked, latest, report)
            if event is None:
                self._removed(link, intact, report)
            elif intact:
                self._check_event(link, event, report)
            cp = checkpoints.pop(link.position, None)
            if cp is not None:
                if self._vague is not None and cp.position not in self.checks.forged:
                    self._sharpen(cp.head, report)
                self.checks.against_chain(cp, link, walk.count, report)
            if len(report.problems) == problems_before and event is not None:
                report.verified += 1
            elif link.version == 1:
                self._suspect.add(link.aggregate)
            walk.passed(link)
            latest[link.aggregate] = (link.version, link.link_hash)

    def _stored_now(self, position: int) -> bool:
        found = self.app.recorder.select_notifications(start=position, limit=1, stop=position)
        return bool(found)
