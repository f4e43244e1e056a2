"""The discussion form reached from a meeting's agenda: what the meeting decided about a case.

"Besproken" records the case discussion (dated the meeting's day, with the attending
organisations the consent covers) as the case's discussion step, together with the decision;
"Uitgesteld" records only the decision. A refused form keeps what was typed.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from adapters.http.context import AttemptDep, ServicesDep, audited
from adapters.http.dashboard import forms, meeting_words
from adapters.http.dashboard.case import visible_case
from adapters.http.dashboard.meetings import context_of, meeting_of, organisation_names
from adapters.http.dashboard.messages import invalid_fields, refusal
from adapters.http.dashboard.render import page, redirect
from adapters.http.dashboard.session import PREFIX, Coordinator, FormData, PageError
from domain import meeting_agenda
from domain.case_lookup import case_number
from domain.errors import DomainError, IllegalTransitionError, VersionConflictError
from domain.meeting import Decision, Meeting
from domain.reader_policy import Reader
from domain.referral import Referral
from domain.values import Dimension, Need
from ks_engine import commands as c
from ks_engine.access_log import AccessAction
from ks_engine.principals import Principal

router = APIRouter(prefix=f"{PREFIX}/overleg", include_in_schema=False)


def _on_agenda(
    services: ServicesDep,
    meeting_id: str,
    case_id: str,
    principal: Principal,
    attempt: AttemptDep,
) -> tuple[Meeting, Referral]:
    meeting = meeting_of(services, meeting_id, principal)
    case = visible_case(case_id, principal, services, attempt)
    if case.id not in meeting.agenda:
        raise PageError(404, "Niet op de agenda", "Deze casus staat niet op de agenda.")
    return meeting, case


def _form_page(
    request: Request,
    services: ServicesDep,
    meeting: Meeting,
    case: Referral,
    *,
    message: str | None = None,
    status: int = 200,
    typed: forms.Form | None = None,
    invalid: frozenset[str] = frozenset(),
) -> Response:
    attendees = meeting.attendees_named_by(case)
    kept = {k: list(v) for k, v in (typed or {}).items() if k not in ("csrf", "version")}
    context: dict[str, Any] = {
        "meeting": meeting,
        "meeting_id": str(meeting.id),
        "case_id": str(case.id),
        "number": case_number(case.id),
        "version": case.version,
        "item": meeting_agenda.agenda_item(case, meeting, Reader.COORDINATOR),
        "attendees": attendees,
        "names": organisation_names(services),
        "decisions": meeting_words.DECISIONS,
        "follow_ups": meeting_words.FOLLOW_UPS,
        "dimensions": list(Dimension),
        "needs": list(Need),
        "decided": meeting.decision_on(case.id),
        "message": message,
        "typed": kept,
        # A first visit: every attendee the consent covers is ticked as a participant.
        "participants": kept.get("participants", attendees) if typed is not None else attendees,
        "invalid": invalid,
    }
    return page(request, "meeting_discussion.html", context, status=status)


@router.get("/{meeting_id}/casus/{case_id}", dependencies=[audited(AccessAction.READ)])
async def discussion_form(
    request: Request,
    meeting_id: str,
    case_id: str,
    principal: Coordinator,
    services: ServicesDep,
    attempt: AttemptDep,
) -> Response:
    """The form for the meeting's decision about one case on its agenda."""
    meeting, case = await run_in_threadpool(
        _on_agenda, services, meeting_id, case_id, principal, attempt
    )
    return _form_page(request, services, meeting, case)


def _command(meeting: Meeting, case: Referral, form: forms.Form) -> c.RecordMeetingDecision:
    decision = forms.one(form, "decision")
    fields: dict[str, Any] = {
        "meeting_id": meeting.id,
        "case_id": case.id,
        "expected_case_version": forms.one(form, "version") or None,
        "decision": decision,
        "follow_up": forms.one(form, "follow_up") or None,
        "lead_organisation": forms.one(form, "lead_organisation") or None,
    }
    if decision == Decision.DISCUSSED.value:
        fields["discussion"] = {
            "participants": forms.many(form, "participants"),
            "scores": {d.value: forms.one(form, f"score_{d.value}") for d in Dimension},
            "needs": forms.many(form, "needs"),
        }
    else:
        fields["follow_up"] = None
    return c.RecordMeetingDecision.model_validate(fields)


@router.post("/{meeting_id}/casus/{case_id}", dependencies=[audited(AccessAction.UPDATE)])
async def record_decision(
    request: Request,
    meeting_id: str,
    case_id: str,
    principal: Coordinator,
    form: FormData,
    services: ServicesDep,
    attempt: AttemptDep,
) -> Response:
    """Record the decision (and, when discussed, the case's discussion) in one commit."""
    meeting, case = await run_in_threadpool(
        _on_agenda, services, meeting_id, case_id, principal, attempt
    )
    ctx = context_of(request, principal)
    try:
        cmd = _command(meeting, case, form)
        await run_in_threadpool(services.referrals.record_meeting_decision, cmd, ctx)
    except ValidationError as exc:
        wrong = frozenset(_field_names(exc))
        return _form_page(
            request,
            services,
            meeting,
            case,
            message=invalid_fields(exc),
            status=422,
            typed=form,
            invalid=wrong,
        )
    except DomainError as exc:
        what = f"Het besluit over casus {case_number(case.id)}"
        message = meeting_words.meeting_refusal(exc, what) or refusal(exc)
        status = 409 if isinstance(exc, IllegalTransitionError | VersionConflictError) else 422
        meeting, case = await run_in_threadpool(
            _on_agenda, services, meeting_id, case_id, principal, None
        )
        return _form_page(
            request, services, meeting, case, message=message, status=status, typed=form
        )
    return redirect(f"{PREFIX}/overleg/{meeting.id}?gedaan=besluit#casus-{UUID(case_id)}")


def _field_names(exc: ValidationError) -> list[str]:
    """The form's names of the refused fields (a score is ``score_<dimension>``)."""
    names = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        if loc[:2] == ["discussion", "scores"] and len(loc) > 2:
            names.append(f"score_{loc[2]}")
        elif loc and loc[0] == "discussion" and len(loc) > 1:
            names.append(loc[1])
        elif loc:
            names.append(loc[0])
    return names
