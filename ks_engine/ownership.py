"""Who owns a case and the coordinators' notes on it; mixed into ``Referrals``.

Notes are sealed under their case's notes key before they are stored and opened only when a
coordinator reads them (the HTTP adapter logs each read with its purpose); erasing the case's
personal details erases its notes in the same transaction, then destroys their key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from domain.case_notes import CaseNotes, notes_id
from domain.errors import InvalidValueError
from domain.referral import Referral
from ks_engine import commands as c
from ks_engine.keystore import PersonalDataVault

if TYPE_CHECKING:
    from eventsourcing.domain import Aggregate

    from ks_engine.command_result import CommandResult
    from ks_engine.signal_intake import A


@dataclass(frozen=True)
class Note:
    """One opened note: its number, who wrote it and when, and its text."""

    number: int
    at: datetime
    organisation: str
    user_ref: str
    text: str


@dataclass(frozen=True)
class NotesView:
    """A case's notes as the application gives them: present (maybe none) or erased."""

    status: Literal["present", "erased"]
    notes: tuple[Note, ...] = ()
    erased_at: datetime | None = None


class OwnershipCommands:
    """Assigning a case and its notes."""

    if TYPE_CHECKING:
        clock: Callable[[], datetime]
        vault: PersonalDataVault

        def _case_for(self, cmd: c.CaseCommand) -> Referral: ...
        def _commit(self, case: Referral, *others: Aggregate | None) -> CommandResult: ...
        def _find(
            self, cls: type[A], aggregate_id: UUID, work: dict[UUID, Aggregate]
        ) -> A | None: ...
        def get_case(self, case_id: UUID) -> Referral: ...

    def assign_case(self, cmd: c.Assign, ctx: c.Context) -> CommandResult:
        """Assign the case to a coordinator (whom the caller checked serves its municipality)."""
        case = self._case_for(cmd)
        case.assign(
            coordinator=cmd.coordinator,
            actor=ctx.actor,
            at=self.clock(),
            causation_id=ctx.causation_id,
        )
        return self._commit(case)

    def add_note(self, cmd: c.AddNote, ctx: c.Context) -> int:
        """Seal and store a coordinator's note on the case; the note's number."""
        case = self.get_case(cmd.case_id)
        case.refuse_if_restricted("add a note to")
        if case.personal_erased is not None:
            raise InvalidValueError(
                f"cannot add a note to case {case.id}: its personal details were erased"
            )
        notes = self._find(CaseNotes, notes_id(case.id), {})
        if notes is None:
            notes = CaseNotes(case_id=case.id, key_id=self.vault.keys.create())
        sealed = self.vault.seal_text(cmd.text, notes.key_id)
        number = notes.add(
            sealed=sealed, actor=ctx.actor, at=self.clock(), causation_id=ctx.causation_id
        )
        self._commit(case, notes)  # the case has no new event; it guards the transaction
        return number

    def case_notes(self, case_id: UUID) -> NotesView:
        """The case's notes, opened with their key, or marked erased."""
        case = self.get_case(case_id)
        notes = self._find(CaseNotes, notes_id(case.id), {})
        if notes is None:
            erased = case.personal_erased
            return NotesView("erased", erased_at=erased["at"]) if erased else NotesView("present")
        if notes.erased is not None:
            return NotesView("erased", erased_at=notes.erased["at"])
        opened: list[Note] = []
        for entry in notes.notes:
            text = self.vault.open_text(entry["sealed"])
            if text is None:  # the key is gone although no erasure was recorded (yet)
                return NotesView("erased")
            actor = entry["actor"]
            opened.append(
                Note(entry["number"], entry["at"], actor["organisation"], actor["user_ref"], text)
            )
        return NotesView("present", tuple(opened))

    def _notes_erasing(
        self, case: Referral, *, reason: str, ctx: c.Context
    ) -> tuple[list[Aggregate], list[str]]:
        """The case's notes told they are erased, and the keys to destroy with them."""
        notes = self._find(CaseNotes, notes_id(case.id), {})
        if notes is None:
            return [], []
        keys = notes.erase(
            reason=reason, actor=ctx.actor, at=self.clock(), causation_id=ctx.causation_id
        )
        return [notes], keys
