"""Changes to a case's household: a child is born (``ChildBorn``) and two cases of one
household become one (``CasesMerged``, recorded on both).

The merged case closes with outcome ``merged`` and keeps its own history; the case that stays
open takes in its members, signals and sealed personal details, so a signal about any of them
joins it from then on (the application re-points their matching-index entries).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import event

from domain import guards
from domain.errors import InvalidValueError
from domain.household import MemberRole, map_pseudonyms, members_of, unborn_due_dates
from domain.lifecycle import Action, State
from domain.personal_data import PersonalDataHolder
from domain.values import Actor, Outcome

Json = dict[str, Any]


def _cause(actor: Actor, at: datetime, causation_id: str) -> Json:
    return {"actor": actor.model_dump(mode="json"), "occurred_at": at, "causation_id": causation_id}


class HouseholdChanges(PersonalDataHolder):
    """Births and merges of a case (the Referral aggregate inherits these)."""

    if TYPE_CHECKING:  # set by the Referral's creation event
        municipality: str
        person_pseudonym: str
        signals: list[Json]
        outcome: Json | None
        milestones: dict[str, datetime]
        last_activity_at: datetime

        @property
        def state(self) -> State: ...

    def record_birth(
        self,
        *,
        child_pseudonym: str,
        sealed_personal: Json | None,
        actor: Actor,
        at: datetime,
        causation_id: str,
    ) -> None:
        """The expected child was born: it is a child of the household with its own pseudonym
        from now on (*geboorte*); its name and birth date are in ``sealed_personal``."""
        guards.check_transition(self.id, self.state, Action.RECORD_BIRTH)
        self.refuse_if_erased("record a birth")
        if any(m["pseudonym"] == child_pseudonym for m in members_of(self)):
            raise InvalidValueError(
                f"cannot record the birth for case {self.id}: the child is already a member "
                "of the household"
            )
        unborn = unborn_due_dates(self)
        self._child_born(
            child_pseudonym=child_pseudonym,
            due_date=unborn[0] if unborn else None,
            personal=dict(sealed_personal or {}),
            **_cause(actor, at, causation_id),
        )

    @event("ChildBorn")
    def _child_born(
        self,
        child_pseudonym: str,
        due_date: date | None,
        personal: Json,
        actor: Json,
        occurred_at: datetime,
        causation_id: str,
    ) -> None:
        births: list[Json] = self.__dict__.setdefault("births", [])
        births.append({"pseudonym": child_pseudonym, "due_date": due_date, "at": occurred_at})
        if personal:
            self.sealed_personal.append(dict(personal))
        self.last_activity_at = occurred_at

    def merge_in(
        self,
        other: HouseholdChanges,
        *,
        actor: Actor,
        at: datetime,
        cid: str,
        reseal: Callable[[str], str] | None = None,
    ) -> None:
        """Take ``other`` (an open case of the same household) into this one; ``other`` must
        record its side with :meth:`merge_into` in the same transaction. ``reseal`` seals
        ``other``'s pseudonyms under this case's link key (``ks_engine.case_links``)."""
        guards.check_transition(self.id, self.state, Action.MERGE)
        guards.check_transition(other.id, other.state, Action.MERGE_INTO)
        self.refuse_if_erased("merge cases")
        other.refuse_if_erased("merge cases")
        if other.id == self.id or other.municipality != self.municipality:
            raise InvalidValueError(
                f"cannot merge case {other.id} into case {self.id}: only two different cases "
                "of one municipality can be merged"
            )
        self._cases_merged(**self._merge_body(other, reseal), **_cause(actor, at, cid))

    def merge_into(
        self,
        kept: HouseholdChanges,
        *,
        actor: Actor,
        at: datetime,
        cid: str,
        reseal: Callable[[str], str] | None = None,
    ) -> None:
        """Record that this case was taken into ``kept``: it closes, its history kept."""
        guards.check_transition(self.id, self.state, Action.MERGE_INTO)
        self._cases_merged(**kept._merge_body(self, reseal), **_cause(actor, at, cid))

    def _merge_body(
        self, other: HouseholdChanges, reseal: Callable[[str], str] | None = None
    ) -> Json:
        """What ``CasesMerged`` carries on both cases: the merged case's members (its parent
        as the other parent), its signal records and its sealed personal details."""
        members = [
            dict(m, role=MemberRole.CO_PARENT.value if m["role"] == "parent" else m["role"])
            for m in members_of(other)
        ]
        signals = [dict(s) for s in other.signals]
        if reseal is not None:
            members, signals = map_pseudonyms([members, signals], reseal)
        return {
            "kept_case_id": str(self.id),
            "merged_case_id": str(other.id),
            "members": members,
            "signals": signals,
            "personal": [dict(p) for p in other.sealed_personal],
        }

    @event("CasesMerged")
    def _cases_merged(
        self,
        kept_case_id: str,
        merged_case_id: str,
        members: list[Json],
        signals: list[Json],
        personal: list[Json],
        actor: Json,
        occurred_at: datetime,
        causation_id: str,
    ) -> None:
        if UUID(merged_case_id) == self.id:
            # The details (and their data keys) move to the kept case: erasing this closed
            # case must not destroy a key the kept case still reads and seals under.
            self.sealed_personal = []
            self.state_value = State.CLOSED.value
            self.outcome = {"code": Outcome.MERGED.value, "reason": "", "into": kept_case_id}
            self.milestones["closed"] = occurred_at
        else:
            merged: list[Json] = self.__dict__.setdefault("merged", [])
            merged.append({"case_id": merged_case_id, "members": list(members)})
            self.signals.extend(dict(s) for s in signals)
            self.sealed_personal.extend(dict(p) for p in personal)
        self.last_activity_at = occurred_at
