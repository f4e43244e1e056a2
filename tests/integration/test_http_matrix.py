"""The authorization matrix: every endpoint x every role x own / other municipality.

Each row runs against a fresh case in the state its command needs, on a real SQLite store,
with the read models on a real SQLite file, projected before every request. A refused request
changes nothing, and every request to case data leaves exactly one entry in the access log,
with the outcome the rules predict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest

from adapters.persistence.sqlite_views import SqliteViewDatabase
from ks_engine.demo import demo_bsn
from ks_engine.signal_contract import example_signal
from tests.integration.test_http_read_models import project, viewed
from tests.integration.test_http_stack import KERKRADE, MIDWIFE, SCORES, Api

__all__ = ["viewed"]

ROLES = ("anonymous", "partner", "kerkrade", "landgraaf", "auditor", "admin", "programme_office")


@dataclass(frozen=True)
class Endpoint:
    """One operation, how to prepare its case, and who may use it."""

    method: str
    path: str
    allowed: frozenset[str]
    prepare: str | None = "signalled"  # the state the case needs; None: no case involved
    body: Callable[[Api], dict[str, Any]] | None = None
    case_scoped: bool = True  # roles outside the case's remit get 404, not 403
    # Status for an allowed request; the signal endpoints answer 503: no NATS here (their
    # allowed requests run over nats-server in test_http_signals).
    ok: int = 200


def _consent(_: Api) -> dict[str, Any]:
    return {"decision": "given", "scope": ["https://verloskunde-parkstad.nl"]}


def _discussion(api: Api) -> dict[str, Any]:
    today = api.engine.referrals.clock().date().isoformat()
    return {
        "on": today,
        "participants": ["https://verloskunde-parkstad.nl"],
        "scores": SCORES.model_dump(),
        "needs": ["financial"],
    }


def _support(api: Api) -> dict[str, Any]:
    return {
        "offer_ids": ["schuldhulpverlening"],
        "lead_professional": "JGZ-verpleegkundige",
        "planned_start": api.engine.referrals.clock().date().isoformat(),
    }


def _escalation(_: Api) -> dict[str, Any]:
    return {
        "meldcode_step": "decide",
        "legal_basis": "Wmo 2015 art. 5.2.6",
        "justification": "acute onveiligheid na afweging",
        "organisations": ["veilig-thuis-zuid-limburg"],
        "purpose": "discussion",
    }


def _birth(api: Api) -> dict[str, Any]:
    today = api.engine.referrals.clock().date().isoformat()
    return {"bsn": demo_bsn(api.rng), "birth_date": today, "name": "Sem"}


def _new_offer(_: Api) -> dict[str, Any]:
    return {
        "service": {
            "id": f"aanbod-{uuid4().hex[:8]}",
            "name": "Nieuw aanbod",
            "organization_id": "home-start",
            "phases": ["postnatal"],
            "service_area": ["GM0928"],
        }
    }


def _support_start(api: Api) -> dict[str, Any]:
    return {"on": api.engine.referrals.clock().date().isoformat(), "lead_professional": "JGZ"}


def _evaluation(api: Api) -> dict[str, Any]:
    return {
        "on": api.engine.referrals.clock().date().isoformat(),
        "needs": {"financial": "partly"},
        "scores": SCORES.model_dump(),
        "next_step": "continue",
    }


def _closure() -> dict[str, Any]:
    return {"outcome": "no_longer_needed", "reason": "geen zorgen meer"}


COORD = frozenset({"kerkrade"})
ENDPOINTS = (
    Endpoint("POST", "/cases/{id}/consent-request", COORD),
    Endpoint("POST", "/cases/{id}/consent", COORD, "consent_requested", _consent),
    Endpoint("POST", "/cases/{id}/consent-withdrawal", COORD, "consented"),
    Endpoint("POST", "/cases/{id}/discussion", COORD, "consented", _discussion),
    Endpoint("POST", "/cases/{id}/support-match", COORD, "discussed", _support),
    Endpoint("POST", "/cases/{id}/escalation", COORD, body=_escalation),
    Endpoint("POST", "/cases/{id}/closure", COORD, body=lambda _: _closure()),
    Endpoint("GET", "/cases/{id}/support-suggestions", COORD, "discussed"),
    # The provider the family's consent names may confirm that its support started.
    Endpoint(
        "POST",
        "/cases/{id}/support-start",
        frozenset({"kerkrade", "partner"}),
        "support_matched",
        _support_start,
    ),
    Endpoint("POST", "/cases/{id}/evaluation", COORD, "support_started", _evaluation),
    Endpoint("POST", "/cases/{id}/reopening", COORD, "closed", lambda _: {}, ok=201),
    # A partner that signalled sees the case once the family's consent names it.
    Endpoint("GET", "/cases/{id}", frozenset({"kerkrade", "partner"}), "consented"),
    Endpoint("GET", "/cases/{id}/history", frozenset({"kerkrade", "auditor"})),
    Endpoint("GET", "/cases/{id}/fhir", frozenset({"kerkrade", "partner", "auditor"}), "consented"),
    Endpoint("GET", "/cases", frozenset({"kerkrade", "landgraaf"}), None),
    Endpoint("GET", "/stats", frozenset({"kerkrade", "landgraaf", "auditor"}), None),
    Endpoint("GET", "/audit/access", frozenset({"auditor"}), None),
    Endpoint(
        "GET",
        "/monitoring/export",
        frozenset({"kerkrade", "landgraaf", "auditor", "programme_office"}),
        None,
    ),
    Endpoint("GET", "/catalog", frozenset(ROLES) - {"anonymous"}, None, case_scoped=False),
    Endpoint("POST", "/catalog/services", frozenset({"admin"}), None, _new_offer, ok=201),
    Endpoint("GET", "/signals/{ref}", frozenset({"partner"}), None, ok=503),
    Endpoint("POST", "/signals", frozenset({"partner"}), None, ok=503),
    Endpoint("POST", "/cases/{id}/erasure", frozenset({"admin"})),
    # The household: a birth, a merge with another case of the same municipality.
    Endpoint("GET", "/cases/{id}/personal?purpose=coordination", COORD),
    Endpoint(
        "POST",
        "/cases/search",
        frozenset({"kerkrade", "landgraaf"}),
        None,
        body=lambda _: {"case_number": "abcdef12"},
    ),
    Endpoint("POST", "/cases/{id}/birth", COORD, body=_birth),
    Endpoint(
        "POST",
        "/cases/{id}/merge",
        COORD,
        body=lambda api: {"other_case_id": str(api.signal(KERKRADE))},
    ),
)
# Moving house: Kerkrade asks, Landgraaf (asked) answers; the waiting requests are listed.
MOVED = {
    "to_municipality": "GM0882",
    "basis": "family_consent",
    "consent": {"given_by": "parent", "method": "spoken", "given_on": "2026-10-30"},
}
ENDPOINTS += (
    Endpoint("POST", "/cases/{id}/transfer", COORD, body=lambda _: MOVED),
    Endpoint("POST", "/cases/{id}/transfer-acceptance", frozenset({"landgraaf"}), "transfer"),
    Endpoint(
        "POST", "/cases/{id}/transfer-refusal", frozenset({"landgraaf"}), "transfer", lambda _: {}
    ),
    Endpoint("GET", "/transfers", frozenset({"kerkrade", "landgraaf"}), None),
    # Correction is the privacy officer's alone (tests/integration/test_http_correction.py).
    Endpoint(
        "POST",
        "/cases/{id}/signals/1/retraction",
        frozenset(),
        body=lambda _: {"reason": "wrong_person"},
    ),
    Endpoint(
        "POST", "/cases/{id}/personal-correction", frozenset(), body=lambda _: {"phone": "06"}
    ),
)
# Roles that may use an endpoint in principle, but not on this case (it is not theirs).
CASE_ROLES = {
    "/cases/{id}": {"kerkrade", "landgraaf", "partner"},
    "/cases/{id}/history": {"kerkrade", "landgraaf", "auditor"},
    "/cases/{id}/fhir": {"kerkrade", "landgraaf", "partner", "auditor"},
    "/cases/{id}/support-start": {"kerkrade", "landgraaf", "partner"},
    "/cases/{id}/erasure": set(),  # the admin's, for every case; everyone else is refused
    "/cases/{id}/signals/1/retraction": set(),  # the privacy officer's
    "/cases/{id}/personal-correction": set(),
}
UNAUDITED = {"/catalog"}
PRINCIPAL_IDS = {
    "partner": "demo-partner-midwife",
    "kerkrade": "demo-coordinator-kerkrade",
    "landgraaf": "demo-coordinator-landgraaf",
    "auditor": "demo-auditor",
    "admin": "demo-admin",
    "programme_office": "demo-programme-office",
}


def expected_status(endpoint: Endpoint, role: str) -> int:
    if role == "anonymous":
        return 401
    if role in endpoint.allowed:
        return endpoint.ok
    if endpoint.prepare is not None and role in CASE_ROLES.get(
        endpoint.path, {"kerkrade", "landgraaf"}
    ):
        return 404  # a case outside the principal's remit answers as a missing one
    return 403


def _request(api: Api, endpoint: Endpoint, role: str, case_id: UUID | None) -> Any:
    path = endpoint.path.replace("{id}", str(case_id)).replace(
        "{ref}", "0b2d7c50-3d8e-5a6f-9c1d-2e4f6a8b0c1d"
    )
    body = endpoint.body(api) if endpoint.body else None
    if endpoint.path == "/signals":
        body = example_signal(demo_bsn(api.rng), source=MIDWIFE, event_id=str(uuid4()))
    headers = api.auth(role)
    if endpoint.method == "POST" and case_id is not None:
        headers |= api.if_match(case_id)
    return api.client.request(endpoint.method, path, headers=headers, json=body)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
def test_every_role_gets_what_the_rules_allow_and_nothing_else(
    viewed: tuple[Api, SqliteViewDatabase], endpoint: Endpoint
) -> None:
    api, views = viewed
    seen: list[tuple[str, str, int, UUID | None]] = []
    for role in ROLES:
        case_id = None
        if endpoint.prepare is not None:
            case_id = api.signal(KERKRADE)
            if endpoint.prepare == "transfer":
                api.client.post(
                    f"/cases/{case_id}/transfer",
                    json=MOVED,
                    headers=api.auth("kerkrade") | api.if_match(case_id),
                ).raise_for_status()
            elif endpoint.prepare != "signalled":
                api.advance(case_id, endpoint.prepare)
        before = api.engine.referrals.get_case(case_id).version if case_id else None
        project(api, views)
        response = _request(api, endpoint, role, case_id)
        want = expected_status(endpoint, role)
        assert response.status_code == want, (role, response.status_code, response.text)
        assert (
            response.headers["content-type"].startswith(
                "application/json" if want < 300 else "application/problem+json"
            )
            or endpoint.path == "/stats"
            or (endpoint.path.endswith("/fhir") and want == 200)
        )
        if case_id is not None and want >= 300:
            assert api.engine.referrals.get_case(case_id).version == before  # nothing changed
        seen.append((role, response.headers["X-Request-ID"], want, case_id))
    if endpoint.path in UNAUDITED:
        return
    entries = api.client.get("/audit/access?limit=500", headers=api.auth("auditor")).json()
    by_request = {}
    for e in entries["entries"]:
        assert e["request_id"] not in by_request, "one entry per request"
        by_request[e["request_id"]] = e
    for role, request_id, status, case_id in seen:
        entry = by_request[request_id]
        outcome = "allowed" if status < 400 else "denied" if status in (401, 403, 404) else "error"
        assert (entry["status"], entry["outcome"]) == (status, outcome), (role, entry)
        assert entry["principal_id"] == PRINCIPAL_IDS.get(role)
        if case_id is not None and status != 401 and status != 403:
            assert entry["case_id"] == str(case_id)
            assert (
                entry["person_pseudonym"] == api.engine.referrals.get_case(case_id).person_pseudonym
            )
