"""Request and response bodies of the coordinators' commands on a case."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from adapters.http.schemas.after_match import ClosingResult
from domain.consent_record import ConsentMethod, ConsentPurpose
from domain.escalation import EscalationPurpose
from domain.household import ConsentGiver
from domain.values import HealthScores, MeldcodeStep, Need


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConsentIn(_In):
    """The family's answer to the consent request."""

    decision: Literal["given", "declined"]
    scope: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="Partner organisations the family agreed may take part (when given).",
    )
    expires_on: date | None = Field(default=None, description="Optional end of the consent.")
    given_by: ConsentGiver | None = Field(
        default=None, description="Who gave consent: parent, co_parent or both (when given)."
    )
    method: ConsentMethod | None = Field(default=None, description="spoken, written or digital.")
    given_on: date | None = Field(default=None, description="The day it was given (default today).")
    purpose: ConsentPurpose = Field(
        default=ConsentPurpose.DISCUSSION, description="discussion, or support as well."
    )

    @model_validator(mode="after")
    def _scope_fits_decision(self) -> ConsentIn:
        if (self.given_by is None) != (self.method is None):
            raise ValueError("who gave consent (given_by) and how (method) go together")
        if self.decision == "given" and not self.scope:
            raise ValueError("consent given needs a scope: name at least one organisation")
        if self.decision == "declined" and (self.scope or self.expires_on):
            raise ValueError("a declined consent has no scope and no expiry date")
        return self


class DiscussionIn(_In):
    """The case discussion at the Knooppunt (*casusbespreking*)."""

    on: date = Field(description="Date of the discussion (not in the future).")
    participants: list[str] = Field(min_length=1, max_length=30)
    scores: HealthScores = Field(description="Positieve Gezondheid scores, 0-10 per dimension.")
    needs: list[Need] = Field(default_factory=list, max_length=20)


class SupportMatchIn(_In):
    """The support agreed with the family: offers from the menukaart."""

    offer_ids: list[str] = Field(min_length=1, max_length=10)
    lead_professional: str = Field(min_length=1, max_length=200)
    planned_start: date


class EscalationIn(_In):
    """An escalation under the Meldcode, with its legal basis and justification. It lifts the
    consent check only for the organisations it names and only for its purpose."""

    meldcode_step: MeldcodeStep
    legal_basis: str = Field(min_length=3, max_length=200, examples=["Wmo 2015 art. 5.2.6"])
    justification: str = Field(min_length=10, max_length=2000)
    organisations: list[str] = Field(
        min_length=1,
        max_length=30,
        examples=[["veilig-thuis-zuid-limburg"]],
        description="The organisations that may take part without the family's consent.",
    )
    purpose: EscalationPurpose = Field(
        description="discussion: a discussion with them; support: also matching their support."
    )


class ClosureIn(_In):
    """Closing the case with its result (*resultaat*) and a short reason; no default result."""

    outcome: ClosingResult = Field(description="The result (ZGW resultaat) of the case.")
    reason: str = Field(min_length=3, max_length=500, description="Why, in a few words.")


class CommandOut(BaseModel):
    """What a command changed: the case's new version and the log position of its event."""

    case_id: UUID
    version: int = Field(description="Send it back as If-Match with the next command.")
    position: int = Field(description="Ask queries to wait for this position (read-your-writes).")
