"""Who owns a case (*casusregie*): the coordinator of its municipality it is assigned to.

A coordinator assigns an open case to a colleague of the same Knooppunt, or takes it
themselves. Which principals are coordinators of the municipality is the application's to
check (``ks_engine.coordinators``); the case records only the coordinator's id, a
pseudonymous reference to a professional, never the family's data.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import event

from domain import guards
from domain.errors import InvalidValueError
from domain.household_changes import HouseholdChanges
from domain.lifecycle import Action, State
from domain.values import Actor

Json = dict[str, Any]
# As a principal's id (``ks principals add``; ``oidc-...`` for a person signed in).
COORDINATOR_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")  # the whole id: fullmatch, never $


class Assignable(HouseholdChanges):
    """A case that is assigned to one coordinator at a time."""

    if TYPE_CHECKING:
        last_activity_at: datetime
        assignee: Json | None  # {"coordinator", "by", "at"} once assigned

        @property
        def state(self) -> State: ...
    else:  # a class default, so that cases and snapshots from before assignment still load
        assignee = None

    @property
    def owner(self) -> str | None:
        """The id of the coordinator the case is assigned to, if any."""
        return str(self.assignee["coordinator"]) if self.assignee else None

    def assign(self, *, coordinator: str, actor: Actor, at: datetime, causation_id: str) -> None:
        """Assign the case to ``coordinator`` (the actor's own id when they take it)."""
        guards.check_transition(self.id, self.state, Action.ASSIGN)
        head = f"cannot assign case {self.id}"
        if not COORDINATOR_ID.fullmatch(coordinator):
            raise InvalidValueError(f"{head}: the id given is not a coordinator's id")
        if coordinator == self.owner:
            raise InvalidValueError(f"{head}: it is already assigned to {coordinator}")
        self._assigned(
            coordinator=coordinator,
            actor=actor.model_dump(mode="json"),
            occurred_at=at,
            causation_id=causation_id,
        )

    @event("Assigned")
    def _assigned(
        self, coordinator: str, actor: Json, occurred_at: datetime, causation_id: str
    ) -> None:
        self.assignee = {"coordinator": coordinator, "by": actor["user_ref"], "at": occurred_at}
        self.last_activity_at = occurred_at
