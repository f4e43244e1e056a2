"""Queries on cases: the work queue, one case, its history, fitting support."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from adapters.http.access import (
    CoordinatedCase,
    HistoryCase,
    ReadableCase,
    former_municipality,
    reader_of,
)
from adapters.http.context import (
    Coordinator,
    PrincipalDep,
    ServicesDep,
    audited,
    get_read_models,
    quick_read,
)
from adapters.http.ports import Document, ReadModels
from adapters.http.problems import (
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    problem_responses,
)
from adapters.http.schemas.queries import (
    HistoryOut,
    PartnerCaseOut,
    SuggestionOut,
    WorkQueueOut,
)
from domain import reader_policy
from domain.lifecycle import Action, State
from domain.values import Urgency
from ks_engine.access_log import AccessAction
from ks_engine.principals import Role

router = APIRouter(
    prefix="/cases",
    tags=["cases"],
    dependencies=[audited(AccessAction.READ)],
    responses=problem_responses(401, 403, 404, 422, 503),
)

WAIT_SECONDS = 5.0
BEHIND_HEADER = "X-Read-Models-Behind"
AfterPosition = Annotated[
    int | None,
    Query(
        ge=1,
        description="A command's position: wait (up to 5 s) until the views include it. "
        f"If they do not by then, the answer carries `{BEHIND_HEADER}: true`.",
    ),
]


async def _catch_up(views: ReadModels, position: int | None, response: Response) -> None:
    if position is not None and not await views.wait_for_async(position, WAIT_SECONDS):
        response.headers[BEHIND_HEADER] = "true"


@router.get(
    "",
    summary="The work queue: open cases of your municipalities, most urgent first",
    response_model=WorkQueueOut,
)
async def work_queue(
    principal: Coordinator,
    services: ServicesDep,
    response: Response,
    municipality: Annotated[str | None, Query(pattern=r"^GM\d{4}$")] = None,
    state: Annotated[State | None, Query()] = None,
    overdue: Annotated[bool | None, Query()] = None,
    urgency: Annotated[Urgency | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    after_position: AfterPosition = None,
    assignment: Annotated[
        Literal["mine", "unassigned"] | None,
        Query(
            description="`mine`: only the cases assigned to you (*mijn casussen*); "
            "`unassigned`: only the cases no coordinator owns yet (*niet toegewezen*)."
        ),
    ] = None,
) -> Response:
    if municipality is not None and not principal.serves(municipality):
        raise ForbiddenError(f"you do not coordinate for municipality {municipality}")
    views = get_read_models(services)
    await _catch_up(views, after_position, response)
    try:
        page = await quick_read(
            services,
            lambda: views.work_queue.stored_page(
                now=services.referrals.clock(),
                municipalities=[municipality] if municipality else list(principal.municipalities),
                states=[state.value] if state else None,
                urgencies=[urgency.value] if urgency else None,
                overdue=overdue,
                limit=limit,
                cursor=cursor,
                assigned_to=principal.id if assignment == "mine" else None,
                unassigned=assignment == "unassigned",
            ),
        )
    except ValueError:
        raise InvalidRequestError(
            "the cursor is not one this work queue issued; start again without it",
            errors=[{"field": "query.cursor", "message": "not a cursor of this work queue"}],
        ) from None
    # Work-queue entries hold codes, dates and counts only (a unit test keeps personal fields
    # out of WorkQueueEntry), so they are answered as they are: WorkQueueOut's JSON, written
    # from the stored rows without building the models (``StoredPage.json``).
    return Response(page.json(), media_type="application/json")


@router.get(
    "/{case_id}",
    summary="One case: the full view for its coordinator, a consented subset for partners",
    description="What each reader sees is the reader policy (docs/privacy.md): a partner "
    "named in the family's consent sees the process and, for a medical partner, the medical "
    "fields (risk factors), for a social partner the social summary (needs). Personal "
    "details are never part of it.",
    response_model=dict[str, Any],
)
async def case_view(
    case: ReadableCase,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
    after_position: AfterPosition = None,
) -> dict[str, Any]:
    if principal.role is Role.PARTNER:
        partner_view = PartnerCaseOut.of(case).model_dump(mode="json")
        return reader_policy.case_document(partner_view, reader_of(principal))
    document = await _case_document(case.id, services, response, after_position)
    response.headers["ETag"] = f'"{document["version"]}"'  # what a command's If-Match quotes
    return reader_policy.case_document(document, reader_of(principal))


@router.get(
    "/{case_id}/history",
    summary="The case's history of events, with who caused each",
    description="An auditor or privacy officer sees each event's process fields only "
    "(the reader policy, docs/privacy.md). A coordinator of a municipality the case was "
    "transferred away from sees its own part: the history up to the transfer.",
)
async def history(
    case: HistoryCase,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
    after_position: AfterPosition = None,
) -> HistoryOut:
    view = await _case_document(case.id, services, response, after_position)
    reader = reader_of(principal)
    timeline = view.get("timeline", [])
    left = former_municipality(case, principal)
    if left is not None:  # a municipality the case left: its own part, up to the transfer
        timeline = own_part(timeline, left)
    events = [reader_policy.history_entry(e, reader) for e in timeline]
    return HistoryOut(case_id=case.id, events=events)


def own_part(timeline: list[dict[str, Any]], municipality: str) -> list[dict[str, Any]]:
    """The history up to and including the last transfer away from ``municipality``."""
    ends = [
        i
        for i, e in enumerate(timeline)
        if e.get("event") == "CaseTransferred"
        and e.get("details", {}).get("from_municipality") == municipality
    ]
    return timeline[: ends[-1] + 1] if ends else []


@router.get(
    "/{case_id}/support-suggestions",
    summary="Offers from the menukaart that fit the case, best first",
)
def support_suggestions(case: CoordinatedCase, services: ServicesDep) -> list[SuggestionOut]:
    today = services.referrals.clock().date()
    return [
        SuggestionOut.of(s, covers=case.shares_with(s.provider.id, Action.MATCH_SUPPORT, today))
        for s in services.referrals.suggest_support(case.id)
    ]


async def _case_document(
    case_id: Any, services: ServicesDep, response: Response, after_position: int | None
) -> dict[str, Any]:
    views = get_read_models(services)
    await _catch_up(views, after_position, response)
    view = await quick_read(services, views.cases.get, case_id)
    if view is None:
        raise NotFoundError("the case is not in the read models yet; try again shortly")
    return _shown(view)


PERSONAL_FIELDS = frozenset(
    {"bsn", "name", "birth_date", "note", "personal", "person", "person_pseudonym"}
)


def _shown(document: Document) -> dict[str, Any]:
    shown: dict[str, Any] = without_personal_data(document.model_dump(mode="json"))
    return shown


_SCALARS = frozenset({str, int, float, bool, type(None)})


def without_personal_data(value: Any) -> Any:
    """A view with every direct identifier (and the pseudonym) left out, at any depth.

    Runs for every item of every page, so JSON's own types are told apart by exact type
    first (an ``isinstance`` against ``Mapping`` costs an abstract-class check per value)."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict or isinstance(value, Mapping):
        return {k: without_personal_data(v) for k, v in value.items() if k not in PERSONAL_FIELDS}
    if isinstance(value, list | tuple):
        return [without_personal_data(v) for v in value]
    return value
