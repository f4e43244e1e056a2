"""The coordinators' household commands: record a birth, merge two cases of one household.

Both change the matching index in the same transaction as the cases: after a birth the
child's pseudonym finds the case; after a merge every member of the merged case finds the
case that stays open. A concurrent change to any of them refuses the whole command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from domain.errors import InvalidValueError
from domain.household import MemberDetails, MemberRole
from domain.person_index import PersonIndex, person_index_id
from domain.referral import Referral
from domain.values import PersonalDetails
from ks_engine import commands as c
from ks_engine.case_links import key_of
from ks_engine.case_lookups import add_to_lookups, name_keys
from ks_engine.signal_intake import SignalIntake

if TYPE_CHECKING:
    from eventsourcing.domain import Aggregate

    from ks_engine.command_result import CommandResult


class HouseholdCommands(SignalIntake):
    """Births and merges; ``ks_engine.application.Referrals`` provides the helpers."""

    if TYPE_CHECKING:

        def _case_for(self, cmd: c.CaseCommand) -> Referral: ...
        def _commit(self, case: Referral, *others: Aggregate | None) -> CommandResult: ...
        def get_case(self, case_id: UUID) -> Referral: ...
        def member_pseudonyms(self, case: Referral) -> list[str]: ...

    def record_birth(self, cmd: c.RecordBirth, ctx: c.Context) -> CommandResult:
        """Record the birth of the expected child; later signals about it join the case."""
        case = self._case_for(cmd)
        if cmd.birth_date > self.clock().date():
            raise InvalidValueError(
                f"cannot record the birth for case {case.id}: the birth date lies in the future"
            )
        case.refuse_if_erased("record a birth")  # before the erased link key is asked for
        index = self._find(PersonIndex, person_index_id(case.municipality, cmd.child_pseudonym), {})
        if index is not None and self.refs.case_of(index.open_case_id) not in (None, case.id):
            raise InvalidValueError(
                f"cannot record the birth for case {case.id}: the child already belongs to "
                "another open case; merge the cases first"
            )
        details = PersonalDetails(
            household=(
                MemberDetails(
                    role=MemberRole.CHILD,
                    ref=cmd.child_pseudonym,
                    name=cmd.name,
                    birth_date=cmd.birth_date,
                ),
            )
        )
        sealed, _ = self.vault.seal(details, case.personal_key_id)
        case.record_birth(
            child_pseudonym=self.links.seal(cmd.child_pseudonym, key_of(case.person_pseudonym)),
            sealed_personal=sealed,
            actor=ctx.actor,
            at=self.clock(),
            causation_id=ctx.causation_id,
        )
        if index is None:
            index = PersonIndex.open(case.municipality, cmd.child_pseudonym, self.refs.new(case.id))
        elif self.refs.case_of(index.open_case_id) is None:
            index.case_opened(self.refs.for_case(index.case_ids, case.id))
        work: dict[UUID, Aggregate] = {}
        keyed = [("name", k) for k in name_keys(self.name_index, details)]
        add_to_lookups(self._find, work, case.id, case.municipality, keyed, self.refs)
        return self._commit(case, index, *work.values())

    def merge_cases(self, cmd: c.MergeCases, ctx: c.Context) -> CommandResult:
        """Take the other case of the household into this one (``CasesMerged`` on both)."""
        kept = self._case_for(cmd)
        other = self.get_case(cmd.other_case_id)
        other.refuse_if_restricted("merge")
        at = self.clock()
        reseal = self.links.resealer(key_of(kept.person_pseudonym))
        kept.merge_in(other, actor=ctx.actor, at=at, cid=ctx.causation_id, reseal=reseal)
        other.merge_into(kept, actor=ctx.actor, at=at, cid=ctx.causation_id, reseal=reseal)
        moved: list[PersonIndex] = []
        for pseudonym in self.member_pseudonyms(other):
            index = self._find(PersonIndex, person_index_id(other.municipality, pseudonym), {})
            if index is not None and self.refs.case_of(index.open_case_id) in (None, other.id):
                index.case_opened(self.refs.for_case(index.case_ids, kept.id))
                moved.append(index)
        return self._commit(kept, other, *moved)
