"""Correction (AVG art. 16), served by the privacy officer: retract a signal about the wrong
person, and correct the personal details.

Both may seal the details anew: under a fresh data key, leaving out what was wrong, after
which the keys the old version was sealed under are destroyed (it can never be read again).
The name lookups follow in the same transaction, and a retraction releases the pseudonyms the
signal alone linked from the matching index, so the person's later signals open their own case.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.case_lookup import CaseLookup, lookup_id
from domain.correction import CorrectionCause
from domain.errors import InvalidValueError
from domain.person_index import PersonIndex, person_index_id
from domain.personal_data import ErasureReason
from domain.values import Outcome, PersonalDetails
from ks_engine import commands as c
from ks_engine.case_links import entry_keys, key_of
from ks_engine.case_lookups import add_to_lookups, name_keys
from ks_engine.signal_intake import SignalIntake

if TYPE_CHECKING:
    from uuid import UUID

    from eventsourcing.domain import Aggregate

    from domain.referral import Referral
    from ks_engine.command_result import CommandResult

Json = dict[str, object]


class CorrectionCommands(SignalIntake):
    """Retraction and correction; ``ks_engine.application.Referrals`` provides the helpers."""

    if TYPE_CHECKING:

        def _versioned(self, cmd: c.CaseCommand) -> Referral: ...
        def _notes_erasing(
            self, case: Referral, *, reason: str, ctx: c.Context
        ) -> tuple[list[Aggregate], list[str]]: ...
        def _commit(self, case: Referral, *others: Aggregate | None) -> CommandResult: ...
        def _member_indexes(self, case: Referral) -> list[PersonIndex]: ...
        def _name_lookups_forgetting(
            self, case: Referral, refs: list[object]
        ) -> list[Aggregate]: ...

    def retract_signal(self, cmd: c.RetractSignal, ctx: c.Context) -> CommandResult:
        """Retract a signal: it leaves the case, the people only it named are unlinked, the
        details it brought are sealed anew without it; with no signal left, an open case
        closes (``signal_retracted``) and its details are erased."""
        case = self._versioned(cmd)
        at = self.clock()
        record = (
            case.signals[cmd.signal_number - 1] if cmd.signal_number <= len(case.signals) else {}
        )
        wrong = case.sealed_from(str(record.get("signal_key", "")))
        unlinked = case.retract_signal(
            number=cmd.signal_number,
            reason=cmd.reason,
            actor=ctx.actor,
            at=at,
            causation_id=ctx.causation_id,
        )
        work: dict[UUID, Aggregate] = {}
        refs: list[object] = []  # entries that stop naming the case: their keys go too
        for sealed in unlinked:
            pseudonym = self.links.unseal(sealed)
            if pseudonym is None:
                continue
            index = self._find(PersonIndex, person_index_id(case.municipality, pseudonym), work)
            ref = self.refs.find([*index.case_ids], case.id) if index is not None else None
            if index is not None and ref is not None:
                index.forget(ref)
                work[index.id] = index
                refs.append(ref)
        key_ids: list[str] = []
        if not case.signals:
            if case.is_open:
                case.close(
                    outcome=Outcome.SIGNAL_RETRACTED,
                    reason="",
                    actor=ctx.actor,
                    at=at,
                    causation_id=ctx.causation_id,
                )
                for index in self._member_indexes(case):
                    index.case_released(self.refs.for_case(index.case_ids, case.id))
                    work[index.id] = index
            if case.personal_erased is None and case.sealed_personal:
                for lookup in self._name_lookups_forgetting(case, refs):
                    work[lookup.id] = lookup
                key_ids = case.erase_personal_data(
                    reason=ErasureReason.CORRECTION,
                    actor=ctx.actor,
                    at=at,
                    causation_id=ctx.causation_id,
                )
                # The coordinators' notes go with the details (``ks_engine.ownership``).
                notes, note_keys = self._notes_erasing(
                    case, reason=ErasureReason.CORRECTION.value, ctx=ctx
                )
                work.update({n.id: n for n in notes if n.pending_events})
                key_ids += note_keys
                # No signal is left to tie the case to anyone: its link key goes as it does
                # with every erasure, and with it the sealed pseudonyms in its events.
                link = key_of(case.person_pseudonym)
                key_ids += [link] if link else []
        elif wrong and case.personal_erased is None:
            kept = [p for p in case.sealed_personal if p not in wrong]
            details = self.vault.view(kept, None).details or PersonalDetails()
            key_ids = self._reseal(case, details, ["signal"], CorrectionCause.RETRACTION, ctx, work)
        result = self._commit(case, *work.values())
        self.vault.destroy(key_ids + entry_keys(refs))
        return result

    def correct_personal_details(
        self, cmd: c.CorrectPersonalDetails, ctx: c.Context
    ) -> CommandResult:
        """Seal the corrected details under a fresh key and destroy the old version's keys."""
        case = self._versioned(cmd)
        changes = cmd.changes
        head = f"cannot correct the personal details of case {case.id}"
        if set(cmd.remove) & set(cmd.given):
            raise InvalidValueError(f"{head}: a field is both given a new value and removed")
        if cmd.birth_date is not None and cmd.birth_date > self.clock().date():
            raise InvalidValueError(f"{head}: the birth date lies in the future")
        case.refuse_if_erased("correct the personal details")
        current = self.vault.view(case.sealed_personal, None)
        if current.status == "erased":
            raise InvalidValueError(f"{head}: they were erased and cannot be corrected")
        details = (current.details or PersonalDetails()).model_copy(update=changes)
        details = PersonalDetails.model_validate(details.model_dump())
        work: dict[UUID, Aggregate] = {}
        key_ids = self._reseal(case, details, list(changes), CorrectionCause.CORRECTION, ctx, work)
        result = self._commit(case, *work.values())
        self.vault.destroy(key_ids)
        return result

    def _reseal(
        self,
        case: Referral,
        details: PersonalDetails,
        fields: list[str],
        cause: CorrectionCause,
        ctx: c.Context,
        work: dict[UUID, Aggregate],
    ) -> list[str]:
        """Record ``details`` sealed under a fresh key, with the name lookups following;
        returns the old keys to destroy once the change is stored."""
        old = self.vault.view(case.sealed_personal, None).details
        sealed, _ = self.vault.seal(details, None)
        before, after = name_keys(self.name_index, old), name_keys(self.name_index, details)
        dropped: list[object] = []  # the old names' entries: their keys go with the old seal
        for key in before:
            if key not in after:
                lookup = self._find(CaseLookup, lookup_id("name", case.municipality, key), work)
                ref = self.refs.find(lookup.case_ids, case.id) if lookup is not None else None
                if lookup is not None and ref is not None:
                    lookup.remove(ref)
                    work[lookup.id] = lookup
                    dropped.append(ref)
        added = [("name", k) for k in after if k not in before]
        add_to_lookups(self._find, work, case.id, case.municipality, added, self.refs)
        old_keys = case.correct_personal_details(
            sealed=sealed,
            fields=fields,
            cause=cause,
            actor=ctx.actor,
            at=self.clock(),
            causation_id=ctx.causation_id,
        )
        return old_keys + entry_keys(dropped)
