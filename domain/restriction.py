"""Restriction of processing (*beperking van de verwerking*, AVG art. 18 and 21).

At the family's request (or objection) a privacy officer restricts a case: it is kept, but
nothing may be recorded on it until the restriction is lifted, except by the privacy officer.
Restriction is a flag beside the lifecycle, not a state of it: when it is lifted the case
goes on where it stood.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from eventsourcing.domain import Aggregate, event

from domain.errors import CaseRestrictedError, IllegalTransitionError
from domain.values import Actor

Json = dict[str, Any]


class RestrictionBasis(StrEnum):
    """On which article the family asked for the restriction."""

    ACCURACY_CONTESTED = "accuracy_contested"  # art. 18(1)(a)
    UNLAWFUL = "unlawful"  # art. 18(1)(b)
    LEGAL_CLAIM = "legal_claim"  # art. 18(1)(c)
    OBJECTION = "objection"  # art. 18(1)(d), art. 21


class Restrictable(Aggregate):
    """A case that can be restricted and released again."""

    @property
    def restriction(self) -> Json | None:
        """``{"basis", "at"}`` while restricted, else None (cases before restriction have none)."""
        found: Json | None = self.__dict__.get("_restriction")
        return found

    @property
    def is_restricted(self) -> bool:
        return self.restriction is not None

    def refuse_if_restricted(self, what: str) -> None:
        """Raise CaseRestrictedError when the case is restricted."""
        restriction = self.restriction
        if restriction is not None:
            raise CaseRestrictedError(
                f"cannot {what} case {self.id}: processing is restricted at the family's "
                f"request (AVG art. 18, since {restriction['at'][:10]}); only the privacy "
                "officer can act on it until the restriction is lifted"
            )

    def restrict(
        self, *, basis: RestrictionBasis, actor: Actor, at: datetime, causation_id: str
    ) -> None:
        """Restrict processing; refused when the case is restricted already."""
        if self.restriction is not None:
            raise IllegalTransitionError(
                f"case {self.id} is restricted already", state="restricted", allowed=["lift"]
            )
        self._restricted(
            basis=basis.value,
            actor=actor.model_dump(mode="json"),
            occurred_at=at,
            causation_id=causation_id,
        )

    @event("Restricted")
    def _restricted(
        self, basis: str, actor: Json, occurred_at: datetime, causation_id: str
    ) -> None:
        self._restriction: Json | None = {"basis": basis, "at": occurred_at.isoformat()}

    def lift_restriction(self, *, actor: Actor, at: datetime, causation_id: str) -> None:
        """Lift the restriction; refused when the case is not restricted."""
        if self.restriction is None:
            raise IllegalTransitionError(
                f"case {self.id} is not restricted", state="unrestricted", allowed=["restrict"]
            )
        self._restriction_lifted(
            actor=actor.model_dump(mode="json"), occurred_at=at, causation_id=causation_id
        )

    @event("RestrictionLifted")
    def _restriction_lifted(self, actor: Json, occurred_at: datetime, causation_id: str) -> None:
        self._restriction = None
