"""The application service: runs commands on referrals against the event store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.domain import Aggregate, DomainEventProtocol, MutableOrImmutableAggregate
from eventsourcing.persistence import JSONTranscoder, RecordConflictError, Recorder, Recording

from domain.catalogue import Catalogue, Suggestion, suggest_support
from domain.deadlines import ServiceLevels
from domain.errors import CaseNotFoundError, DomainError, VersionConflictError
from domain.person_index import PersonIndex, person_index_id
from domain.personal_data import ErasureReason
from domain.referral import Referral
from domain.signal_record import SignalRecord, signal_record_id
from domain.values import Signal
from ks_engine import commands as c
from ks_engine.keystore import MemoryKeyStore, PersonalDataVault, PersonalDetailsView
from ks_engine.processing import AggregateProcessingEvent
from ks_engine.transcoding import DateAsISO

A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True)
class SignalOutcome:
    """What became of one signal: the case it opened or joined, or why it was refused."""

    signal_key: str
    case_id: UUID | None
    matched_existing: bool = False
    duplicate: bool = False
    refusal: DomainError | None = None
    position: int | None = None


@dataclass(frozen=True)
class CommandResult:
    """The case's version after a command and the log position of its last event."""

    case_id: UUID
    version: int
    position: int


ExistenceQuery = Callable[[Recorder, Sequence[UUID]], "set[UUID] | None"]


class Referrals(Application[UUID]):
    """Referrals to the Knooppunt: signals in, coordinators' decisions recorded."""

    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Referral: 50}
    MAX_CONFLICT_RETRIES = 3

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        catalogue: Catalogue,
        service_levels: ServiceLevels | None = None,
        clock: Callable[[], datetime],
        existing: ExistenceQuery | None = None,
        vault: PersonalDataVault | None = None,
    ) -> None:
        super().__init__(env)
        # Without a vault of the store's own, data keys live (and die) with this process.
        self.vault = vault or PersonalDataVault(MemoryKeyStore())
        self.catalogue = catalogue
        self._existing = existing
        self.service_levels = service_levels or ServiceLevels()
        self.clock = clock
        # Matching index and idempotency records are never snapshotted: reading them skips
        # the snapshot table (one query instead of two for every lookup at intake).
        self._unsnapshotted = Repository(event_store=self.events)
        self._on_recorded: list[Callable[[], None]] = []

    def on_recorded(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (in the saving thread) after every save: the log has grown."""
        self._on_recorded.append(listener)

    def save(
        self,
        *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None,
        **kwargs: Any,
    ) -> list[Recording[UUID]]:
        """As ``Application.save``, collecting events without per-object protocol checks."""
        processing_event = AggregateProcessingEvent()
        processing_event.collect_events(*objs, **kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        for listener in self._on_recorded:
            listener()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # -- signals --------------------------------------------------------------------------
    def receive_signal(self, signal: Signal, ctx: c.Context) -> SignalOutcome:
        """Open a case for a first signal, or add it to the person's open case."""
        return self.receive_signals([(signal, ctx)])[0]

    def receive_signals(self, batch: Sequence[tuple[Signal, c.Context]]) -> list[SignalOutcome]:
        """Process many signals and store all their effects in one transaction.

        A signal already processed (same key) is reported as a duplicate and changes nothing.
        The batch first assumes its signals are new (their idempotency records are written, not
        read: duplicates are rare); if a record or case was written meanwhile, by an earlier
        delivery or another worker, the store refuses the whole transaction and the batch is
        retried signal by signal, each reading first, so that a duplicate is recognised and a
        loser of a race joins the winner's case.
        """
        try:
            return self._receive_together(batch, check_duplicates=False)
        except RecordConflictError:
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
        work: dict[UUID, Aggregate] = {}
        pending: list[tuple[Signal, UUID, bool]] = []
        outcomes: list[SignalOutcome | None] = []
        at = self.clock()
        absent = set() if check_duplicates else self._absent_indexes(batch)
        for signal, ctx in batch:
            record_id = signal_record_id(signal.signal_key)
            if check_duplicates or record_id in work:
                record = self._find(SignalRecord, record_id, work)
            else:
                record = None
            if record is not None:
                outcomes.append(
                    SignalOutcome(signal.signal_key, record.case_id, record.matched_existing, True)
                )
                continue
            try:
                case, matched = self._apply_signal(signal, ctx, at, work, absent)
            except DomainError as refusal:
                outcomes.append(SignalOutcome(signal.signal_key, None, refusal=refusal))
                continue
            record = SignalRecord(
                signal_key=signal.signal_key, case_id=case.id, matched_existing=matched
            )
            work[record.id] = record
            pending.append((signal, case.id, matched))
            outcomes.append(None)
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

    def _absent_indexes(self, batch: Sequence[tuple[Signal, c.Context]]) -> set[UUID]:
        """The batch's matching-index ids known (in one query) not to be stored yet."""
        if self._existing is None:
            return set()
        ids = [person_index_id(s.municipality, s.person_pseudonym) for s, _ in batch]
        found = self._existing(self.recorder, ids)
        return set() if found is None else set(ids) - found

    def _apply_signal(
        self,
        signal: Signal,
        ctx: c.Context,
        at: datetime,
        work: dict[UUID, Aggregate],
        absent: set[UUID],
    ) -> tuple[Referral, bool]:
        index_id = person_index_id(signal.municipality, signal.person_pseudonym)
        if index_id in absent and index_id not in work:
            index = None
        else:
            index = self._find(PersonIndex, index_id, work)
        if index is not None and index.open_case_id is not None:
            case = self._find(Referral, index.open_case_id, work)
            assert case is not None, "the matching index names a case that does not exist"
            case.refuse_if_erased("add a signal")  # before a key is used for nothing
            sealed, _ = self.vault.seal(signal.personal, case.personal_key_id)
            case.add_signal(
                signal,
                actor=ctx.actor,
                at=at,
                causation_id=ctx.causation_id,
                sealed_personal=sealed,
            )
            work[case.id] = case
            return case, True
        sealed, _ = self.vault.seal(signal.personal, None)
        case = Referral.signal(
            signal, actor=ctx.actor, at=at, causation_id=ctx.causation_id, sealed_personal=sealed
        )
        if index is None:
            index = PersonIndex(
                municipality=signal.municipality,
                person_pseudonym=signal.person_pseudonym,
                case_id=case.id,
            )
        else:
            index.case_opened(case.id)
        work[case.id] = case
        work[index.id] = index
        return case, False

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

    # -- coordinators' commands -----------------------------------------------------------
    def request_consent(self, cmd: c.RequestConsent, ctx: c.Context) -> CommandResult:
        """Record that the family was asked for consent."""
        case = self._case_for(cmd)
        case.request_consent(actor=ctx.actor, at=self.clock(), causation_id=ctx.causation_id)
        return self._commit(case)

    def record_consent(self, cmd: c.RecordConsent, ctx: c.Context) -> CommandResult:
        """Record the family's answer to the consent request."""
        case = self._case_for(cmd)
        if cmd.given:
            case.give_consent(
                scope=cmd.scope,
                expires_on=cmd.expires_on,
                actor=ctx.actor,
                at=self.clock(),
                causation_id=ctx.causation_id,
            )
        else:
            case.decline_consent(actor=ctx.actor, at=self.clock(), causation_id=ctx.causation_id)
        return self._commit(case)

    def withdraw_consent(self, cmd: c.WithdrawConsent, ctx: c.Context) -> CommandResult:
        """Record that the family withdrew consent."""
        case = self._case_for(cmd)
        case.withdraw_consent(actor=ctx.actor, at=self.clock(), causation_id=ctx.causation_id)
        return self._commit(case)

    def record_discussion(self, cmd: c.RecordDiscussion, ctx: c.Context) -> CommandResult:
        """Record the case discussion at the Knooppunt."""
        case = self._case_for(cmd)
        case.record_discussion(
            on=cmd.on,
            participants=cmd.participants,
            scores=cmd.scores,
            needs=cmd.needs,
            actor=ctx.actor,
            at=self.clock(),
            causation_id=ctx.causation_id,
        )
        return self._commit(case)

    def match_support(self, cmd: c.MatchSupport, ctx: c.Context) -> CommandResult:
        """Record the support agreed for the family, from the menukaart."""
        case = self._case_for(cmd)
        offers = [
            {"offer_id": o, "provider": self.catalogue.provider_of(o).id} for o in cmd.offer_ids
        ]
        case.match_support(
            offers=offers,
            lead_professional=cmd.lead_professional,
            planned_start=cmd.planned_start,
            actor=ctx.actor,
            at=self.clock(),
            causation_id=ctx.causation_id,
        )
        return self._commit(case)

    def escalate(self, cmd: c.Escalate, ctx: c.Context) -> CommandResult:
        """Escalate under the Meldcode."""
        case = self._case_for(cmd)
        case.escalate(
            meldcode_step=cmd.meldcode_step,
            legal_basis=cmd.legal_basis,
            justification=cmd.justification,
            actor=ctx.actor,
            at=self.clock(),
            causation_id=ctx.causation_id,
        )
        return self._commit(case)

    def close_case(self, cmd: c.Close, ctx: c.Context) -> CommandResult:
        """Close the case; a later signal about the person opens a new case."""
        case = self._case_for(cmd)
        case.close(
            outcome=cmd.outcome,
            reason=cmd.reason,
            actor=ctx.actor,
            at=self.clock(),
            causation_id=ctx.causation_id,
        )
        index = self._find(
            PersonIndex, person_index_id(case.municipality, case.person_pseudonym), {}
        )
        if index is not None:
            index.case_released(case.id)
        return self._commit(case, index)

    # -- queries --------------------------------------------------------------------------
    def get_case(self, case_id: UUID) -> Referral:
        """The case as it is now, from its events; CaseNotFoundError if there is none."""
        try:
            case: Aggregate = self.repository.get(case_id)
        except AggregateNotFoundError:
            raise CaseNotFoundError(f"there is no case {case_id}") from None
        if not isinstance(case, Referral):
            raise CaseNotFoundError(f"there is no case {case_id}")
        return case

    def personal_details(self, case_id: UUID) -> PersonalDetailsView:
        """The person's details on this case, opened with its data key, or marked erased."""
        case = self.get_case(case_id)
        erased = case.personal_erased
        return self.vault.view(case.sealed_personal, erased["at"].date() if erased else None)

    def erase_personal_data(
        self, case_id: UUID, ctx: c.Context, reason: ErasureReason = ErasureReason.REQUEST
    ) -> CommandResult:
        """Erase the person's details: record it, release the person from the matching index
        (a new signal opens a new case), then destroy the data keys.

        Running it again on an erased case finishes an interrupted erasure and changes no
        history; IllegalTransitionError is not raised for that case.
        """
        case = self.get_case(case_id)
        index = self._find(
            PersonIndex, person_index_id(case.municipality, case.person_pseudonym), {}
        )
        if index is not None and index.open_case_id == case.id:
            index.forget(case.id)
        if case.personal_erased is None:
            key_ids = case.erase_personal_data(
                reason=reason, actor=ctx.actor, at=self.clock(), causation_id=ctx.causation_id
            )
            result = self._commit(case, index)
        else:
            key_ids = list(case.personal_erased["key_ids"])
            recordings = self.save(index) if index is not None else []
            position = recordings[-1].notification.id if recordings else 0
            result = CommandResult(case.id, case.version, position)
        self.vault.destroy(key_ids)
        return result

    def suggest_support(self, case_id: UUID) -> list[Suggestion]:
        """Offers from the menukaart ranked by fit for this case."""
        return suggest_support(self.get_case(case_id), self.catalogue)

    # -- helpers --------------------------------------------------------------------------
    def _case_for(self, cmd: c.CaseCommand) -> Referral:
        case = self.get_case(cmd.case_id)
        if cmd.expected_version is not None and cmd.expected_version != case.version:
            raise VersionConflictError(
                f"case {case.id} changed since version {cmd.expected_version} (now version "
                f"{case.version}); reload the case and try again",
                expected=cmd.expected_version,
                actual=case.version,
            )
        return case

    def _commit(self, case: Referral, *others: Aggregate | None) -> CommandResult:
        # save() collects the pending events before it writes: count them first.
        read_version = case.version - len(case.pending_events)
        try:
            recordings = self.save(case, *others)
        except RecordConflictError:
            actual = self.get_case(case.id).version
            raise VersionConflictError(
                f"case {case.id} was changed by someone else at the same moment (now version "
                f"{actual}); reload the case and try again",
                expected=read_version,
                actual=actual,
            ) from None
        return CommandResult(case.id, case.version, recordings[-1].notification.id)
