"""The case page's forms as the application's commands: the same commands the API sends.

Each submitted form becomes a validated command (``ks_engine.commands``) run by ``Referrals``;
pydantic refuses invalid fields, the domain refuses what its rules forbid. Nothing here
writes a read model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

from domain.values import Dimension
from ks_engine import commands as c
from ks_engine.application import CommandResult, Referrals

Form = Mapping[str, Sequence[str]]
Command = Callable[[Referrals, UUID, int, Form, c.Context], CommandResult]


def one(form: Form, key: str) -> str:
    """The first value of a field, stripped ('' when absent)."""
    values = form.get(key) or [""]
    return values[0].strip()


def many(form: Form, key: str) -> list[str]:
    """Every non-empty value of a repeated field (checkboxes)."""
    return [v.strip() for v in form.get(key, []) if v.strip()]


def ids(form: Form, key: str) -> list[str]:
    """The organisation ids of a repeated field: a box may stand for an organisation known by
    several ids, sent joined by spaces."""
    return [i for v in form.get(key, []) for i in v.split()]


def listed(text: str) -> list[str]:
    """Names typed as a list, separated by commas, semicolons or new lines."""
    return [part.strip() for part in re.split(r"[,;\n]", text) if part.strip()]


def _optional(value: str) -> str | None:
    return value or None


def _base(case_id: UUID, version: int) -> dict[str, Any]:
    return {"case_id": case_id, "expected_version": version}


def request_consent(
    app: Referrals, case_id: UUID, version: int, form: Form, ctx: c.Context
) -> CommandResult:
    return app.request_consent(c.RequestConsent.model_validate(_base(case_id, version)), ctx)


def record_consent(
    app: Referrals, case_id: UUID, version: int, form: Form, ctx: c.Context
) -> CommandResult:
    fields = _base(case_id, version)
    decision = {"given": True, "declined": False}.get(one(form, "decision"))
    if decision is not None:
        fields["given"] = decision
    if decision:
        fields["scope"] = list(dict.fromkeys(ids(form, "scope") + listed(one(form, "scope_other"))))
        fields["expires_on"] = _optional(one(form, "expires_on"))
        if one(form, "given_by") or one(form, "method"):
            fields["record"] = {
                "given_by": one(form, "given_by"),
                "method": one(form, "method"),
                "given_on": _optional(one(form, "given_on")) or app.clock().date(),
                "purpose": one(form, "purpose") or "discussion",
            }
    return app.record_consent(c.RecordConsent.model_validate(fields), ctx)


def withdraw_consent(
    app: Referrals, case_id: UUID, version: int, form: Form, ctx: c.Context
) -> CommandResult:
    return app.withdraw_consent(c.WithdrawConsent.model_validate(_base(case_id, version)), ctx)


def record_discussion(
    app: Referrals, case_id: UUID, version: int, form: Form, ctx: c.Context
) -> CommandResult:
    fields = _base(case_id, version) | {
        "on": one(form, "on"),
        "participants": list(
            dict.fromkeys(ids(form, "participants") + listed(one(form, "participants_other")))
        ),
        "scores": {d.value: one(form, f"score_{d.value}") for d in Dimension},
        "needs": many(form, "needs"),
    }
    return app.record_discussion(c.RecordDiscussion.model_validate(fields), ctx)


def match_support(
    app: Referrals, case_id: UUID, version: int, form: Form, ctx: c.Context
) -> CommandResult:
    fields = _base(case_id, version) | {
        "offer_ids": many(form, "offer_ids"),
        "lead_professional": one(form, "lead_professional"),
        "planned_start": one(form, "planned_start"),
    }
    return app.match_support(c.MatchSupport.model_validate(fields), ctx)


def escalate(
    app: Referrals, case_id: UUID, version: int, form: Form, ctx: c.Context
) -> CommandResult:
    fields = _base(case_id, version) | {
        "meldcode_step": one(form, "meldcode_step"),
        "legal_basis": one(form, "legal_basis"),
        "justification": one(form, "justification"),
        "organisations": list(
            dict.fromkeys(ids(form, "organisations") + listed(one(form, "organisations_other")))
        ),
        "purpose": one(form, "purpose"),
    }
    return app.escalate(c.Escalate.model_validate(fields), ctx)


def close_case(
    app: Referrals, case_id: UUID, version: int, form: Form, ctx: c.Context
) -> CommandResult:
    fields = _base(case_id, version) | {
        "outcome": one(form, "outcome"),
        "reason": one(form, "reason"),
    }
    return app.close_case(c.Close.model_validate(fields), ctx)


def merge_cases(
    app: Referrals, case_id: UUID, version: int, form: Form, ctx: c.Context
) -> CommandResult:
    fields = _base(case_id, version) | {"other_case_id": one(form, "other_case_id")}
    return app.merge_cases(c.MergeCases.model_validate(fields), ctx)


# The path segment of each form's action, as the API names the same command.
COMMANDS: dict[str, Command] = {
    "consent-request": request_consent,
    "consent": record_consent,
    "consent-withdrawal": withdraw_consent,
    "discussion": record_discussion,
    "support-match": match_support,
    "escalation": escalate,
    "closure": close_case,
    "merge": merge_cases,
}
