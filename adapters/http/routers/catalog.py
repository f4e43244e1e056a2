"""The menukaart: the support offers a Knooppunt can match, maintained by administrators.

Reading is open to every principal; adding, changing and removing an offer is for
administrators, each change an event in the menukaart's history and an entry in the access
log. A change names the offer's version it was based on (``If-Match``): a stale one answers 412.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from adapters.http.context import PrincipalDep, ServicesDep, audited, require
from adapters.http.problems import (
    IF_MATCH_PATTERN,
    InvalidRequestError,
    NotFoundError,
    if_match_version,
    problem_responses,
)
from domain.catalogue import Catalogue, Organization, SupportOffer
from domain.values import Actor, ActorRole
from ks_engine import commands as c
from ks_engine.access_log import AccessAction
from ks_engine.principals import Principal, Role

router = APIRouter(tags=["catalogue"], responses=problem_responses(401))
Admin = Annotated[Principal, require(Role.ADMIN)]


class ServiceIn(BaseModel):
    """An offer to add or change, with its provider when that is new or changed."""

    model_config = ConfigDict(extra="forbid")
    service: SupportOffer
    organization: Organization | None = Field(
        default=None, description="The provider, when it is not on the menukaart yet."
    )


class ServiceOut(BaseModel):
    """An offer as it is now, its provider and the version a change must name."""

    service: SupportOffer
    organization: Organization
    version: int = Field(description="Send it back as If-Match when changing the offer.")
    catalogue_version: str


class RemovedOut(BaseModel):
    service_id: str
    catalogue_version: str


def _if_match(
    if_match: Annotated[
        str,
        Header(
            pattern=IF_MATCH_PATTERN,
            description='The offer version the change is based on (its ETag), e.g. "3"; '
            "without it (or with `*`) the answer is 428.",
        ),
    ],
) -> int:
    return if_match_version(if_match)


IfMatch = Annotated[int, Depends(_if_match)]


def _context(request: Request, principal: Admin) -> c.Context:
    actor = Actor(organisation=principal.organisation, role=ActorRole.ADMIN, user_ref=principal.id)
    return c.Context(actor=actor, causation_id=f"http:{request.state.request_id}")


AdminContext = Annotated[c.Context, Depends(_context)]


def _answer(services: ServicesDep, response: Response, service_id: str) -> ServiceOut:
    offer, organization, version = services.referrals.catalogue_service(service_id)
    response.headers["ETag"] = f'"{version}"'
    return ServiceOut(
        service=offer,
        organization=organization,
        version=version,
        catalogue_version=services.referrals.catalogue.version,
    )


@router.get("/catalog", summary="The menukaart: providers and their offers (HSDS shape)")
def catalog(principal: PrincipalDep, services: ServicesDep) -> Catalogue:
    return services.referrals.catalogue


@router.get("/catalog/services", summary="Every offer of the menukaart (HSDS-shaped records)")
def list_services(principal: PrincipalDep, services: ServicesDep) -> list[SupportOffer]:
    return list(services.referrals.catalogue.services)


@router.get(
    "/catalog/services/{service_id}",
    summary="One offer of the menukaart, with its version as ETag",
    responses=problem_responses(404),
)
def get_service(
    service_id: str, principal: PrincipalDep, services: ServicesDep, response: Response
) -> ServiceOut:
    return _answer(services, response, service_id)


@router.post(
    "/catalog/services",
    status_code=201,
    summary="Add an offer to the menukaart (administrators)",
    dependencies=[audited(AccessAction.CREATE)],
    responses=problem_responses(400, 403, 409, 412, 422),
)
async def add_service(
    body: ServiceIn, ctx: AdminContext, services: ServicesDep, response: Response
) -> ServiceOut:
    await run_in_threadpool(
        services.referrals.save_catalogue_service, body.service, body.organization, None, ctx
    )
    return _answer(services, response, body.service.id)


@router.put(
    "/catalog/services/{service_id}",
    summary="Change an offer (administrators; If-Match: the version last read)",
    dependencies=[audited(AccessAction.UPDATE)],
    responses=problem_responses(400, 403, 404, 412, 422, 428),
)
async def change_service(
    service_id: str,
    body: ServiceIn,
    expected: IfMatch,
    ctx: AdminContext,
    services: ServicesDep,
    response: Response,
) -> ServiceOut:
    if body.service.id != service_id:
        raise InvalidRequestError(
            f"the offer's id '{body.service.id}' differs from the address '{service_id}'",
            errors=[{"field": "body.service.id", "message": "must equal the id in the path"}],
        )
    await run_in_threadpool(
        services.referrals.save_catalogue_service, body.service, body.organization, expected, ctx
    )
    return _answer(services, response, service_id)


@router.delete(
    "/catalog/services/{service_id}",
    summary="Take an offer off the menukaart (administrators; If-Match: its version)",
    dependencies=[audited(AccessAction.DELETE)],
    responses=problem_responses(403, 404, 412, 422, 428),
)
async def remove_service(
    service_id: str, expected: IfMatch, ctx: AdminContext, services: ServicesDep
) -> RemovedOut:
    if not any(s.id == service_id for s in services.referrals.catalogue.services):
        raise NotFoundError(f"offer '{service_id}' is not on the menukaart")
    version = await run_in_threadpool(
        services.referrals.remove_catalogue_service, service_id, expected, ctx
    )
    return RemovedOut(service_id=service_id, catalogue_version=str(version))
