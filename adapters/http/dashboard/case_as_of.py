"""A case as it stood at a chosen moment (*stand op een moment*): what `ks audit replay
--as-of` computes, on a page for the coordinator and the auditor.

The case is rebuilt from its stored events alone (no snapshot, no read model), stopping at
the first event after the moment; the page shows it as the reader policy lets the reader see
it. The request is an access-log entry naming the case and the moment asked for.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from adapters.http.access import reader_of
from adapters.http.context import AttemptDep, ServicesDep, audited
from adapters.http.dashboard.case import catalogue_names, visible_case
from adapters.http.dashboard.render import page
from adapters.http.dashboard.session import PREFIX, for_roles
from domain import reader_policy
from domain.errors import CaseNotFoundError
from domain.meeting_agenda import case_document
from domain.referral import Referral
from ks_engine.access_log import AccessAction
from ks_engine.audit.replay import CaseReplay, replay_case
from ks_engine.clock import AMSTERDAM
from ks_engine.principals import Principal, Role

router = APIRouter(prefix=f"{PREFIX}/casus", include_in_schema=False)

CaseReader = Annotated[Principal, for_roles(Role.COORDINATOR, Role.AUDITOR, Role.PRIVACY_OFFICER)]
_SUMMARY_KEYS = ("format", "case", "version", "type", "municipality", "at", "actor")


def moment_of(text: str) -> datetime | None:
    """A date (its end) or a local date-time (``2026-11-02T14:05``), Dutch time; None if
    it is neither."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.max.time(), AMSTERDAM)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=AMSTERDAM)


def document_then(found: CaseReplay) -> dict[str, Any]:
    """The rebuilt case in the case view's field names, with its timeline up to the moment."""
    case = found.case
    timeline = [
        {
            "version": s["version"],
            "event": s["type"],
            "at": s["at"],
            "actor": s["actor"],
            "details": {k: v for k, v in s.items() if k not in _SUMMARY_KEYS},
        }
        for s in found.timeline
    ]
    return case_document(case) | {
        "escalations": [{"meldcode_step": e["meldcode_step"]} for e in case.escalations],
        "outcome": case.outcome["code"] if case.outcome else None,
        "timeline": timeline,
    }


@router.get("/{case_id}/stand", dependencies=[audited(AccessAction.READ)])
async def case_as_of(
    request: Request,
    case_id: str,
    principal: CaseReader,
    services: ServicesDep,
    attempt: AttemptDep,
    moment: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """The case as it stood at ``moment`` (a form asks for one when none is given)."""
    case: Referral = await run_in_threadpool(visible_case, case_id, principal, services, attempt)
    when = moment_of(moment.strip()) if moment.strip() else None
    context: dict[str, Any] = {
        "case_id": str(case.id),
        "moment": moment.strip()[:16],
        "now_state": case.state.value,
        "coordinator": principal.role is Role.COORDINATOR,
        "names": catalogue_names(services),
        "view": None,
        "message": None,
    }
    if moment.strip() and when is None:
        context["message"] = "Vul een datum (jjjj-mm-dd) of een datum met tijd in."
    elif when is not None:
        try:
            found = await run_in_threadpool(replay_case, services.referrals, case.id, when)
        except CaseNotFoundError:
            context["message"] = (
                f"Op {when.strftime('%d-%m-%Y %H:%M')} bestond deze casus nog niet; hij is "
                f"geopend op {case.signalled_at.astimezone(AMSTERDAM).strftime('%d-%m-%Y %H:%M')}."
            )
        else:
            context |= {
                "view": reader_policy.case_document(document_then(found), reader_of(principal)),
                "when": when,
                "later_events": found.later_events,
            }
    return page(request, "case_as_of.html", context, status=422 if context["message"] else 200)
