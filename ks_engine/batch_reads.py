"""Reading a batch's aggregates in a few queries instead of one read per aggregate.

Before the intake applies a batch of signals, it reads what the batch will need: the people's
matching-index entries, the open cases they lead to (latest snapshot plus the events after it)
and the data keys that open those cases. Everything not read ahead is still read one by one
when it is needed, so a store that cannot answer for many ids at once only loses speed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Recorder, StoredEvent

from domain.person_index import PersonIndex, person_index_id
from domain.referral import Referral
from domain.values import Signal
from ks_engine import commands as c
from ks_engine.case_links import IndexRefs, key_of
from ks_engine.keystore import PersonalDataVault
from ks_engine.processing import replay

A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True)
class BatchReads:
    """The event store asked about many aggregates in one query (``adapters.persistence.
    read_many``); either answers None where the store cannot be asked so."""

    events_after: Callable[[Recorder, Mapping[UUID, int]], dict[UUID, list[StoredEvent]] | None]
    latest: Callable[[Recorder, Sequence[UUID]], dict[UUID, StoredEvent] | None]


class BatchReading(Application[UUID]):
    """An application that reads many aggregates, and their data keys, at once."""

    vault: PersonalDataVault
    refs: IndexRefs
    _batch_reads: BatchReads | None

    def _read_ahead(
        self, batch: Sequence[tuple[Signal, c.Context]], absent: set[UUID]
    ) -> dict[UUID, Aggregate]:
        """The stored matching-index entries of the people the batch names and the open cases
        they lead to, read in a few queries for the whole batch (``BatchReads``), with the
        data keys that open them; what is not read here is read one by one when needed."""
        index_ids = [
            i
            for s, _ in batch
            for p in named(s)
            if (i := person_index_id(s.municipality, p)) not in absent
        ]
        indexes = self.read_many(PersonIndex, index_ids)
        refs = [i.open_case_id for i in indexes.values() if isinstance(i, PersonIndex)]
        self.vault.keys.read_ahead(k for r in refs if isinstance(r, str) and (k := key_of(r)))
        cases = self.read_many(Referral, [c for c in map(self.refs.case_of, refs) if c])
        self.vault.keys.read_ahead(case_keys(cases.values()))
        return {**indexes, **cases}

    def stored_events_of(self, ids: Iterable[UUID]) -> dict[UUID, list[StoredEvent]] | None:
        """Every stored event of each of ``ids`` (in version order, not decoded), read in one
        query; None where the store cannot be asked about many at once."""
        after = dict.fromkeys(ids, 0)
        if self._batch_reads is None or not after:
            return None
        return self._batch_reads.events_after(self.recorder, after)

    def read_many(self, cls: type[A], ids: Sequence[UUID]) -> dict[UUID, Aggregate]:
        """Those of ``ids`` stored, as ``_find`` would read them one by one; none where the
        store cannot be asked about many at once."""
        ids = list(dict.fromkeys(ids))
        if self._batch_reads is None or not ids:
            return {}
        snapshots: dict[UUID, object] = {}
        if cls in self.snapshotting_intervals and self.snapshots is not None:
            latest = self._batch_reads.latest(self.snapshots.recorder, ids)
            if latest is None:
                return {}
            snapshots = {i: self.snapshots.mapper.to_domain_event(s) for i, s in latest.items()}
        after = {i: getattr(snapshots.get(i), "originator_version", 0) for i in ids}
        stored = self._batch_reads.events_after(self.recorder, after)
        if stored is None:
            return {}
        found: dict[UUID, Aggregate] = {}
        for i in ids:
            events = map(self.mapper.to_domain_event, stored.get(i, ()))
            aggregate = replay(None, chain([snapshots[i]] if i in snapshots else [], events))
            if isinstance(aggregate, cls):
                found[i] = aggregate
        return found


def case_keys(cases: Iterable[Aggregate]) -> list[str]:
    """The data keys a signal joining one of ``cases`` uses: its link and personal keys."""
    keys: list[str] = []
    for case in cases:
        if isinstance(case, Referral):
            link = key_of(case.person_pseudonym)
            keys += [k for k in (link, case.personal_key_id) if k]
    return keys


def named(signal: Signal) -> list[str]:
    """The pseudonyms of the members a signal names: its person first, then the household."""
    named = [signal.person_pseudonym] + [m.pseudonym for m in signal.household if m.pseudonym]
    return list(dict.fromkeys(named))
