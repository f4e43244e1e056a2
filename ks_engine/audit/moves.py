"""Findings that are one event or seal moved to another position, told as such.

A sealed event missing at its position and an unsealed one elsewhere with the same stored
bytes are one event whose position (notification id) was changed; when the seal is the one
that moved, its hash no longer matches (position is in it) and the unsealed event stands where
the seal was made.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eventsourcing.persistence import Notification

from ks_engine.audit.chain import Link
from ks_engine.audit.findings import Problem, Report, capital, describe, named, sealed_words


@dataclass
class Moves:
    """Findings that may be one event or seal moved to another position: a sealed event
    missing at its position and an unsealed one elsewhere with the same stored bytes."""

    removed: dict[str, tuple[Link, bool, Problem]] = field(default_factory=dict)
    unsealed: dict[str, tuple[Notification, Problem]] = field(default_factory=dict)
    seal_findings: dict[int, Problem] = field(default_factory=dict)  # by position

    def pair(self, report: Report) -> None:
        """Replace each such pair of findings by one that says what moved where."""
        for state_hash, (link, seal_intact, removed) in self.removed.items():
            found = self.unsealed.get(state_hash)
            if found is None:
                continue
            n, unsealed = found
            gone = [removed, unsealed]
            if seal_intact:
                moved = Problem(
                    link.position,
                    "moved",
                    f"{capital(named(link))}, sealed{sealed_words(link)}, now stands at position "
                    f"{n.id}: its position in the log (the notification id) was changed.",
                )
            else:
                gone += [p for p in [self.seal_findings.get(link.position)] if p is not None]
                stored = describe(n.topic, str(n.originator_id), n.originator_version, n.id)
                moved = Problem(
                    n.id,
                    "seal_altered",
                    f"The seal of {stored} was moved to position {link.position}: the seal's "
                    "position (position) was changed.",
                )
            at = min(i for i, p in enumerate(report.problems) if any(p is g for g in gone))
            report.problems = [p for p in report.problems if not any(p is g for g in gone)]
            report.problems.insert(at, moved)
