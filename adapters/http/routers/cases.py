"""Queries on cases: the work queue, one case, its history, fitting support."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from adapters.http.access import CoordinatedCase, HistoryCase, ReadableCase
from adapters.http.context import (
    Coordinator,
    PrincipalDep,
    QueriesDep,
    ServicesDep,
    audited,
    get_queries,
)
from adapters.http.ports import CaseQueries, WorkQueueFilter
from adapters.http.problems import ForbiddenError, NotFoundError, problem_responses
from adapters.http.schemas.queries import (
    HistoryOut,
    PartnerCaseOut,
    SuggestionOut,
    WorkQueueOut,
)
from domain.lifecycle import State
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
AfterPosition = Annotated[
    int | None,
    Query(ge=1, description="Wait (up to 5 s) until the views include this command position."),
]


async def _catch_up(queries: CaseQueries, position: int | None) -> None:
    if position is not None:
        await run_in_threadpool(queries.wait_for, position, WAIT_SECONDS)


@router.get("", summary="The work queue: open cases of your municipalities, most urgent first")
async def work_queue(
    principal: Coordinator,
    services: ServicesDep,
    municipality: Annotated[str | None, Query(pattern=r"^GM\d{4}$")] = None,
    state: Annotated[State | None, Query()] = None,
    overdue: Annotated[bool | None, Query()] = None,
    urgency: Annotated[Urgency | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    after_position: AfterPosition = None,
) -> WorkQueueOut:
    if municipality is not None and not principal.serves(municipality):
        raise ForbiddenError(f"you do not coordinate for municipality {municipality}")
    queries = get_queries(services)
    await _catch_up(queries, after_position)
    page = await run_in_threadpool(
        queries.work_queue,
        WorkQueueFilter(
            municipalities=[municipality] if municipality else list(principal.municipalities),
            state=state.value if state else None,
            overdue=overdue,
            urgency=urgency.value if urgency else None,
            cursor=cursor,
            limit=limit,
        ),
    )
    return WorkQueueOut(
        items=[without_personal_data(i) for i in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/{case_id}",
    summary="One case: the full view for its coordinator, a consented subset for partners",
    response_model=dict[str, Any] | PartnerCaseOut,
)
async def case_view(
    case: ReadableCase,
    principal: PrincipalDep,
    services: ServicesDep,
    after_position: AfterPosition = None,
) -> dict[str, Any] | PartnerCaseOut:
    if principal.role is Role.PARTNER:
        return PartnerCaseOut.of(case)
    queries = get_queries(services)
    await _catch_up(queries, after_position)
    view = await run_in_threadpool(queries.case_view, case.id)
    if view is None:
        raise NotFoundError("the case is not in the read models yet; try again shortly")
    shown: dict[str, Any] = without_personal_data(view)
    return shown


@router.get("/{case_id}/history", summary="The case's history of events, with who caused each")
async def history(
    case: HistoryCase, queries: QueriesDep, after_position: AfterPosition = None
) -> HistoryOut:
    await _catch_up(queries, after_position)
    events = await run_in_threadpool(queries.history, case.id)
    if events is None:
        raise NotFoundError("the case's history is not in the read models yet; try again shortly")
    return HistoryOut(case_id=case.id, events=[without_personal_data(e) for e in events])


@router.get(
    "/{case_id}/support-suggestions",
    summary="Offers from the menukaart that fit the case, best first",
)
def support_suggestions(case: CoordinatedCase, services: ServicesDep) -> list[SuggestionOut]:
    return [SuggestionOut.of(s) for s in services.referrals.suggest_support(case.id)]


_PERSONAL = frozenset(
    {"bsn", "name", "birth_date", "note", "personal", "person", "person_pseudonym"}
)


def without_personal_data(value: Any) -> Any:
    """A view with every direct identifier (and the pseudonym) left out, at any depth."""
    if isinstance(value, Mapping):
        return {k: without_personal_data(v) for k, v in value.items() if k not in _PERSONAL}
    if isinstance(value, list | tuple):
        return [without_personal_data(v) for v in value]
    return value
