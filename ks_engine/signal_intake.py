"""Signals into cases: the matching of persons and the idempotency of deliveries.

The part of the application service that the intake drives: a batch of partner signals is
stored in one transaction, each opening a case or joining the person's open case, each at most
once however often it is delivered. ``ks_engine.application.Referrals`` adds the coordinators'
commands and the queries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import RecordConflictError, Recorder, Recording

from domain.blind_index import NameIndex
from domain.case_lookup import lookup_id
from domain.errors import DomainError
from domain.household import MemberRole, unborn_due_dates
from domain.person_index import PersonIndex, person_index_id
from domain.referral import Referral
from domain.signal_record import SignalRecord, opened_case_id, signal_record_id
from domain.values import Phase, Signal
from ks_engine import commands as c
from ks_engine.batch_reads import BatchReading, named
from ks_engine.case_links import CaseLinks, IndexRefs, key_of
from ks_engine.case_lookups import add_to_lookups, name_keys
from ks_engine.keystore import PersonalDataVault
from ks_engine.processing import ReplayingRepository

A = TypeVar("A", bound=Aggregate)

ExistenceQuery = Callable[[Recorder, Sequence[UUID]], "set[UUID] | None"]


@dataclass(frozen=True)
class SignalOutcome:
    """What became of one signal: the case it opened or joined, or why it was refused."""

    signal_key: str
    case_id: UUID | None
    matched_existing: bool = False
    duplicate: bool = False
    refusal: DomainError | None = None
    position: int | None = None


class SignalIntake(BatchReading):
    """Receiving signals; the application service's constructor sets what it uses."""

    MAX_CONFLICT_RETRIES = 3
    BATCH_ATTEMPTS = 3  # a refused batch is stored together this often before one by one
    vault: PersonalDataVault
    links: CaseLinks
    refs: IndexRefs
    name_index: NameIndex | None = None  # set by the composition root: search by name
    # The secret of the ids of cases opened by signals; the composition root sets the engine's
    # own (``domain.signal_record.case_id_secret``), this one serves stores without settings.
    case_id_secret: bytes = b"ks-engine opened case ids without settings"
    clock: Callable[[], datetime]
    _existing: ExistenceQuery | None
    _unsnapshotted: Repository[UUID]

    def construct_repository(self) -> Repository[UUID]:
        """The library's repository, replaying events without a protocol check per event."""
        return ReplayingRepository.like(super().construct_repository())

    def receive_signal(self, signal: Signal, ctx: c.Context) -> SignalOutcome:
        """Open a case for a first signal, or add it to the person's open case."""
        return self.receive_signals([(signal, ctx)])[0]

    def receive_signals(self, batch: Sequence[tuple[Signal, c.Context]]) -> list[SignalOutcome]:
        """Process many signals and store all their effects in one transaction.

        A signal already processed (same key) is reported as a duplicate and changes nothing.
        A signal that opens a case gives it an id derived from its key; one added to an open
        case leaves an idempotency record (``domain.signal_record``). The batch first asks, in
        one query, which of the cases its signals would open and of their records exist (almost
        none: duplicates are rare), and reads only those; if a record or case was written
        meanwhile, by an earlier delivery or another worker, the store refuses the whole
        transaction. The batch is then stored together again (``BATCH_ATTEMPTS`` in all), each
        time asking the store afresh which ids exist, so that a duplicate is recognised and a
        loser of a race joins the winner's case; refused every time, it is retried signal by
        signal, each reading first.
        """
        for _ in range(self.BATCH_ATTEMPTS):
            try:
                return self._receive_together(batch, check_duplicates=False)
            except RecordConflictError:
                # Two intakes on one consumer race so in most batches of a burst: a person's
                # first signal in one's batch, a further one in the other's.
                continue
        if len(batch) == 1:
            return [self._receive_with_retries(*batch[0])]
        return [self._receive_with_retries(s, ctx) for s, ctx in batch]

    def _receive_with_retries(self, signal: Signal, ctx: c.Context) -> SignalOutcome:
        for attempt in range(self.MAX_CONFLICT_RETRIES):
            try:
                return self._receive_together([(signal, ctx)], check_duplicates=True)[0]
            except RecordConflictError:
                if attempt == self.MAX_CONFLICT_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _receive_together(
        self, batch: Sequence[tuple[Signal, c.Context]], *, check_duplicates: bool
    ) -> list[SignalOutcome]:
        with self.vault.keys.remembering():  # each data key read once, many read together
            return self._receive_remembering(batch, check_duplicates=check_duplicates)

    def _receive_remembering(
        self, batch: Sequence[tuple[Signal, c.Context]], *, check_duplicates: bool
    ) -> list[SignalOutcome]:
        work: dict[UUID, Aggregate] = {}
        pending: list[tuple[Signal, UUID, bool]] = []
        outcomes: list[SignalOutcome | None] = []
        at = self.clock()
        absent = set() if check_duplicates else self._absent_for(batch)
        known = self._read_ahead(batch, absent)
        lookups: list[_Lookups] = []
        for signal, ctx in batch:
            earlier = self._processed_before(signal.signal_key, work, absent)
            if earlier is not None:
                outcomes.append(earlier)
                continue
            try:
                case, matched = self._apply_signal(signal, ctx, at, work, absent, lookups, known)
            except DomainError as refusal:
                outcomes.append(SignalOutcome(signal.signal_key, None, refusal=refusal))
                continue
            if matched:  # a case opened by the signal is its own record (its id says so)
                record = SignalRecord(
                    signal_key=signal.signal_key, case_id=case.id, matched_existing=True
                )
                work[record.id] = record
            pending.append((signal, case.id, matched))
            outcomes.append(None)
        self._add_to_lookups(lookups, work, check_duplicates=check_duplicates)
        positions = self._positions(self.save(*work.values())) if work else {}
        fresh = iter(pending)
        result: list[SignalOutcome] = []
        for outcome in outcomes:
            if outcome is None:
                signal, case_id, matched = next(fresh)
                outcome = SignalOutcome(
                    signal.signal_key, case_id, matched, position=positions.get(case_id)
                )
            result.append(outcome)
        return result

    def _processed_before(
        self, key: str, work: dict[UUID, Aggregate], absent: set[UUID]
    ) -> SignalOutcome | None:
        """The outcome of an earlier delivery of the signal with ``key``, or None: the case it
        opened, or the record it left on the case it was added to. Ids in ``absent`` are known
        not to be stored (nor made in this batch): they are not read."""
        opened = opened_case_id(key, self.case_id_secret)
        if opened in work or opened not in absent:
            case = self._find(Referral, opened, work)
            if case is not None:
                return SignalOutcome(key, case.id, matched_existing=False, duplicate=True)
        record_id = signal_record_id(key)
        if record_id in work or record_id not in absent:
            record = self._find(SignalRecord, record_id, work)
            if record is not None:
                return SignalOutcome(key, record.case_id, record.matched_existing, duplicate=True)
        return None

    def _add_to_lookups(
        self, lookups: list[_Lookups], work: dict[UUID, Aggregate], *, check_duplicates: bool
    ) -> None:
        """Let the batch's cases be found by their name lookups. Which entries exist is asked
        in one query for the whole batch (almost every one is new: the name keys of a person
        not seen before); only existing entries are read."""
        wanted = [
            lookup_id(kind, entry.municipality, key)
            for entry in lookups
            for kind, key in entry.keyed
        ]
        absent = set() if check_duplicates else self._absent(wanted, work)

        def find(cls: type[A], aggregate_id: UUID, work: dict[UUID, Aggregate]) -> A | None:
            if aggregate_id in absent and aggregate_id not in work:
                return None
            return self._find(cls, aggregate_id, work)

        for entry in lookups:
            add_to_lookups(find, work, entry.case_id, entry.municipality, entry.keyed, self.refs)

    def _absent(self, ids: list[UUID], work: dict[UUID, Aggregate]) -> set[UUID]:
        """Those of ``ids`` (not in ``work``) known, in one query, not to be stored yet."""
        ids = [i for i in ids if i not in work]
        if self._existing is None or not ids:
            return set()
        found = self._existing(self.recorder, ids)
        return set() if found is None else set(ids) - found

    def _absent_for(self, batch: Sequence[tuple[Signal, c.Context]]) -> set[UUID]:
        """Of the batch's matching-index entries, the cases its signals would open and their
        idempotency records: the ids known (in one query) not to be stored yet."""
        if self._existing is None:
            return set()
        ids = [person_index_id(s.municipality, p) for s, _ in batch for p in named(s)]
        ids += [opened_case_id(s.signal_key, self.case_id_secret) for s, _ in batch]
        ids += [signal_record_id(s.signal_key) for s, _ in batch]
        found = self._existing(self.recorder, ids)
        return set() if found is None else set(ids) - found

    def _apply_signal(
        self,
        signal: Signal,
        ctx: c.Context,
        at: datetime,
        work: dict[UUID, Aggregate],
        absent: set[UUID],
        lookups: list[_Lookups],
        known: Mapping[UUID, Aggregate],
    ) -> tuple[Referral, bool]:
        """Join the open case of any household member the signal names (the person's own
        first), or open a case; every named member without an open case is indexed to it.
        The search lookups the case needs are added to ``lookups``.

        Index entries have deterministic ids and are written in the same transaction as the
        case: of two intakes racing about members of one household, one is refused and, on
        its retry, joins the winner's case."""
        indexes: dict[str, PersonIndex | None] = {}
        for pseudonym in named(signal):
            index_id = person_index_id(signal.municipality, pseudonym)
            if index_id in absent and index_id not in work:
                indexes[pseudonym] = None
            else:
                indexes[pseudonym] = self._find_known(PersonIndex, index_id, work, known)
        opened = [self.refs.case_of(i.open_case_id) for i in indexes.values() if i]
        open_ids = list(dict.fromkeys(o for o in opened if o is not None))
        if open_ids:
            case = self._find_known(Referral, open_ids[0], work, known)
            assert case is not None, "the matching index names a case that does not exist"
            case.refuse_if_erased("add a signal")  # before a key is used for nothing
            signal = self.links.seal_signal(signal, key_of(case.person_pseudonym))
            self._birth_reported(case, signal, ctx, at)
            sealed, _ = self.vault.seal(signal.personal, case.personal_key_id)
            case.add_signal(
                signal,
                actor=ctx.actor,
                at=at,
                causation_id=ctx.causation_id,
                sealed_personal=sealed,
                related_cases=open_ids[1:],
            )
        else:
            signal = self.links.seal_signal(signal, self.links.new_key())
            sealed, _ = self.vault.seal(signal.personal, None)
            case = Referral.signal(
                signal,
                actor=ctx.actor,
                at=at,
                causation_id=ctx.causation_id,
                sealed_personal=sealed,
                case_id=opened_case_id(signal.signal_key, self.case_id_secret),
            )
        work[case.id] = case
        keyed = [("name", k) for k in name_keys(self.name_index, signal.personal)]
        lookups.append(_Lookups(case.id, case.municipality, keyed))
        for pseudonym, index in indexes.items():
            if index is None:
                index = PersonIndex.open(signal.municipality, pseudonym, self.refs.new(case.id))
            elif self.refs.case_of(index.open_case_id) is None:
                index.case_opened(self.refs.for_case(index.case_ids, case.id))
            else:
                continue
            work[index.id] = index
        return case, bool(open_ids)

    @staticmethod
    def _birth_reported(case: Referral, signal: Signal, ctx: c.Context, at: datetime) -> None:
        """A postnatal signal naming a child the household did not know, while it expects
        one: the expected child was born (``ChildBorn``), known by its own pseudonym now."""
        if signal.phase.phase is not Phase.POSTNATAL or not unborn_due_dates(case):
            return
        known = set(case.member_pseudonyms)
        born = [
            m.pseudonym
            for m in signal.household
            if m.role is MemberRole.CHILD and m.pseudonym and m.pseudonym not in known
        ]
        if born:
            case.record_birth(
                child_pseudonym=born[0],
                sealed_personal=None,  # the child's details come sealed with the signal
                actor=ctx.actor,
                at=at,
                causation_id=ctx.causation_id,
            )

    def _find_known(
        self,
        cls: type[A],
        aggregate_id: UUID,
        work: dict[UUID, Aggregate],
        known: Mapping[UUID, Aggregate],
    ) -> A | None:
        """As ``_find``, with the aggregates the batch read ahead (``known``) read already."""
        if aggregate_id in known and aggregate_id not in work:
            found = known[aggregate_id]
            assert isinstance(found, cls)
            return found
        return self._find(cls, aggregate_id, work)

    def _find(self, cls: type[A], aggregate_id: UUID, work: dict[UUID, Aggregate]) -> A | None:
        if aggregate_id in work:
            found = work[aggregate_id]
        else:
            repository = (
                self.repository if cls in self.snapshotting_intervals else self._unsnapshotted
            )
            try:
                found = repository.get(aggregate_id)
            except AggregateNotFoundError:
                return None
        assert isinstance(found, cls)
        return found

    @staticmethod
    def _positions(recordings: list[Recording[UUID]]) -> dict[UUID, int]:
        positions: dict[UUID, int] = {}
        for r in recordings:
            positions[r.domain_event.originator_id] = r.notification.id
        return positions


@dataclass(frozen=True)
class _Lookups:
    """The search lookups one signal's case needs, added once the batch is applied."""

    case_id: UUID
    municipality: str
    keyed: list[tuple[str, str]]
