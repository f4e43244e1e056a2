"""Coordinators' notes on a case (*notities van de coördinator*): free text, kept sealed.

A note may say anything about the family, so it is treated as personal data: the application
seals its text under a data key of the case's notes (``ks_engine.keystore``) before it reaches
an event, and erasing the case's personal details records ``NotesErased`` and destroys that
key. The notes are an aggregate of their own, beside the case: they are no step of the
lifecycle, never published on ``KS_EVENTS`` and not part of the case's history, and adding
one leaves the case's version (what other coordinators' commands are based on) as it was.
The notes' key is theirs alone: a merge moves a case's personal details to the case that stays
open, never its notes, so erasing one case never destroys a key another case still reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValueError
from domain.values import Actor

Json = dict[str, Any]
_NAMESPACE = UUID("6f1d0a3c-2b8e-4c7a-9e51-3a0d8c4b7f12")


def notes_id(case_id: UUID) -> UUID:
    """The deterministic id of a case's notes."""
    return uuid5(_NAMESPACE, f"notes:{case_id}")


class CaseNotes(Aggregate):
    """The sealed notes of one case, oldest first, or the fact that they were erased."""

    if TYPE_CHECKING:
        erased: Json | None  # {"at", "reason"} once erased with the personal details
    else:
        erased = None

    @staticmethod
    def create_id(case_id: UUID, key_id: str) -> UUID:
        return notes_id(case_id)

    @event("Opened")
    def __init__(self, case_id: UUID, key_id: str) -> None:
        self.case_id = case_id
        self.key_id = key_id  # the data key every note of this case is sealed under
        self.notes: list[Json] = []  # {"number", "sealed", "actor", "at"}

    def add(self, *, sealed: Json, actor: Actor, at: datetime, causation_id: str) -> int:
        """Add a note whose text ``sealed`` holds (``{"key_id", "ciphertext"}``); its number."""
        if self.erased is not None:
            raise InvalidValueError(
                f"cannot add a note to case {self.case_id}: its personal details and notes "
                f"were erased on {self.erased['at'].date().isoformat()}"
            )
        if sealed.get("key_id") != self.key_id:
            raise InvalidValueError(f"a note of case {self.case_id} is sealed under its own key")
        self._note_added(
            sealed=dict(sealed),
            actor=actor.model_dump(mode="json"),
            occurred_at=at,
            causation_id=causation_id,
        )
        return len(self.notes)

    @event("NoteAdded")
    def _note_added(
        self, sealed: Json, actor: Json, occurred_at: datetime, causation_id: str
    ) -> None:
        number = len(self.notes) + 1
        self.notes.append({"number": number, "sealed": sealed, "actor": actor, "at": occurred_at})

    def erase(self, *, reason: str, actor: Actor, at: datetime, causation_id: str) -> list[str]:
        """Record that the notes are erased with the personal details; the keys to destroy."""
        if self.erased is None:
            self._erased(
                reason=reason,
                actor=actor.model_dump(mode="json"),
                occurred_at=at,
                causation_id=causation_id,
            )
        return [self.key_id]

    @event("NotesErased")
    def _erased(self, reason: str, actor: Json, occurred_at: datetime, causation_id: str) -> None:
        self.notes = []
        self.erased = {"at": occurred_at, "reason": reason}
