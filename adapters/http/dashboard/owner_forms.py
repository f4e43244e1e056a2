"""What the case page shows and submits about who owns a case and about its notes."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from adapters.http.context import Services
from adapters.http.dashboard.forms import Command, Form, one
from adapters.http.dashboard.household import PURPOSE_LABELS
from adapters.http.routers.ownership import assignable
from domain.referral import Referral
from ks_engine import commands as c
from ks_engine.access_log import PersonalDataPurpose
from ks_engine.application import CommandResult, Referrals
from ks_engine.principals import Principal


def assign(
    app: Referrals, case_id: UUID, version: int, form: Form, ctx: c.Context
) -> CommandResult:
    """The assignment form: the chosen coordinator, or the coordinator who takes the case."""
    wanted = one(form, "coordinator") or ctx.actor.user_ref
    cmd = c.Assign.model_validate(
        {"case_id": case_id, "expected_version": version, "coordinator": wanted}
    )
    return app.assign_case(cmd, ctx)


COMMANDS: dict[str, Command] = {"assignment": assign}


def ownership_context(services: Services, case: Referral, principal: Principal) -> dict[str, Any]:
    """The owner, the colleagues the case can be assigned to, and the purposes of reading."""
    return {
        "owner": case.owner,
        "owner_is_me": case.owner == principal.id,
        "colleagues": [r for r in assignable(services, case) if r.id != principal.id],
        "note_purposes": PURPOSE_LABELS,
    }


def notes_context(
    services: Services, case: Referral, purpose: PersonalDataPurpose
) -> dict[str, Any]:
    """The opened notes for the case page (the caller logs the reading with ``purpose``)."""
    view = services.referrals.case_notes(case.id)
    return {"status": view.status, "items": view.notes, "purpose": PURPOSE_LABELS[purpose]}
