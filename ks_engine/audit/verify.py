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
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from itertools import islice
from multiprocessing import get_context
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eventsourcing.application import Application
from eventsourcing.persistence import Notification
from eventsourcing.utils import TopicError

from ks_engine.audit import chain
from ks_engine.audit.chain import CHAIN_FORMATS, GENESIS, ChainStore, Checkpoint, Link
from ks_engine.audit.checkpoint_checks import CheckpointChecks
from ks_engine.audit.differences import (
    STATE,
    SUMMARY,
    Difference,
    identity_differences,
    joined,
)
from ks_engine.audit.findings import Problem, Report, capital, describe, named, owner, sealed_words
from ks_engine.audit.independent import CheckpointSource
from ks_engine.audit.moves import Moves
from ks_engine.audit.ranges import MIN_PER_RANGE, Parts, RangeResult, Walk, combine, split
from ks_engine.audit.summary import is_case_event, summarise
from ks_engine.audit.walk import BATCH, Stored, Unreadable, merged

MAX_PROBLEMS = 20


REMEMBERED = 100_000  # aggregates whose latest link the walk keeps in memory


class _Recent:
    """The latest link (version, hash) of the aggregates met most recently in the walk, at
    most ``REMEMBERED`` of them: memory stays bounded however many aggregates a store holds;
    an older one is looked up in the chain when its next event comes."""

    def __init__(self, size: int | None = None) -> None:
        self.size = REMEMBERED if size is None else size
        self._links: dict[str, tuple[int, str]] = {}

    def get(self, aggregate: str) -> tuple[int, str] | None:
        return self._links.get(aggregate)

    def __setitem__(self, aggregate: str, latest: tuple[int, str]) -> None:
        self._links.pop(aggregate, None)  # re-inserted: the most recent again
        self._links[aggregate] = latest
        if len(self._links) > self.size:
            del self._links[next(iter(self._links))]


_CANDIDATES = (
    "its recorded hash (link_hash), the time it was sealed (sealed_at) or its chain format "
    "(chain_format) was changed"
)


def _seal_altered(link: Link, why: str) -> str:
    return (
        f"The seal of {named(link)} was altered: its recorded hash does not match its "
        f"content ({why})."
    )


class Verifier:
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
        min_per_range: int = MIN_PER_RANGE,
    ) -> None:
        self.app = app
        self.store = store
        self.checks = CheckpointChecks(trusted)
        self.grace_seconds = grace_seconds
        self.sources = sources
        self.parts, self.workers, self.min_per_range = parts, workers, min_per_range
        self._before: dict[str, tuple[int, str]] = {}  # previous versions from before a range
        self._municipalities: dict[str, str] = {}
        self._moves = Moves()
        self._vague: tuple[Problem, Link] | None = None  # an altered seal, cause not yet known
        self._suspect: set[str] = set()  # aggregates whose first event has a finding

    def verify(self) -> Report:
        return self._verify(ranged=self.workers > 1, grace=True)

    def _verify(self, *, ranged: bool, grace: bool) -> Report:
        report = Report()
        # Checkpoints first, then the log's end: a checkpoint signed meanwhile is within it.
        checkpoints = {cp.position: cp for cp in self.store.checkpoints()}
        upto = self.app.recorder.max_notification_id() or 0
        self.checks.signatures(checkpoints.values(), report)
        for source in self.sources:
            self.checks.compare(source, checkpoints, report)
        head = self.store.head()
        if grace and head is not None and head.position < upto and self.grace_seconds:
            time.sleep(self.grace_seconds)  # events stored just now are being sealed
        bounds = split(upto, self.workers, self.min_per_range) if ranged else []
        if len(bounds) > 1 and not report.problems and self.parts is not None:
            results = _run_ranges(self.parts, bounds, upto, set(checkpoints))
            if combine(self.checks, results, checkpoints, report):
                return report
            # A finding: walk the whole log once more, so that it is told exactly as always.
            return self._verify(ranged=False, grace=False)
        walk = Walk(GENESIS)
        self._walk(merged(self.app, self.store, upto), upto, walk, checkpoints, report)
        report.last_position = walk.last_link.position if walk.last_link else 0
        if walk.complete:
            self.checks.truncation(checkpoints, walk.last_link, report)
        self._moves.pair(report)
        return report

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
        latest = _Recent()
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

    # -- links and events -----------------------------------------------------------------
    def _check_link(
        self,
        link: Link,
        event: Stored | None,
        prev: str,
        before: Link | None,
        latest: _Recent,
        report: Report,
    ) -> bool:
        """Check the seal itself and its place in the chain; whether its hash is intact."""
        in_aggregate = self._expected_in_aggregate(link, latest)
        intact = link.chain_format in CHAIN_FORMATS and link.recomputed_hash() == link.link_hash
        if self._vague is not None:
            self._sharpen(link.prev, report)
        if not intact:
            why = self._seal_differences(link, event, prev, in_aggregate)
            report.add(link.position, "seal_altered", _seal_altered(link, why or _CANDIDATES))
            self._moves.seal_findings[link.position] = report.problems[-1]
            if not why:
                self._vague = (report.problems[-1], link)
        if link.prev != prev:
            cause = (
                "the recorded hash (link_hash) of the seal before it was changed"
                if before is not None and link.prev == before.recomputed_hash()
                else "the event sealed before it is not the one it was chained to. An event was "
                "removed together with its seal, or seals were inserted or rewritten"
            )
            report.add(
                link.position,
                "chain_broken",
                f"The chain is broken just before {named(link)}: {cause}.",
            )
        if link.prev_in_aggregate != in_aggregate:
            report.add(
                link.position,
                "history_gap",
                f"The history of {owner(link.topic, link.aggregate)} does not continue from "
                f"its previous event at {named(link)}: an earlier event of it was removed, "
                "replaced or moved.",
            )
        return intact

    def _expected_in_aggregate(self, link: Link, latest: _Recent) -> str | None:
        """The link hash of the same aggregate's previous version, as the walk met it."""
        if link.version == 1:
            return GENESIS
        before = (
            latest.get(link.aggregate)
            or self._before.get(link.aggregate)
            or self._sealed_before(link)
        )
        return before[1] if before is not None and before[0] == link.version - 1 else None

    def _sealed_before(self, link: Link) -> tuple[int, str] | None:
        """The previous version's link, when the walk no longer remembers it: looked up in the
        chain, and only if it lies before ``link`` (as the walk would have met it)."""
        found = self.store.link_of(link.aggregate, link.version - 1)
        if found is None or found.position >= link.position:
            return None
        return found.version, found.link_hash

    def _seal_differences(
        self, link: Link, event: Stored | None, prev: str, in_aggregate: str | None
    ) -> str:
        """Which of an altered seal's fields no longer agree with what they seal, in words."""
        if link.chain_format not in CHAIN_FORMATS:
            return (
                f"it declares chain format {link.chain_format} (chain_format), which ks-engine "
                "does not know"
            )
        found: list[Difference] = []
        if isinstance(event, Notification):
            found += identity_differences(link, event)
            if chain.sha256(event.state) != link.state_hash:
                found.append(Difference("content hash", "state_hash", "state"))
            elif not found and self._summary_differs(event, link):
                found.append(SUMMARY)
        words = [d.as_sealed() for d in found]
        if link.prev != prev:
            words.append("its link to the seal before it (prev) is not that seal's hash")
        if link.prev_in_aggregate != in_aggregate and in_aggregate is not None:
            words.append(
                "its link to the previous event of the same history (prev_in_aggregate) is not "
                "that event's seal"
            )
        return "; ".join(words)

    def _sharpen(self, hash_after: str, report: Report) -> None:
        """Say which field of the vaguely altered seal changed, now that the hash the next
        link (or a valid checkpoint) holds of it is known."""
        assert self._vague is not None
        (problem, link), self._vague = self._vague, None
        if hash_after == link.recomputed_hash():
            why = "its recorded hash (link_hash) was changed"
        elif hash_after == link.link_hash:
            formats = [
                f
                for f in CHAIN_FORMATS
                if replace(link, chain_format=f).recomputed_hash() == link.link_hash
            ]
            if formats:
                why = (
                    f"its chain format (chain_format) was changed from {formats[0]} to "
                    f"{link.chain_format}"
                )
            elif link.chain_format == 2:
                why = "the time it was sealed (sealed_at) was changed"
            else:
                return
        else:
            return
        sharpened = Problem(problem.position, problem.kind, _seal_altered(link, why))
        report.problems = [sharpened if p is problem else p for p in report.problems]
        self._moves.seal_findings[link.position] = sharpened

    def _check_event(self, link: Link, n: Stored, report: Report) -> None:
        """Compare a stored event with its intact seal and name each column that differs."""
        if isinstance(n, Unreadable):
            report.add(
                n.id,
                "altered",
                f"{capital(named(link))} cannot be read from the store any more: its case or "
                "record id (originator_id) or another of its columns holds what ks-engine never "
                f"writes; it was altered after it was sealed{sealed_words(link)}.",
            )
            return
        differences = identity_differences(link, n)
        same_bytes = chain.sha256(n.state) == link.state_hash
        if differences and not same_bytes:
            stored = describe(n.topic, str(n.originator_id), n.originator_version, n.id)
            report.add(
                n.id,
                "moved",
                f"Position {n.id} was sealed as {named(link)} but now holds {stored}: events were "
                "reordered, replaced or inserted.",
            )
            return
        if not same_bytes:
            differences = [STATE]
        elif not differences and self._summary_differs(n, link):
            differences = [SUMMARY]
        if differences:
            report.add(
                n.id,
                "altered",
                f"{capital(named(link))} was altered after it was sealed{sealed_words(link)}: "
                f"{joined([d.as_stored() for d in differences])}.",
            )

    def _summary_differs(self, n: Notification, link: Link) -> bool:
        """Whether the summary of an event whose bytes and names match its seal differs from
        the sealed one. Not asked when the case's first event (its municipality comes from
        there) was already reported: that finding says it."""
        if link.aggregate in self._suspect:
            return False
        return self._summary_hash(n, link.aggregate) != link.summary_hash

    def _summary_hash(self, n: Notification, aggregate: str) -> str:
        if not is_case_event(n.topic):
            return ""
        try:
            event = self.app.mapper.to_domain_event(n)
            return chain.summary_hash(summarise(event, self._municipality_of(event, aggregate)))
        except (ValueError, KeyError, TypeError, TopicError, StopIteration, AttributeError):
            return "unreadable"

    def _municipality_of(self, event: Any, aggregate: str) -> str:
        """The case's municipality, from its first event: the log holds that one earlier, so
        it is remembered then (for the ``REMEMBERED`` newest cases) instead of read again for
        every later event of the case."""
        if event.originator_version == 1:
            municipality = sys.intern(str(event.municipality))
        else:
            known = self._municipalities.get(aggregate)
            if known is not None:
                return known
            first = next(iter(self.app.events.get(event.originator_id, lte=1)))
            municipality = sys.intern(str(first.municipality))  # type: ignore[attr-defined]
        if len(self._municipalities) >= REMEMBERED:
            del self._municipalities[next(iter(self._municipalities))]
        self._municipalities[aggregate] = municipality
        return municipality

    def _removed(self, link: Link, intact: bool, report: Report) -> None:
        report.add(
            link.position,
            "removed",
            f"{capital(named(link))}, sealed{sealed_words(link)}, is no longer in the store: "
            "it was removed.",
        )
        self._moves.removed[link.state_hash] = (link, intact, report.problems[-1])

    def _unsealed(self, n: Stored, last_link: Link | None, report: Report) -> None:
        what = (
            f"the unreadable record at position {n.id}"
            if isinstance(n, Unreadable)
            else describe(n.topic, str(n.originator_id), n.originator_version, n.id)
        )
        head = self.store.head()
        if head is not None and n.id < head.position:
            report.add(
                n.id,
                "inserted",
                f"{capital(what)} was never sealed although later events were: "
                "it was inserted afterwards.",
            )
        else:
            report.add(
                n.id,
                "unsealed",
                f"{capital(what)} is not sealed: it was stored after the newest "
                f"seal (position {last_link.position if last_link else 0}) by something other "
                "than ks-engine, or ks-engine could not seal it. Verify again after `ks audit "
                "seal`; if it stays, it was inserted.",
            )
        if isinstance(n, Notification):
            self._moves.unsealed[chain.sha256(n.state)] = (n, report.problems[-1])


def _run_ranges(
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
        return Verifier(app, store, []).walk_range(first, last, upto, marks)
