"""Moving house: a case asked for, accepted or refused by another municipality's Knooppunt.

On acceptance the case, its history and its open work move in one transaction: the matching
index lets the family's later signals in the new municipality join the case (and no longer in
the old one), and the case number and name lookups follow it, so a search in the old
municipality no longer finds it while one in the new municipality does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.case_lookup import CaseLookup, lookup_id
from domain.errors import InvalidValueError
from domain.person_index import PersonIndex, person_index_id
from ks_engine import commands as c
from ks_engine.case_links import entry_keys
from ks_engine.case_lookups import add_to_lookups, name_keys
from ks_engine.signal_intake import SignalIntake

if TYPE_CHECKING:
    from uuid import UUID

    from eventsourcing.domain import Aggregate

    from domain.referral import Referral
    from domain.region import Region
    from ks_engine.command_result import CommandResult
    from ks_engine.keystore import PersonalDetailsView


class TransferCommands(SignalIntake):
    """Transfers; ``ks_engine.application.Referrals`` provides the helpers."""

    if TYPE_CHECKING:
        region: Region | None

        def _case_for(self, cmd: c.CaseCommand) -> Referral: ...
        def _commit(self, case: Referral, *others: Aggregate | None) -> CommandResult: ...
        def _member_indexes(self, case: Referral) -> list[PersonIndex]: ...
        def personal_details(self, case_id: UUID) -> PersonalDetailsView: ...
        def member_pseudonyms(self, case: Referral) -> list[str]: ...

    def request_transfer(self, cmd: c.RequestTransfer, ctx: c.Context) -> CommandResult:
        """Ask the Knooppunt of ``cmd.to_municipality`` (one of the region's) to take over."""
        case = self._case_for(cmd)
        region = self.region
        if region is not None and cmd.to_municipality not in region.knooppunten:
            runs = ", ".join(region.name_of(m) for m in region.knooppunten)
            raise InvalidValueError(
                f"cannot ask to transfer case {case.id} to {cmd.to_municipality}: "
                f"{region.name_of(cmd.to_municipality)} runs no Knooppunt in region "
                f"{region.name} (these do: {runs}); close the case with result "
                "moved_away and let the family's new municipality know instead"
            )
        case.request_transfer(
            to_municipality=cmd.to_municipality,
            basis=cmd.basis,
            consent=cmd.consent,
            actor=ctx.actor,
            at=self.clock(),
            causation_id=ctx.causation_id,
        )
        return self._commit(case)

    def accept_transfer(self, cmd: c.AcceptTransfer, ctx: c.Context) -> CommandResult:
        """Take the case over: it continues here, with its whole history."""
        case = self._case_for(cmd)
        leaving = self._member_indexes(case)
        before = case.accept_transfer(
            actor=ctx.actor, at=self.clock(), causation_id=ctx.causation_id
        )
        work: dict[UUID, Aggregate] = {}
        refs: list[object] = []  # entries in the old municipality that stop naming the case
        for index in leaving:
            ref = self.refs.find([*index.case_ids], case.id)
            if ref is not None:
                index.forget(ref)
                work[index.id] = index
                refs.append(ref)
        for pseudonym in self.member_pseudonyms(case):
            index_id = person_index_id(case.municipality, pseudonym)
            found = self._find(PersonIndex, index_id, work)
            if found is None:
                found = PersonIndex.open(case.municipality, pseudonym, self.refs.new(case.id))
            elif self.refs.case_of(found.open_case_id) is None:
                found.case_opened(self.refs.for_case(found.case_ids, case.id))
            else:
                continue  # the member has an open case here already: the coordinator may merge
            work[found.id] = found
        view = self.personal_details(case.id)
        keys = [("name", k) for k in name_keys(self.name_index, view.details)]
        for kind, key in keys:
            old = self._find(CaseLookup, lookup_id(kind, before, key), work)
            ref = self.refs.find(old.case_ids, case.id) if old is not None else None
            if old is not None and ref is not None:
                old.remove(ref)
                work[old.id] = old
                refs.append(ref)
        add_to_lookups(self._find, work, case.id, case.municipality, keys, self.refs)
        result = self._commit(case, *work.values())
        self.vault.destroy(entry_keys(refs))  # the old municipality's entries lead nowhere
        return result

    def refuse_transfer(self, cmd: c.RefuseTransfer, ctx: c.Context) -> CommandResult:
        """Decline the transfer: the case stays with the municipality that asked."""
        case = self._case_for(cmd)
        case.refuse_transfer(
            reason=cmd.reason, actor=ctx.actor, at=self.clock(), causation_id=ctx.causation_id
        )
        return self._commit(case)
