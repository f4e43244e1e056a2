"""The app factory: routers, problem handlers and middleware around the engine's parts.

Nothing is built or connected at import time; ``create_app`` is called by the composition
root with a bootstrapped engine, ``openapi_document`` builds the routes only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from functools import partial
from typing import Any
from uuid import UUID

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from adapters.http.access_writer import AccessWriter
from adapters.http.context import Services
from adapters.http.dashboard import install_dashboard
from adapters.http.metrics import ApiMetrics, LagSource
from adapters.http.middleware import install_request_middleware
from adapters.http.oidc_client import OidcClient
from adapters.http.ports import EngineParts, ReadinessCheck, ReadModels, SignalGateway
from adapters.http.problems import install_problem_handlers
from adapters.http.routers import (
    access_requests,
    after_match,
    audit,
    cases,
    catalog,
    commands,
    correction,
    fhir,
    household,
    meetings,
    monitoring,
    operations,
    ownership,
    personal,
    privacy,
    rights,
    search,
    signals,
    stats,
    transfers,
)
from adapters.http.schemas.signals import SignalIn, body_schemas
from ks_engine.access_log import AccessLog
from ks_engine.audit import last_verify
from ks_engine.identity_map import IdentityMap
from ks_engine.monitoring_export import MonitoringExport
from ks_engine.person_sessions import PersonSessions
from ks_engine.principals import PrincipalRegistry, registry_for
from ks_engine.supervision import StatusBoard

DESCRIPTION = """\
Coordinators of the Knooppunt Kansrijke Start query their work queue and record consent,
discussions, matched support, escalations and closures; partners submit signals and read
their receipts; auditors read case histories and the NEN 7513 access log.

Every request needs a bearer token (`ks principals add`). A case outside your remit answers
404, exactly like a case that does not exist. Errors are RFC 9457 problem details; every
response carries `X-Request-ID`. No response ever contains a BSN.
"""


class _Api(FastAPI):
    """FastAPI, whose OpenAPI also describes the bodies that routes read themselves."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            document = super().openapi()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(body_schemas(SignalIn))
            self.openapi_schema = dict(document, components=dict(document["components"]))
            self.openapi_schema["components"]["schemas"] = dict(sorted(schemas.items()))
        return self.openapi_schema


def _routes() -> FastAPI:
    api = _Api(
        title="ks-engine",
        version="1",
        description=DESCRIPTION,
        openapi_tags=[
            {"name": "signals", "description": "Partners submit signals, read receipts."},
            {"name": "cases", "description": "Coordinators' queries (and partners' view)."},
            {"name": "commands", "description": "Coordinators record what happened."},
            {"name": "meetings", "description": "The Knooppunt meeting (casusoverleg)."},
            {"name": "catalogue", "description": "The menukaart."},
            {"name": "monitoring", "description": "Figures per municipality and month."},
            {"name": "audit", "description": "The access log."},
            {
                "name": "privacy",
                "description": "The family's rights: erasure, restriction, access, "
                "correction (privacy officer).",
            },
            {"name": "operations", "description": "Health, readiness, metrics."},
        ],
    )
    modules = (
        signals,
        search,
        cases,
        personal,
        fhir,
        commands,
        household,
        after_match,
        meetings,
        transfers,
        ownership,
        catalog,
        stats,
        monitoring,
    )
    for module in (*modules, audit, privacy, rights, access_requests, correction, operations):
        api.include_router(module.router)
    api.include_router(transfers.listing)
    install_problem_handlers(api)
    install_dashboard(api)
    install_request_middleware(api)
    return api


def create_app(
    engine: EngineParts,
    *,
    principals: PrincipalRegistry | None = None,
    read_models: ReadModels | None = None,
    signals: SignalGateway | None = None,
    readiness: Mapping[str, ReadinessCheck] | None = None,
    projection_lag: LagSource | None = None,
    components: StatusBoard | None = None,
) -> FastAPI:
    """The HTTP API over ``engine``; the read models, signal pipeline and the status board of
    the supervised components when given."""
    api = _routes()
    access_log = AccessLog(engine.referrals, engine.referrals.clock)
    api.state.services = Services(
        referrals=engine.referrals,
        access_log=access_log,
        access_writer=AccessWriter(access_log.store),
        last_verify=partial(last_verify.load, last_verify.path_in(engine.settings.data_dir)),
        principals=principals or registry_for(engine.settings, engine.referrals.clock),
        metrics=ApiMetrics(projection_lag, components),
        pseudonymise=engine.pseudonymise,
        signal_rules=engine.signal_rules(),
        read_models=read_models,
        publisher=MonitoringExport.from_settings(engine.settings),
        signals=signals,
        readiness=_with_read_models_check(readiness, read_models),
        components=components,
        local_reads=engine.settings.store != "postgres",
        **_person_sign_in(engine),
    )
    return api


def _person_sign_in(engine: EngineParts) -> dict[str, Any]:
    """The OpenID Connect client and the people's sessions, when a provider is configured."""
    settings = engine.settings
    if not settings.oidc_issuer:
        return {}
    secret = settings.oidc_client_secret
    return {
        "oidc": OidcClient(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=(secret.get_secret_value() or None) if secret else None,
            redirect_uri=f"{settings.effective_public_url}/dashboard/oidc/terug",
            groups_claim=settings.oidc_groups_claim,
        ),
        "sessions": PersonSessions(
            settings.person_sessions_file,
            IdentityMap(settings.identity_map_file),
            idle=timedelta(minutes=settings.session_idle_minutes),
            longest=timedelta(hours=settings.session_max_hours),
            clock=engine.referrals.clock,
        ),
    }


def _with_read_models_check(
    checks: Mapping[str, ReadinessCheck] | None, views: ReadModels | None
) -> dict[str, ReadinessCheck]:
    """The given checks, and one that the read models' database answers."""
    result = dict(checks or {})
    if views is not None and "read_models" not in result:

        async def read_models() -> str | None:
            await run_in_threadpool(views.cases.get, UUID(int=0))
            return None

        result["read_models"] = read_models
    return result


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the API (for docs/openapi.json)."""
    return _routes().openapi()
