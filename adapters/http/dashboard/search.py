"""The work queue's search field (*zoeken*): a BSN, a case number, or a family name with a
birth date. Sent as a form (POST), so nothing searched for ends up in a URL or a log line."""

from __future__ import annotations

import re
from datetime import date

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from adapters.http.context import AttemptDep, ServicesDep, audited
from adapters.http.dashboard import forms
from adapters.http.dashboard.render import page, redirect
from adapters.http.dashboard.session import PREFIX, Coordinator, FormData
from domain.case_lookup import case_number
from domain.errors import InvalidValueError
from domain.values import check_bsn
from ks_engine.access_log import AccessAction

router = APIRouter(prefix=PREFIX, include_in_schema=False)

_BSN = re.compile(r"\d{9}")
_CASE_WORD = re.compile(r"^casus\s+", re.IGNORECASE)  # "Casus 740ce0b5", as the list shows it
_NUMBER = re.compile(r"[0-9a-fA-F]{8}|[0-9a-fA-F-]{36}")


@router.post("/zoeken", dependencies=[audited(AccessAction.READ)])
async def search(
    request: Request,
    principal: Coordinator,
    form: FormData,
    services: ServicesDep,
    attempt: AttemptDep,
) -> Response:
    """The cases of the coordinator's municipalities that the search term finds."""
    term = _CASE_WORD.sub("", forms.one(form, "zoekterm"))
    born = forms.one(form, "geboortedatum")
    criteria: dict[str, object] = {}
    message = None
    kind = "name"
    if _BSN.fullmatch(term):
        kind = "bsn"
        try:
            criteria["pseudonym"] = services.pseudonymise(check_bsn(term))
        except InvalidValueError:
            message = "Dit BSN klopt niet (elfproef); controleer het nummer."
    elif _NUMBER.fullmatch(term):
        kind, criteria["number"] = "case_number", term
    elif term and born:
        try:
            criteria.update(family_name=term, birth_date=date.fromisoformat(born))
        except ValueError:
            message = "Vul een geldige geboortedatum in."
    else:
        message = "Zoek op BSN, casusnummer, of achternaam met geboortedatum."
    municipalities = list(principal.municipalities)
    found = []
    if message is None:
        found = await run_in_threadpool(
            lambda: services.referrals.search_cases(municipalities, **criteria)  # type: ignore[arg-type]
        )
    if attempt is not None:
        attempt.object = f"POST /dashboard/zoeken by {kind} ({len(found)} found)"
        if len(found) == 1:
            attempt.touches(found[0])
    if kind == "case_number" and len(found) == 1:
        return redirect(f"{PREFIX}/casus/{found[0].id}")  # a number names one case: open it
    results = [
        {
            "case_id": str(c.id),
            "number": case_number(c.id),
            "municipality": c.municipality,
            "state": c.state.value,
            "signalled_at": c.signalled_at,
        }
        for c in found
    ]
    return page(request, "search.html", {"results": results, "message": message, "searched": kind})
