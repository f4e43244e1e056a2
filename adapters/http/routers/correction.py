"""Correction (AVG art. 16), served by the privacy officer: a signal about the wrong person is
retracted, and the family's personal details are corrected."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from adapters.http.access import load_visible_case
from adapters.http.case_command import command_out
from adapters.http.context import AttemptDep, ServicesDep, audited, require
from adapters.http.problems import IF_MATCH_PATTERN, if_match_version, problem_responses
from adapters.http.schemas.commands import CommandOut
from domain.correction import RetractionReason
from domain.redaction import FreeText
from domain.referral import Referral
from domain.values import Actor, ActorRole
from ks_engine import commands as c
from ks_engine.access_log import AccessAction
from ks_engine.principals import Principal, Role

router = APIRouter(
    prefix="/cases",
    tags=["privacy"],
    dependencies=[audited(AccessAction.UPDATE)],
    responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 422, 428),
)

PrivacyOfficer = Annotated[Principal, require(Role.PRIVACY_OFFICER)]


def _case(
    case_id: UUID, principal: PrivacyOfficer, services: ServicesDep, attempt: AttemptDep
) -> Referral:
    return load_visible_case(case_id, principal, services, attempt)


def _version(
    if_match: Annotated[
        str,
        Header(
            pattern=IF_MATCH_PATTERN,
            description='The case version the correction is based on (`"3"`): a case that '
            "changed since answers 412; without `If-Match` the answer is 428.",
        ),
    ],
) -> int:
    return if_match_version(if_match)


def _context(request: Request, principal: PrivacyOfficer) -> c.Context:
    actor = Actor(
        organisation=principal.organisation, role=ActorRole.PRIVACY_OFFICER, user_ref=principal.id
    )
    return c.Context(actor=actor, causation_id=f"http:{request.state.request_id}")


OverseenCase = Annotated[Referral, Depends(_case)]
Version = Annotated[int, Depends(_version)]
OfficerContext = Annotated[c.Context, Depends(_context)]


class RetractionIn(BaseModel):
    """Why the signal is retracted."""

    model_config = ConfigDict(extra="forbid")
    reason: RetractionReason = Field(
        description="wrong_person (about someone else: a mistyped or mixed-up BSN) or "
        "sent_in_error (the partner sent it by mistake)."
    )


@router.post(
    "/{case_id}/signals/{signal_number}/retraction",
    summary="Retract a signal about the wrong person (AVG art. 16; privacy officer)",
    description="The signal (numbered from 1 in the order of the case's `signals`) leaves the "
    "case: `SignalRetracted` with its reason. People only it named are unlinked: their later "
    "signals no longer join this case. The personal details it brought are sealed anew "
    "without it and the old version destroyed. When no signal remains an open case closes "
    "with result `signal_retracted` and its personal details are erased.",
)
def retract(
    body: RetractionIn,
    case: OverseenCase,
    signal_number: Annotated[int, Path(ge=1, le=10_000)],
    version: Version,
    ctx: OfficerContext,
    services: ServicesDep,
    response: Response,
) -> CommandOut:
    cmd = c.RetractSignal(
        case_id=case.id, expected_version=version, signal_number=signal_number, reason=body.reason
    )
    return command_out(response, services.referrals.retract_signal(cmd, ctx))


class CorrectionIn(BaseModel):
    """The signalled parent's corrected details: a new value, or a field to remove."""

    model_config = ConfigDict(extra="forbid")
    name: FreeText | None = Field(default=None, min_length=1, max_length=200)
    birth_date: dt.date | None = None
    phone: str | None = Field(default=None, min_length=1, max_length=40)
    address: FreeText | None = Field(default=None, min_length=1, max_length=300)
    remove: list[c.PersonalField] = Field(
        default_factory=list,
        max_length=5,
        description="Fields whose value was wrong and has no replacement (e.g. the note).",
    )


@router.post(
    "/{case_id}/personal-correction",
    summary="Correct the personal details (AVG art. 16; privacy officer)",
    description="The corrected details are sealed under a fresh data key and the keys of the "
    "old version destroyed: the old values can never be read again. "
    "`PersonalDetailsCorrected` names the fields, never their values; the answer holds none.",
)
def correct(
    body: CorrectionIn,
    case: OverseenCase,
    version: Version,
    ctx: OfficerContext,
    services: ServicesDep,
    response: Response,
) -> CommandOut:
    cmd = c.CorrectPersonalDetails(
        case_id=case.id, expected_version=version, **body.model_dump(exclude_unset=True)
    )
    return command_out(response, services.referrals.correct_personal_details(cmd, ctx))
