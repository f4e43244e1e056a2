"""The menukaart: the support offers a Knooppunt can match."""

from __future__ import annotations

from fastapi import APIRouter

from adapters.http.context import PrincipalDep, ServicesDep
from adapters.http.problems import problem_responses
from domain.catalogue import Catalogue

router = APIRouter(tags=["catalogue"], responses=problem_responses(401))


@router.get("/catalog", summary="The menukaart: providers and their offers (HSDS shape)")
def catalog(principal: PrincipalDep, services: ServicesDep) -> Catalogue:
    return services.referrals.catalogue
