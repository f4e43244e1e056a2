"""``ks audit verify``: recompute every link of the chain and check every signed checkpoint.

Verification only reads: it never seals or repairs. It walks the notification log and the
chain side by side in position order and reports, in an auditor's words, each stored event
that was altered, removed, inserted or moved, each seal that was rewritten, and each
checkpoint that was forged or no longer matches (the newest events truncated).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eventsourcing.application import Application
from eventsourcing.persistence import Notification, PersistenceError
from eventsourcing.utils import TopicError

from ks_engine.audit import chain, signing
from ks_engine.audit.chain import GENESIS, ChainStore, Checkpoint, Link
from ks_engine.audit.findings import Report, capital, describe, owner
from ks_engine.audit.published import PublishedCheckpoints
from ks_engine.audit.summary import is_case_event, summarise

BATCH = 1000
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class Unreadable:
    """A stored record the event store cannot even read back (its bytes were altered)."""

    id: int


Stored = Notification | Unreadable


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


def _named(link: Link) -> str:
    """The sealed event named for an auditor (built only when there is something to say)."""
    return describe(link.topic, link.aggregate, link.version, link.position)


def _stored_events(app: Application[UUID], upto: int) -> Iterator[Stored]:
    """The notification log up to ``upto``; a record that cannot be read is pinpointed."""
    select = app.recorder.select_notifications
    start = 1
    while start <= upto:
        try:
            batch = select(start=start, limit=BATCH, stop=upto)
        except PersistenceError:  # one record in this batch is unreadable: go one by one
            try:
                yield from select(start=start, limit=1, stop=start)
            except PersistenceError:
                yield Unreadable(start)
            start += 1
            continue
        if not batch:
            return
        yield from batch
        start = batch[-1].id + 1


def _merged(
    app: Application[UUID], store: ChainStore, upto: int
) -> Iterator[tuple[Link | None, Stored | None]]:
    """Links and stored events side by side by position (None where one side has nothing)."""

    def links() -> Iterator[Link]:
        start = 1
        while batch := store.links(start, BATCH):
            yield from batch
            start = batch[-1].position + 1

    ls, es = links(), _stored_events(app, upto)
    link, event = next(ls, None), next(es, None)
    while link is not None or event is not None:
        if event is None or (link is not None and link.position < event.id):
            yield link, None
            link = next(ls, None)
        elif link is None or event.id < link.position:
            yield None, event
            event = next(es, None)
        else:
            yield link, event
            link, event = next(ls, None), next(es, None)


class Verifier:
    """Verifies one application's store against its chain and checkpoints."""

    def __init__(
        self,
        app: Application[UUID],
        store: ChainStore,
        trusted: list[Ed25519PublicKey],
        *,
        grace_seconds: float = 2.0,
        published: PublishedCheckpoints | None = None,
    ) -> None:
        self.app = app
        self.store = store
        self.trusted = {signing.fingerprint(k): k for k in trusted}
        self.grace_seconds = grace_seconds
        self.published = published
        self._municipalities: dict[str, str] = {}

    def verify(self) -> Report:
        report = Report()
        # Checkpoints first, then the log's end: a checkpoint signed meanwhile is within it.
        checkpoints = {cp.position: cp for cp in self.store.checkpoints()}
        upto = self.app.recorder.max_notification_id() or 0
        self._check_signatures(checkpoints.values(), report)
        if self.published is not None:
            self._compare_published(self.published, checkpoints, report)
        head = self.store.head()
        if head is not None and head.position < upto and self.grace_seconds:
            time.sleep(self.grace_seconds)  # events stored just now are being sealed
        prev, count = GENESIS, 0
        latest = _Recent()
        last_link: Link | None = None
        for link, event in _merged(self.app, self.store, upto):
            if len(report.problems) >= MAX_PROBLEMS:
                return report
            if link is None:
                assert event is not None
                self._unsealed(event, last_link, report)
                continue
            if event is None and link.position > upto and self._stored_now(link.position):
                break  # stored and sealed after this verification began: the next one's
            count += 1
            problems_before = len(report.problems)
            self._check_link(link, prev, latest, report)
            if event is None:
                sealed = describe(link.topic, link.aggregate, link.version, link.position)
                report.add(
                    link.position,
                    "removed",
                    f"{capital(sealed)}, sealed at {link.sealed_at}, is no longer in the store: "
                    "it was removed.",
                )
            else:
                self._check_event(link, event, report)
            cp = checkpoints.pop(link.position, None)
            if cp is not None:
                self._check_checkpoint(cp, link, count, report)
            if len(report.problems) == problems_before and event is not None:
                report.verified += 1
            prev, last_link = link.link_hash, link
            latest[link.aggregate] = (link.version, link.link_hash)
        report.last_position = last_link.position if last_link else 0
        self._check_truncation(checkpoints, last_link, report)
        return report

    def _stored_now(self, position: int) -> bool:
        found = self.app.recorder.select_notifications(start=position, limit=1, stop=position)
        return bool(found)

    # -- checks ---------------------------------------------------------------------------
    def _compare_published(
        self, published: PublishedCheckpoints, checkpoints: dict[int, Checkpoint], report: Report
    ) -> None:
        """Each checkpoint published to KS_EVENTS must be in the store as published; one that
        is not joins the checks below (it still proves what the chain held)."""
        for seq in published.unreadable:
            report.add(
                None,
                "forged_checkpoint",
                f"Message {seq} on ks.events.checkpoints in KS_EVENTS is not a checkpoint of "
                "ks-engine: it was published by someone else.",
            )
        for cp in published.checkpoints:
            stored = checkpoints.get(cp.position)
            if stored == cp:
                continue
            self._check_signatures([cp], report)
            report.add(
                cp.position,
                "checkpoint_removed" if stored is None else "checkpoint_replaced",
                f"The checkpoint for position {cp.position}, signed at {cp.signed_at} and "
                "published to KS_EVENTS, "
                + (
                    "is missing from the store: it was removed."
                    if stored is None
                    else "differs from the one in the store: the stored one was replaced."
                ),
            )
            checkpoints[cp.position] = cp

    def _check_signatures(self, checkpoints: Iterable[Checkpoint], report: Report) -> None:
        for cp in checkpoints:
            key = self.trusted.get(cp.key_fingerprint)
            if key is None or not signing.is_valid_signature(key, cp.message(), cp.signature):
                report.add(
                    cp.position,
                    "forged_checkpoint",
                    f"The checkpoint for position {cp.position} (signed at {cp.signed_at}) does "
                    "not carry a valid signature of the engine's key: it was forged or altered.",
                )
            else:
                report.checkpoints += 1

    def _check_link(self, link: Link, prev: str, latest: _Recent, report: Report) -> None:
        if link.recomputed_hash() != link.link_hash:
            report.add(
                link.position,
                "seal_altered",
                f"The seal of {_named(link)} was altered: its recorded hash does not match its "
                "content.",
            )
        if link.prev != prev:
            report.add(
                link.position,
                "chain_broken",
                f"The chain is broken just before {_named(link)}: the event sealed before it is "
                "not "
                "the one it was chained to. An event was removed together with its seal, or "
                "seals were inserted or rewritten.",
            )
        expected = (link.version - 1, link.prev_in_aggregate) if link.version > 1 else None
        before = latest.get(link.aggregate)
        if before is None and expected is not None:
            before = self._sealed_before(link)
        if (link.version == 1 and link.prev_in_aggregate != GENESIS) or (
            expected is not None and before != expected
        ):
            report.add(
                link.position,
                "history_gap",
                f"The history of {owner(link.topic, link.aggregate)} does not continue from "
                f"its previous event at {_named(link)}: an earlier event of it was removed, "
                "replaced "
                "or moved.",
            )

    def _sealed_before(self, link: Link) -> tuple[int, str] | None:
        """The previous version's link, when the walk no longer remembers it: looked up in the
        chain, and only if it lies before ``link`` (as the walk would have met it)."""
        found = self.store.link_of(link.aggregate, link.version - 1)
        if found is None or found.position >= link.position:
            return None
        return found.version, found.link_hash

    def _check_event(self, link: Link, n: Stored, report: Report) -> None:
        if isinstance(n, Unreadable):
            report.add(
                n.id,
                "altered",
                f"{capital(_named(link))} cannot be read from the store any more: its stored "
                "bytes "
                f"were altered after it was sealed at {link.sealed_at}.",
            )
            return
        if (str(n.originator_id), n.originator_version, n.topic) != (
            link.aggregate,
            link.version,
            link.topic,
        ):
            stored = describe(n.topic, str(n.originator_id), n.originator_version, n.id)
            report.add(
                n.id,
                "moved",
                f"Position {n.id} was sealed as {_named(link)} but now holds {stored}: events were "
                "reordered, replaced or inserted.",
            )
        elif chain.sha256(n.state) != link.state_hash or self._summary_hash(n, link.aggregate) != (
            link.summary_hash
        ):
            report.add(
                n.id,
                "altered",
                f"{capital(_named(link))} differs from what was sealed at "
                f"{link.sealed_at}: the stored event was altered after it was sealed.",
            )

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

    def _check_checkpoint(self, cp: Checkpoint, link: Link, count: int, report: Report) -> None:
        if cp.head != link.link_hash or cp.events != count:
            report.add(
                cp.position,
                "checkpoint_mismatch",
                f"The chain up to position {cp.position} no longer matches the checkpoint "
                f"signed at {cp.signed_at}: events up to there were altered, removed or "
                "inserted and their seals recomputed.",
            )

    def _check_truncation(
        self, checkpoints: dict[int, Checkpoint], last: Link | None, report: Report
    ) -> None:
        """``checkpoints``: those whose position no link of the chain has (any more)."""
        end = last.position if last else 0
        for pos, cp in sorted(checkpoints.items()):
            if pos < end:
                report.add(
                    pos,
                    "removed",
                    f"The event at position {pos}, which the checkpoint signed at "
                    f"{cp.signed_at} ends with, is no longer sealed: it was removed.",
                )
        beyond = [cp for pos, cp in sorted(checkpoints.items()) if pos > end]
        if beyond:
            cp = beyond[-1]
            report.add(
                cp.position,
                "truncated",
                f"The checkpoint signed at {cp.signed_at} covers {cp.events} events up to "
                f"position {cp.position}, but the chain now ends at position {end}: the "
                "newest events were removed (truncated).",
            )
