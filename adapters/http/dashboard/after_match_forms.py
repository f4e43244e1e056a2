"""The case page's forms after the match: support started, evaluation, reopening, and the
closing form that names a result and asks for confirmation (no result is preselected)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from adapters.http.dashboard.forms import Command, Form, many, one
from adapters.http.schemas.after_match import ClosingResult
from domain.values import Dimension, Need, Outcome
from ks_engine import commands as c
from ks_engine.application import CommandResult, Referrals


class ClosingForm(BaseModel):
    """What the closing form must hold: a chosen result, a short reason, the confirmation."""

    model_config = ConfigDict(extra="forbid")
    outcome: ClosingResult
    reason: str = Field(min_length=3, max_length=500)
    confirm: Literal["ja"]


def _base(case_id: UUID, version: int) -> dict[str, object]:
    return {"case_id": case_id, "expected_version": version}


def start_support(
    app: Referrals, case_id: UUID, version: int, form: Form, ctx: c.Context
) -> CommandResult:
    fields = _base(case_id, version) | {
        "on": one(form, "on"),
        "lead_professional": one(form, "lead_professional"),
    }
    return app.start_support(c.StartSupport.model_validate(fields), ctx)


def record_evaluation(
    app: Referrals, case_id: UUID, version: int, form: Form, ctx: c.Context
) -> CommandResult:
    needs = {n.value: one(form, f"need_{n.value}") for n in Need if one(form, f"need_{n.value}")}
    fields = _base(case_id, version) | {
        "on": one(form, "on"),
        "needs": needs,
        "scores": {d.value: one(form, f"score_{d.value}") for d in Dimension},
        "next_step": one(form, "next_step"),
    }
    return app.record_evaluation(c.RecordEvaluation.model_validate(fields), ctx)


def reopen_case(
    app: Referrals, case_id: UUID, version: int, form: Form, ctx: c.Context
) -> CommandResult:
    return app.reopen_case(c.Reopen.model_validate(_base(case_id, version)), ctx)


def close_case(
    app: Referrals, case_id: UUID, version: int, form: Form, ctx: c.Context
) -> CommandResult:
    fields = {"outcome": one(form, "outcome"), "reason": one(form, "reason")}
    if many(form, "confirm"):  # an unticked box is not sent: then the field is missing
        fields["confirm"] = many(form, "confirm")[0]
    checked = ClosingForm.model_validate(fields)
    cmd = c.Close(
        case_id=case_id,
        expected_version=version,
        outcome=Outcome(checked.outcome),
        reason=checked.reason,
    )
    return app.close_case(cmd, ctx)


def suspend_deadline(
    app: Referrals, case_id: UUID, version: int, form: Form, ctx: c.Context
) -> CommandResult:
    fields = _base(case_id, version) | {"reason": one(form, "reason"), "until": one(form, "until")}
    return app.suspend_deadline(c.SuspendDeadline.model_validate(fields), ctx)


def resume_deadline(
    app: Referrals, case_id: UUID, version: int, form: Form, ctx: c.Context
) -> CommandResult:
    return app.resume_deadline(c.ResumeDeadline.model_validate(_base(case_id, version)), ctx)


def extend_deadline(
    app: Referrals, case_id: UUID, version: int, form: Form, ctx: c.Context
) -> CommandResult:
    fields = _base(case_id, version) | {"reason": one(form, "reason"), "due": one(form, "due")}
    return app.extend_deadline(c.ExtendDeadline.model_validate(fields), ctx)


COMMANDS: dict[str, Command] = {
    "support-start": start_support,
    "evaluation": record_evaluation,
    "reopening": reopen_case,
    "closure": close_case,
    "suspension": suspend_deadline,
    "resumption": resume_deadline,
    "extension": extend_deadline,
}
