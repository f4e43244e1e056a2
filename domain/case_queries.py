"""What a case answers about itself without changing: its state, codes, household, lawful
basis, and whether its consent or an escalation lets an organisation take part in a step.
Mixed into ``Referral``; nothing here records an event."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain import guards
from domain.escalation import lifted_for
from domain.household import member_pseudonyms, members_of
from domain.lifecycle import Action, State, allowed_actions

Json = dict[str, Any]


class CaseQueries:
    """Read-only questions about a case, answered from its recorded state."""

    if TYPE_CHECKING:
        id: UUID
        state_value: str
        signals: list[Json]
        escalations: list[Json]
        consent: Json | None
        milestones: dict[str, datetime]

    @property
    def state(self) -> State:
        return State(self.state_value)

    @property
    def is_open(self) -> bool:
        return self.state is not State.CLOSED

    @property
    def is_escalated(self) -> bool:
        return bool(self.escalations)

    @property
    def risk_factors(self) -> list[str]:
        """Every risk factor named in any signal, in first-seen order."""
        seen: dict[str, None] = {}
        for s in self.signals:
            seen.update(dict.fromkeys(s["risk_factors"]))
        return list(seen)

    @property
    def urgency(self) -> str:
        """The most urgent urgency any signal gave."""
        order = ["urgent", "soon", "routine"]
        urgencies: list[str] = [s["urgency"] for s in self.signals] or ["routine"]
        return min(urgencies, key=order.index)

    @property
    def household(self) -> list[Json]:
        """The household now: parent, co-parent, children and unborn children."""
        return members_of(self)

    @property
    def member_pseudonyms(self) -> list[str]:
        """The pseudonyms of every household member with a BSN (the parent's first)."""
        return member_pseudonyms(self)

    @property
    def lawful_basis(self) -> str:
        """Why the case may exist: the family agreed to the referral (``family_agreement``),
        or a signal without that agreement (``meldcode_signal``)."""
        first = self.signals[0] if self.signals else {}  # every signal may be retracted
        return "family_agreement" if first.get("referral_consent") else "meldcode_signal"

    def consent_is_active(self, on: date) -> bool:
        """Whether the family's consent is given and not expired or withdrawn on ``on``."""
        return guards.consent_is_active(self.consent, on)

    def shares_with(self, organisation: str, action: Action, on: date) -> bool:
        """Whether ``action`` on ``on`` may involve ``organisation``: the active consent names
        it, or an escalation names it for this action."""
        if organisation in lifted_for(self.escalations, action, on):
            return True
        return self.consent_is_active(on) and organisation in (self.consent or {})["scope"]

    def allowed_actions(self) -> list[Action]:
        """Actions the lifecycle allows now (consent rules may still refuse some)."""
        return allowed_actions(self.state)

    # -- helpers --------------------------------------------------------------------------
    def _require_consent(self, action: Action, on: date, organisations: list[str]) -> None:
        consented = self.milestones.get("consented")
        guards.require_consent(
            self.id,
            self.state,
            action,
            consent=self.consent,
            escalations=self.escalations,
            on=on,
            consented_on=consented.date() if consented else None,
            organisations=organisations,
        )
