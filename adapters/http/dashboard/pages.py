"""Signing in and out, the start page and the coordinator's work queue (*werkvoorraad*)."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from adapters.http.context import ServicesDep, audited, get_read_models
from adapters.http.dashboard.labels import DONE
from adapters.http.dashboard.render import page, redirect, sign_in_page
from adapters.http.dashboard.session import (
    COOKIE,
    PREFIX,
    SIGN_IN_COOKIE,
    Coordinator,
    FormData,
    PageError,
    SignedIn,
    clear_session,
    expired,
    safe_next,
    same_origin,
    set_session,
)
from adapters.http.dashboard.transfer_forms import incoming_transfers
from adapters.http.oidc_client import SignInFailedError
from adapters.http.routers.cases import without_personal_data
from domain.lifecycle import OPEN_STATES, State
from domain.values import Urgency
from ks_engine.access_log import AccessAction
from ks_engine.principals import Principal, Role, TokenCheck
from projections.queue_listing import SORTS

router = APIRouter(prefix=PREFIX, include_in_schema=False)

PAGE_SIZE = 25
REFRESH_SECONDS = 5
MUNICIPALITY = re.compile(r"GM\d{4}")
CLOSED = State.CLOSED.value


@router.get("/inloggen", dependencies=[audited(AccessAction.READ)])
def sign_in_form(
    request: Request, uitgelogd: str | None = None, next: str | None = None
) -> Response:
    message = "U bent uitgelogd." if uitgelogd else ""
    return sign_in_page(request, message, status=200, next_path=next)


@router.post("/inloggen", dependencies=[audited(AccessAction.EXECUTE)])
def sign_in(
    request: Request,
    services: ServicesDep,
    token: Annotated[str, Form(max_length=200)] = "",
    nonce: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not same_origin(request) or not expected or not hmac.compare_digest(nonce, expected):
        return sign_in_page(
            request, "Het formulier was verlopen; probeer het nog eens.", status=403, next_path=next
        )
    found = services.principals.check(token.strip()) if token.strip() else TokenCheck()
    principal = found.valid
    if found.expired_at is not None:
        request.state.access.principal = found.principal  # who tried, for the auditors
        return sign_in_page(request, expired(found.expired_at), next_path=next)
    if principal is None:
        return sign_in_page(
            request,
            "Deze toegangscode is niet geldig. Controleer de code of vraag de beheerder om een "
            "nieuwe.",
            next_path=next,
        )
    request.state.access.principal = principal
    request.state.principal = principal
    if principal.role not in DASHBOARD_ROLES:
        return sign_in_page(
            request,
            "Het dashboard is voor coördinatoren, auditors, functionarissen gegevensbescherming, "
            "beheerders en het programmabureau; uw toegangscode hoort bij een andere rol.",
            status=403,
            next_path=next,
        )
    response = redirect(safe_next(next))
    set_session(response, request, token.strip())
    return response


DASHBOARD_ROLES = (
    Role.COORDINATOR,
    Role.AUDITOR,
    Role.PRIVACY_OFFICER,
    Role.PROGRAMME_OFFICE,
    Role.ADMIN,
)


@router.post("/uitloggen", dependencies=[audited(AccessAction.EXECUTE)])
async def sign_out(
    request: Request, principal: SignedIn, form: FormData, services: ServicesDep
) -> Response:
    after = f"{PREFIX}/inloggen?uitgelogd=1"
    opened = getattr(request.state, "person_session", None)
    target = after
    if opened is not None and services.sessions is not None and services.oidc is not None:
        # A person's session ends here and at their organisation's identity provider.
        await run_in_threadpool(services.sessions.end, request.cookies.get(COOKIE, ""))
        public = services.oidc.redirect_uri.removesuffix("/dashboard/oidc/terug")
        try:
            target = await services.oidc.end_session_url(opened.id_token, public + after) or after
        except SignInFailedError:
            target = after  # the provider is unreachable: the session here has ended anyway
    response = redirect(target)
    clear_session(response)
    return response


@router.get("/", dependencies=[audited(AccessAction.READ)])
def start(principal: SignedIn) -> Response:
    if principal.role in (Role.AUDITOR, Role.PRIVACY_OFFICER):
        return redirect(f"{PREFIX}/audit")
    if principal.role is Role.COORDINATOR:
        return redirect(f"{PREFIX}/werkvoorraad")
    if principal.role is Role.PROGRAMME_OFFICE:
        return redirect(f"{PREFIX}/regio")
    if principal.role is Role.ADMIN:
        return redirect(f"{PREFIX}/menukaart")
    raise PageError(403, "Geen toegang", "Het dashboard is niet voor ketenpartners.")


@dataclass(frozen=True)
class QueueFilters:
    """The work queue's filters, sort and page as the coordinator chose them (empty: all)."""

    municipality: str = ""
    state: str = ""
    overdue: str = ""
    urgency: str = ""
    toewijzing: str = ""  # "mijn": mijn casussen; "niemand": niet toegewezen
    sort: str = ""
    richting: str = ""
    pagina: int = 1

    def check(self, principal: Principal) -> None:
        if self.municipality and not principal.serves(self.municipality):
            raise PageError(403, "Geen toegang", "U bent geen coördinator voor deze gemeente.")

    @property
    def closed(self) -> bool:
        return self.state == CLOSED

    @property
    def descending(self) -> bool:
        return self.richting == "af"

    def query_with(self, **changes: str | int) -> str:
        """The query string of these choices with ``changes`` (the page back to 1 unless given)."""
        values: dict[str, str | int] = {**vars(self), "pagina": 1, **changes}
        pairs = [(k, v) for k, v in values.items() if v and not (k == "pagina" and v == 1)]
        return urlencode(pairs)

    @property
    def query(self) -> str:
        return self.query_with(pagina=self.pagina)

    def sort_link(self, column: str) -> str:
        """The query of sorting by ``column``: ascending first, reversed on a second click."""
        again = self.sort == column and not self.descending
        return self.query_with(sort=column, richting="af" if again else "")

    def aria_sort(self, column: str) -> str:
        if self.sort != column:
            return "none"
        return "descending" if self.descending else "ascending"


def _filters(
    municipality: Annotated[str, Query(max_length=10)] = "",
    state: Annotated[str, Query(max_length=40)] = "",
    overdue: Annotated[str, Query(max_length=5)] = "",
    urgency: Annotated[str, Query(max_length=20)] = "",
    toewijzing: Annotated[str, Query(max_length=10)] = "",
    sort: Annotated[str, Query(max_length=20)] = "",
    richting: Annotated[str, Query(max_length=5)] = "",
    pagina: Annotated[str, Query(max_length=6)] = "",
) -> QueueFilters:
    """Filters from the query; a value that is no choice of the form counts as no filter."""
    return QueueFilters(
        municipality=municipality if MUNICIPALITY.fullmatch(municipality) else "",
        state=state if state in {*(s.value for s in OPEN_STATES), CLOSED} else "",
        overdue=overdue if overdue in ("ja", "nee") else "",
        urgency=urgency if urgency in {u.value for u in Urgency} else "",
        toewijzing=toewijzing if toewijzing in ("mijn", "niemand") else "",
        sort=sort if sort in SORTS else "",
        richting=richting if richting == "af" else "",
        pagina=int(pagina) if pagina.isdigit() and int(pagina) > 0 else 1,
    )


Filters = Annotated[QueueFilters, Depends(_filters)]


async def _queue(
    principal: Principal, services: ServicesDep, filters: QueueFilters
) -> tuple[list[dict[str, Any]], int]:
    """The chosen page of the queue (open or closed cases) and how many cases match in all."""
    filters.check(principal)
    listing = get_read_models(services).listing
    chosen = [filters.municipality] if filters.municipality else list(principal.municipalities)
    common: dict[str, Any] = {
        "now": services.referrals.clock(),
        "municipalities": chosen,
        "sort": filters.sort or ("deadline" if filters.closed else "urgency"),
        "descending": filters.descending,
        "offset": (filters.pagina - 1) * PAGE_SIZE,
        "limit": PAGE_SIZE,
        "urgencies": [filters.urgency] if filters.urgency else None,
    }
    if filters.closed:
        found = await run_in_threadpool(lambda: listing.closed_cases(**common))
    else:
        found = await run_in_threadpool(
            lambda: listing.open_cases(
                **common,
                states=[filters.state] if filters.state else None,
                overdue={"ja": True, "nee": False}.get(filters.overdue),
                assigned_to=principal.id if filters.toewijzing == "mijn" else None,
                unassigned=filters.toewijzing == "niemand",
            )
        )
    rows: list[dict[str, Any]] = [
        without_personal_data(i.model_dump(mode="json")) for i in found.items
    ]
    return rows, found.total


def _queue_context(filters: QueueFilters, rows: list[dict[str, Any]], total: int) -> dict[str, Any]:
    pages = max(1, -(-total // PAGE_SIZE))
    return {
        "rows": rows,
        "total": total,
        "filters": filters,
        "pages": pages,
        "states": [s.value for s in OPEN_STATES],
        "urgencies": [u.value for u in Urgency],
        "refresh_seconds": REFRESH_SECONDS,
        "page_size": PAGE_SIZE,
    }


@router.get("/werkvoorraad", dependencies=[audited(AccessAction.READ)])
async def work_queue(
    request: Request,
    principal: Coordinator,
    services: ServicesDep,
    filters: Filters,
    gedaan: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    rows, total = await _queue(principal, services, filters)
    context = _queue_context(filters, rows, total)
    context["incoming"] = await incoming_transfers(principal, services)
    context["done"] = DONE.get(gedaan)
    return page(request, "work_queue.html", context)


@router.get("/werkvoorraad/rijen", dependencies=[audited(AccessAction.READ)])
async def work_queue_rows(
    request: Request,
    principal: Coordinator,
    services: ServicesDep,
    filters: Filters,
) -> Response:
    """The queue's table rows alone, for the page's live refresh."""
    rows, total = await _queue(principal, services, filters)
    return page(request, "_queue_rows.html", _queue_context(filters, rows, total))
