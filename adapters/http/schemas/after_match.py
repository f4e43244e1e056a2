"""Request bodies of the commands after the match: support started, evaluation, reopening."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.after_match import NeedResult, NextStep
from domain.values import HealthScores, Need

ClosingResult = Literal[
    "support_completed",
    "family_declined",
    "moved_away",
    "no_longer_needed",
    "referred_elsewhere",
    "expired",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SupportStartIn(_In):
    """The matched support began (*ondersteuning gestart*)."""

    on: date = Field(description="The first day of the support (not in the future).")
    lead_professional: str = Field(min_length=1, max_length=200)


class EvaluationIn(_In):
    """The evaluation of the support, some months after its start."""

    on: date = Field(description="Date of the evaluation (not in the future).")
    needs: dict[Need, NeedResult] = Field(
        min_length=1, max_length=20, description="Per need found at the discussion: met or not."
    )
    scores: HealthScores = Field(description="New Positieve Gezondheid scores, 0-10.")
    next_step: NextStep = Field(description="What next: continue, discuss again, or close.")


class ReopeningIn(_In):
    """Reopening a recently closed case as a linked follow-up case (no fields needed)."""


class SuspensionIn(_In):
    """Suspending (*opschorten*) the running deadline of the case's current step."""

    reason: str = Field(min_length=1, max_length=500, description="Why the deadline waits.")
    until: date = Field(description="The expected resume date (after today).")


class ResumptionIn(_In):
    """Resuming the suspended deadline today (no fields needed)."""


class ExtensionIn(_In):
    """Extending (*verlengen*) the current step's deadline, once per step."""

    reason: str = Field(min_length=1, max_length=500, description="Why more time is needed.")
    due: date = Field(description="The new due date, after the current deadline.")
