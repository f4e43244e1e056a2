"""The application service: runs commands on referrals against the event store."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, DomainEventProtocol, MutableOrImmutableAggregate
from eventsourcing.persistence import JSONTranscoder, RecordConflictError, Recording

from domain import organisations
from domain.case_lookup import CaseLookup, lookup_id
from domain.catalogue import Catalogue, Suggestion, suggest_support
from domain.deadlines import ServiceLevels
from domain.errors import CaseNotFoundError, VersionConflictError
from domain.menukaart import Menukaart
from domain.person_index import PersonIndex, person_index_id
from domain.personal_data import ErasureReason
from domain.referral import Referral
from domain.region import Region
from ks_engine import commands as c
from ks_engine.after_match import AfterMatchCommands
from ks_engine.batch_reads import BatchReads
from ks_engine.case_links import CaseLinks, IndexRefs, entry_keys, key_of
from ks_engine.case_lookups import name_keys
from ks_engine.case_search import CaseSearch, NumberQuery
from ks_engine.catalogue_maintenance import CatalogueMaintenance
from ks_engine.command_result import CommandResult as CommandResult  # adapters import it here
from ks_engine.household_service import HouseholdCommands
from ks_engine.keystore import MemoryKeyStore, PersonalDataVault, PersonalDetailsView
from ks_engine.meetings import MeetingCommands
from ks_engine.ownership import OwnershipCommands
from ks_engine.privacy.correction import CorrectionCommands
from ks_engine.privacy.rights import RightsCommands
from ks_engine.processing import AggregateProcessingEvent, ReplayingRepository
from ks_engine.signal_intake import ExistenceQuery
from ks_engine.transcoding import DateAsISO
from ks_engine.transfers import TransferCommands


class Referrals(
    MeetingCommands,
    RightsCommands,
    CorrectionCommands,
    TransferCommands,
    AfterMatchCommands,
    OwnershipCommands,
    CatalogueMaintenance,
    HouseholdCommands,
    CaseSearch,
):
    """Referrals to the Knooppunt: signals in, coordinators' decisions recorded."""

    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Referral: 50, Menukaart: 20}

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        catalogue: Catalogue,
        service_levels: ServiceLevels | None = None,
        clock: Callable[[], datetime],
        existing: ExistenceQuery | None = None,
        batch_reads: BatchReads | None = None,
        numbered: NumberQuery | None = None,
        vault: PersonalDataVault | None = None,
        region: Region | None = None,
    ) -> None:
        super().__init__(env)
        # Without a vault of the store's own, data keys live (and die) with this process.
        self.vault = vault or PersonalDataVault(MemoryKeyStore())
        self.links = CaseLinks(self.vault.keys)  # a case's pseudonyms, sealed under its key
        self.refs = IndexRefs(self.links)  # case ids in index entries, sealed per entry
        self._seed_catalogue = catalogue  # until the menukaart is first changed (see mixin)
        self.region = region
        self._existing = existing
        self._batch_reads = batch_reads
        self._numbered = numbered
        self.service_levels = service_levels or ServiceLevels()
        self.clock = clock
        # Matching index and idempotency records are never snapshotted: reading them skips
        # the snapshot table (one query instead of two for every lookup at intake).
        self._unsnapshotted = ReplayingRepository(event_store=self.events)
        self._on_recorded: list[Callable[[], None]] = []
        self._on_grown: list[Callable[[], None]] = []

    def on_recorded(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` (in the saving thread) after every save of this process.
        Returns the function that stops calling it."""
        return _listen(self._on_recorded, listener)

    def on_grown(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` whenever the log has grown: after every save of this process, and
        when another process says it saved (``grown_elsewhere``). Returns the function that
        stops calling it (a restarted relay listens anew)."""
        return _listen(self._on_grown, listener)

    def grown_elsewhere(self) -> None:
        """Another process saved to the shared store: tell those waiting for the log to grow."""
        for listener in tuple(self._on_grown):
            listener()

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
        for listener in (*self._on_recorded, *self._on_grown):  # a copy: listeners come and go
            listener()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

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
                record=cmd.record,
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
        catalogue = self.catalogue  # the current version: the match records it
        offers = [{"offer_id": o, "provider": catalogue.provider_of(o).id} for o in cmd.offer_ids]
        case.match_support(
            offers=offers,
            lead_professional=cmd.lead_professional,
            planned_start=cmd.planned_start,
            catalogue_version=catalogue.version,
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
            organisations=cmd.organisations,
            purpose=cmd.purpose,
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
        indexes = self._member_indexes(case)
        for index in indexes:
            index.case_released(self.refs.for_case(index.case_ids, case.id))
        return self._commit(case, *indexes)

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
        """Erase the person's details and the coordinators' notes: record it, release the person
        from the matching index and the name lookups (a new signal opens a new case), then
        destroy the data keys.

        Running it again on an erased case finishes an interrupted erasure and changes no
        history; IllegalTransitionError is not raised for that case. The case's link key goes
        with its data keys: its sealed pseudonyms (in its events and in the access log) then
        tie it to no one.
        """
        case = self.get_case(case_id)
        refs: list[object] = []  # the entries naming the case: their keys are destroyed too
        changed: list[Aggregate] = []
        for index in self._member_indexes(case):
            found = [r for r in (index.open_case_id, *index.case_ids) if r is not None]
            ref = self.refs.find(found, case.id)
            if ref is not None:
                index.forget(ref)
                changed.append(index)
                refs.append(ref)
        # The coordinators' notes go with the details (also when an erasure is finished).
        notes, note_keys = self._notes_erasing(case, reason=reason.value, ctx=ctx)
        changed += [n for n in notes if n.pending_events]
        link = key_of(case.person_pseudonym)  # the case's pseudonyms are sealed under it
        if case.personal_erased is None:
            changed += self._name_lookups_forgetting(case, refs)
        # The entries' own keys go first: once the entries are recorded as forgotten, nothing
        # would find those keys again (an erasure interrupted after its commit is finished by
        # running it again, from the case's own keys). Meanwhile a next signal about the
        # person opens a new case, as it will after the erasure.
        self.vault.destroy(entry_keys(refs))
        if case.personal_erased is None:
            key_ids = case.erase_personal_data(
                reason=reason, actor=ctx.actor, at=self.clock(), causation_id=ctx.causation_id
            )
            result = self._commit(case, *changed)
        else:
            key_ids = list(case.personal_erased["key_ids"])
            recordings = self.save(*changed) if changed else []
            position = recordings[-1].notification.id if recordings else 0
            result = CommandResult(case.id, case.version, position)
        self.vault.destroy([*key_ids, *note_keys, *([link] if link else [])])
        return result

    def suggest_support(self, case_id: UUID) -> list[Suggestion]:
        """Offers from the menukaart ranked by fit for this case."""
        case = self.get_case(case_id)
        available = self.region.offers_in(case.municipality) if self.region else None
        return suggest_support(case, self.catalogue, available)

    def organisation_names(self) -> dict[str, str]:
        """The names of the organisations the region and the menukaart know, by id."""
        return organisations.names(self.catalogue, self.region)

    def organisations_named(self, ids: list[str]) -> list[tuple[str, str]]:
        """The organisations ``ids`` name, each once, as (its ids joined by spaces, name)."""
        return organisations.grouped(ids, self.catalogue, self.region)

    def organisations_for(self, case: Referral) -> list[tuple[str, str]]:
        """The organisations a consent or an escalation of the case can name, as (ids, name):
        those working in its municipality and its reporters, by name."""
        reporters = [s["reporter"]["organisation"] for s in case.signals]
        return organisations.working_in(
            case.municipality, self.catalogue, self.region, also=reporters
        )

    # -- helpers --------------------------------------------------------------------------
    def _name_lookups_forgetting(self, case: Referral, refs: list[object]) -> list[Aggregate]:
        """The name lookups that find the case, each told to forget it: read while the
        names can still be opened, before the data keys are destroyed. Their references to
        the case are added to ``refs`` (their keys go with the case's)."""
        details = self.personal_details(case.id).details
        found = [
            self._find(CaseLookup, lookup_id("name", case.municipality, key), {})
            for key in name_keys(self.name_index, details)
        ]
        lookups: list[Aggregate] = []
        for lookup in found:
            ref = self.refs.find(lookup.case_ids, case.id) if lookup is not None else None
            if lookup is not None and ref is not None:
                lookup.remove(ref)
                lookups.append(lookup)
                refs.append(ref)
        return lookups

    def _member_indexes(self, case: Referral) -> list[PersonIndex]:
        """The matching-index entries of every household member of the case."""
        found = [
            self._find(PersonIndex, person_index_id(case.municipality, p), {})
            for p in self.member_pseudonyms(case)
        ]
        return [i for i in found if i is not None]

    def member_pseudonyms(self, case: Referral) -> list[str]:
        """The household members' pseudonyms opened from their seal (none once erased)."""
        opened = [self.links.unseal(p) for p in case.member_pseudonyms]
        return [p for p in opened if p is not None]

    def _case_for(self, cmd: c.CaseCommand) -> Referral:
        case = self.get_case(cmd.case_id)
        # A restricted case (AVG art. 18) takes no command but the privacy officer's.
        case.refuse_if_restricted("change")
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


def _listen(
    listeners: list[Callable[[], None]], listener: Callable[[], None]
) -> Callable[[], None]:
    """Add ``listener``; the function that removes it again."""
    listeners.append(listener)

    def remove() -> None:
        with contextlib.suppress(ValueError):
            listeners.remove(listener)

    return remove
