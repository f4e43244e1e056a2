"""The checks of each seal and stored event that ``ks audit verify`` meets, in an auditor's words.

What a finding names: the field in words and the column in brackets (``differences.py``); an
altered seal whose cause is not known yet is sharpened once the next link or a valid
checkpoint tells which of its fields changed.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from dataclasses import replace
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Notification
from eventsourcing.utils import TopicError

from ks_engine.audit import chain
from ks_engine.audit.chain import CHAIN_FORMATS, GENESIS, ChainStore, Link
from ks_engine.audit.decoding import quick_mapper
from ks_engine.audit.differences import (
    STATE,
    SUMMARY,
    Difference,
    identity_differences,
    joined,
)
from ks_engine.audit.findings import Problem, Report, capital, describe, named, owner, sealed_words
from ks_engine.audit.moves import Moves
from ks_engine.audit.quick_summary import QuickReader
from ks_engine.audit.scan import CANONICAL_UUID
from ks_engine.audit.summary import is_case_event, summarise, summarise_state
from ks_engine.audit.walk import Stored, Unreadable

REMEMBERED = 100_000  # aggregates whose latest link the walk keeps in memory


class Recent:
    """The latest link (version, hash) of the aggregates met most recently in the walk, at
    most ``REMEMBERED`` of them: memory stays bounded however many aggregates a store holds;
    an older one is looked up in the chain when its next event comes."""

    def __init__(self, size: int | None = None) -> None:
        self.size = REMEMBERED if size is None else size
        # Ordered: forgetting the oldest is O(1), where deleting a dict's first key again and
        # again makes finding the next first key ever slower (the deleted slots are skipped).
        self._links: OrderedDict[str, tuple[int, str]] = OrderedDict()

    def get(self, aggregate: str) -> tuple[int, str] | None:
        return self._links.get(aggregate)

    def __setitem__(self, aggregate: str, latest: tuple[int, str]) -> None:
        self._links[aggregate] = latest
        self._links.move_to_end(aggregate)  # the most recent again
        if len(self._links) > self.size:
            self._links.popitem(last=False)


_CANDIDATES = (
    "its recorded hash (link_hash), the time it was sealed (sealed_at) or its chain format "
    "(chain_format) was changed"
)


def _seal_altered(link: Link, why: str) -> str:
    return (
        f"The seal of {named(link)} was altered: its recorded hash does not match its "
        f"content ({why})."
    )


class LinkChecks:
    """Checks seals and stored events one at a time, remembering what later ones need."""

    def __init__(self, app: Application[UUID], store: ChainStore) -> None:
        self.app = app
        self.store = store
        self._mapper = quick_mapper(app.mapper)  # decodes as app.mapper does, faster
        self._reader = QuickReader(self._mapper)  # reads for summaries, faster still
        self._before: dict[str, tuple[int, str]] = {}  # previous versions from before a range
        self._municipalities: OrderedDict[str, str] = OrderedDict()  # as Recent
        self._moves = Moves()
        self._vague: tuple[Problem, Link] | None = None  # an altered seal, cause not yet known
        self._suspect: set[str] = set()  # aggregates whose first event has a finding

    # -- links and events -----------------------------------------------------------------
    def _check_link(
        self,
        link: Link,
        event: Stored | None,
        prev: str,
        before: Link | None,
        latest: Recent,
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

    def _expected_in_aggregate(self, link: Link, latest: Recent) -> str | None:
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

    def _summary_of(
        self, position: int, aggregate: str, version: int, topic: str, state: bytes
    ) -> str:
        """``_summary_hash`` of a stored event given as plain row values (the quick scan)."""
        case_event = is_case_event(topic)
        if case_event and CANONICAL_UUID(aggregate):  # then str(UUID(aggregate)) is aggregate
            quick = self._quick_summary_hash(topic, state, aggregate, version, aggregate)
            if quick is not None:
                return quick
        n = Notification(
            id=position,
            originator_id=UUID(aggregate),
            originator_version=version,
            topic=topic,
            state=state,
        )
        return self._decoded_summary_hash(n, aggregate) if case_event else ""

    def _summary_hash(self, n: Notification, aggregate: str) -> str:
        if not is_case_event(n.topic):
            return ""
        if type(n.originator_id) is UUID:  # the mapper passes a UUID through as it is
            version, case = n.originator_version, str(n.originator_id)
            quick = self._quick_summary_hash(n.topic, n.state, case, version, aggregate)
            if quick is not None:
                return quick
        return self._decoded_summary_hash(n, aggregate)

    def _quick_summary_hash(
        self, topic: str, state: bytes, case: str, version: int, aggregate: str
    ) -> str | None:
        """The summary hash from the event's decoded JSON, without its domain event object:
        the one ``_decoded_summary_hash`` gives, or None where that has to tell."""
        try:
            name, attributes = self._reader.read(topic, state)
            if version == 1:
                first = attributes["municipality"]
                if type(first) is not str:  # str() of an object read lazily is not the dict's
                    return None
                municipality = sys.intern(first)
            elif (known := self._municipalities.get(aggregate)) is not None:
                municipality = known
            else:
                return None  # the case's first event is read through the application
            summary = summarise_state(name, case, version, attributes, municipality)
            digest = chain.plain_summary_hash(summary)  # read from a view: no float or UUID
        except Exception:  # whatever it was: the mapper reads the event, and fails as it fails
            return None
        if version == 1:
            self._remember(aggregate, municipality)
        return digest

    def _decoded_summary_hash(self, n: Notification, aggregate: str) -> str:
        """The summary hash of the domain event eventsourcing's mapper decodes."""
        try:
            event = self._mapper.to_domain_event(n)
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
        self._remember(aggregate, municipality)
        return municipality

    def _remember(self, aggregate: str, municipality: str) -> None:
        if len(self._municipalities) >= REMEMBERED:
            self._municipalities.popitem(last=False)
        self._municipalities[aggregate] = municipality

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
