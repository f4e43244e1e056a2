"""Menukaart beheren: administrators add, change and remove offers, each change an event.

The forms run the same application commands as ``/catalog/services``; a form names the offer's
version it was shown (like ``If-Match``), so a change made meanwhile by someone else is refused.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from adapters.http.context import ServicesDep, audited
from adapters.http.dashboard import forms
from adapters.http.dashboard.render import page, redirect
from adapters.http.dashboard.session import PREFIX, Admin, FormData, PageError
from domain.catalogue import SupportOffer
from domain.errors import CatalogueError, ServiceNotFoundError, VersionConflictError
from domain.values import Actor, ActorRole, Dimension, Need, Phase, RiskFactor
from ks_engine import commands as c
from ks_engine.access_log import AccessAction
from ks_engine.principals import Principal

router = APIRouter(prefix=f"{PREFIX}/menukaart", include_in_schema=False)
DONE = {
    "opgeslagen": "Het aanbod is opgeslagen; de menukaart heeft een nieuwe versie.",
    "verwijderd": "Het aanbod is van de menukaart gehaald.",
}
FIELD_NAMES = {
    "id": "Code",
    "name": "Naam",
    "organization_id": "Aanbieder",
    "phases": "Fasen",
    "service_area": "Gemeenten",
}


def _context(request: Request, principal: Principal) -> c.Context:
    actor = Actor(organisation=principal.organisation, role=ActorRole.ADMIN, user_ref=principal.id)
    return c.Context(actor=actor, causation_id=f"dashboard:{request.state.request_id}")


def _form_page(
    request: Request,
    services: ServicesDep,
    offer: dict[str, Any],
    version: int | None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    region = services.referrals.region
    catalogue = services.referrals.catalogue
    municipalities = [(m.code, m.name) for m in region.municipalities] if region else []
    known = {code for code, _ in municipalities}
    municipalities += [(code, code) for code in offer.get("service_area", []) if code not in known]
    context = {
        "offer": offer,
        "version": version,
        "organizations": catalogue.organizations,
        "municipalities": municipalities,
        "vocabularies": [
            ("phases", "Fasen", list(Phase)),
            ("needs", "Behoeften", list(Need)),
            ("risk_factors", "Risicofactoren", list(RiskFactor)),
            ("dimensions", "Dimensies van Positieve Gezondheid", list(Dimension)),
        ],
        "message": message,
    }
    return page(request, "menukaart_form.html", context, status=status)


@router.get("", dependencies=[audited(AccessAction.READ)])
def overview(
    request: Request, principal: Admin, services: ServicesDep, gedaan: str | None = None
) -> Response:
    catalogue, versions = services.referrals.catalogue_versions()
    providers = {o.id: o.name for o in catalogue.organizations}
    rows = [
        {"offer": o, "provider": providers[o.organization_id], "version": versions[o.id]}
        for o in catalogue.services
    ]
    region = services.referrals.region
    context = {
        "rows": rows,
        "catalogue_version": catalogue.version,
        "names": {m.code: m.name for m in region.municipalities} if region else {},
        "done": DONE.get(gedaan or ""),
    }
    return page(request, "menukaart.html", context)


@router.get("/nieuw", dependencies=[audited(AccessAction.READ)])
def new_offer(request: Request, principal: Admin, services: ServicesDep) -> Response:
    return _form_page(request, services, {"phases": [], "service_area": []}, None)


@router.get("/{service_id}", dependencies=[audited(AccessAction.READ)])
def edit_offer(
    request: Request, service_id: str, principal: Admin, services: ServicesDep
) -> Response:
    try:
        offer, _, version = services.referrals.catalogue_service(service_id)
    except ServiceNotFoundError:
        raise PageError(404, "Onbekend aanbod", "Dit aanbod staat niet op de menukaart.") from None
    return _form_page(request, services, offer.model_dump(mode="json"), version)


def _offer_from(form: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": forms.one(form, "id"),
        "name": forms.one(form, "name"),
        "organization_id": forms.one(form, "organization_id"),
        "description": forms.one(form, "description"),
        "eligibility": forms.one(form, "eligibility"),
        "phases": forms.many(form, "phases"),
        "needs": forms.many(form, "needs"),
        "risk_factors": forms.many(form, "risk_factors"),
        "dimensions": forms.many(form, "dimensions"),
        "service_area": forms.many(form, "service_area"),
    }


@router.post("/opslaan", dependencies=[audited(AccessAction.UPDATE)])
async def save(
    request: Request, principal: Admin, form: FormData, services: ServicesDep
) -> Response:
    record = _offer_from(form)
    version_text = forms.one(form, "version")
    expected = int(version_text) if version_text.isdigit() else None
    try:
        offer = SupportOffer.model_validate(record)
    except ValidationError as exc:
        missing = sorted(
            {FIELD_NAMES.get(str(e["loc"][0]), str(e["loc"][0])) for e in exc.errors()}
        )
        message = (
            "Het aanbod is niet opgeslagen. Vul deze velden goed in: " + ", ".join(missing) + "."
        )
        return _form_page(request, services, record, expected, message, status=422)
    try:
        await run_in_threadpool(
            services.referrals.save_catalogue_service,
            offer,
            None,
            expected,
            _context(request, principal),
        )
    except VersionConflictError as exc:
        message = (
            f"Het aanbod is niet opgeslagen: iemand anders heeft het intussen gewijzigd of het "
            f"bestaat al (nu versie {exc.actual}). Open het opnieuw en breng uw wijziging "
            "nogmaals aan."
        )
        return _form_page(request, services, record, expected, message, status=412)
    except CatalogueError as exc:
        message = f"Het aanbod is niet opgeslagen: de menukaart zou niet kloppen ({exc})."
        return _form_page(request, services, record, expected, message, status=422)
    return redirect(f"{PREFIX}/menukaart?gedaan=opgeslagen")


@router.post("/{service_id}/verwijderen", dependencies=[audited(AccessAction.DELETE)])
async def remove(
    request: Request, service_id: str, principal: Admin, form: FormData, services: ServicesDep
) -> Response:
    version_text = forms.one(form, "version")
    if not version_text.isdigit():
        raise PageError(
            428, "Versie ontbreekt", "Laad de menukaart opnieuw en probeer het nog eens."
        )
    try:
        await run_in_threadpool(
            services.referrals.remove_catalogue_service,
            service_id,
            int(version_text),
            _context(request, principal),
        )
    except ServiceNotFoundError:
        raise PageError(404, "Onbekend aanbod", "Dit aanbod staat niet op de menukaart.") from None
    except VersionConflictError:
        raise PageError(
            412,
            "Intussen gewijzigd",
            "Iemand anders heeft dit aanbod intussen gewijzigd. Laad de menukaart opnieuw.",
        ) from None
    return redirect(f"{PREFIX}/menukaart?gedaan=verwijderd")
