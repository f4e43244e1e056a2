"""The family's personal details on a case: kept sealed, erasable by destroying their key.

Direct identifiers (name, birth date, the reporter's note) are sealed by the application
under a data key of the case (``ks_engine.keystore``) before they reach an event: the events
carry ``{"key_id", "ciphertext"}`` only. Erasure (*wissen*, AVG art. 17) records
``PersonalDataErased`` and the application destroys the keys; the events stay as they were
stored, so the audit trail's hashes still verify while the details are unreadable forever.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate, event

from domain.errors import IllegalTransitionError
from domain.lifecycle import Action, State, allowed_actions
from domain.values import Actor

Json = dict[str, Any]


class ErasureReason(StrEnum):
    """Why personal details were erased."""

    REQUEST = "request"  # the person asked (*verzoek van betrokkene*)
    RETENTION = "retention"  # the retention period after closing passed (*bewaartermijn*)
    CORRECTION = "correction"  # every signal was retracted: the details were someone else's


class PersonalDataHolder(Aggregate):
    """What a case keeps of the person's details: sealed entries, or the fact of erasure."""

    if TYPE_CHECKING:  # set by the case's creation event; not fields of the aggregate class
        sealed_personal: list[Json]  # one entry per signal that carried details, oldest first
        personal_erased: Json | None  # {"reason", "at", "key_ids"} once erased
        state_value: str

    @property
    def personal_key_id(self) -> str | None:
        """The id of the data key this case's personal details are sealed under, if any: the
        key of its first entry (its own; details taken in by a merge come after)."""
        return str(self.sealed_personal[0]["key_id"]) if self.sealed_personal else None

    def erase_personal_data(
        self, *, reason: ErasureReason, actor: Actor, at: datetime, causation_id: str
    ) -> list[str]:
        """Record that the person's details are erased; allowed in any state, once.

        Returns the ids of the data keys the application must now destroy.
        """
        self.refuse_if_erased("erase the personal details")
        key_ids = sorted({str(p["key_id"]) for p in self.sealed_personal})
        self._personal_data_erased(
            key_ids=key_ids,
            reason=reason.value,
            actor=actor.model_dump(mode="json"),
            occurred_at=at,
            causation_id=causation_id,
        )
        return key_ids

    @event("PersonalDataErased")
    def _personal_data_erased(
        self, key_ids: list[str], reason: str, actor: Json, occurred_at: datetime, causation_id: str
    ) -> None:
        self.sealed_personal = []
        self.personal_erased = {"reason": reason, "at": occurred_at, "key_ids": list(key_ids)}

    def refuse_if_erased(self, what: str) -> None:
        """Refuse ``what`` on a case whose personal details were erased."""
        if self.personal_erased is None:
            return
        state = State(self.state_value)
        raise IllegalTransitionError(
            f"cannot {what} for case {self.id}: its personal details were erased on "
            f"{self.personal_erased['at'].date().isoformat()}; a new signal about the person "
            "opens a new case",
            state=state.value,
            allowed=[a.value for a in allowed_actions(state) if a is not Action.ADD_SIGNAL],
        )
