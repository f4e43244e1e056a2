"""Expiring tokens at the API and the dashboard, on a real uvicorn server and SQLite store.

The server's clock is the test's: moving it past a token's expiry is all it takes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ks_engine.access_log import AccessLog, AccessQuery
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.principals import PrincipalRegistry, Role, registry_for
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.http_server import served


@dataclass
class Served:
    base: str
    engine: Engine
    registry: PrincipalRegistry
    clock: FixedClock

    def denied(self, request_id: str) -> tuple[str | None, str, int]:
        """Principal, outcome and status of one request's access-log entry."""
        log = AccessLog(self.engine.referrals, self.clock)
        [entry] = [
            e for e in log.find(AccessQuery(), limit=500).entries if e.request_id == request_id
        ]
        return entry.principal_id, entry.outcome.value, entry.status


@pytest.fixture
def server(tmp_path: Path, clock: FixedClock) -> Iterator[Served]:
    config = Settings(data_dir=tmp_path / "data", store="sqlite", token_days=90, token_grace_days=7)
    engine = bootstrap(config, clock=clock, configure_logs=False)
    try:
        with served(engine) as base:
            yield Served(base, engine, registry_for(config, clock), clock)
    finally:
        engine.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_expired_token_answers_401_saying_it_expired_and_what_to_do(server: Served) -> None:
    issued = server.registry.add(
        role=Role.COORDINATOR,
        organisation="gemeente-kerkrade",
        municipalities=["GM0928"],
        principal_id="coord-1",
    )
    assert httpx.get(f"{server.base}/catalog", headers=bearer(issued.token)).status_code == 200
    server.clock.advance(days=90)
    answer = httpx.get(f"{server.base}/cases", headers=bearer(issued.token))
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    body = answer.json()
    assert body["type"] == "urn:ks-engine:problem:token-expired"
    assert body["code"] == "token_expired"
    assert "expired at 2027-01-31T09:30" in body["detail"]
    assert "ks principals rotate coord-1" in body["detail"]
    # The auditors see who tried with an expired token
    assert server.denied(answer.headers["X-Request-ID"]) == ("coord-1", "denied", 401)


def test_an_expired_token_is_refused_before_its_body_is_read(server: Served) -> None:
    issued = server.registry.add(role=Role.PARTNER, organisation="https://verloskunde-parkstad.nl")
    server.clock.advance(days=91)
    answer = httpx.post(
        f"{server.base}/signals",
        content=b"{broken",
        headers=bearer(issued.token) | {"Content-Type": "application/json"},
    )
    assert answer.status_code == 401
    assert answer.json()["code"] == "token_expired"


def test_a_rotated_token_works_through_the_grace_period_and_then_stops(server: Served) -> None:
    old = server.registry.add(role=Role.AUDITOR, organisation="audit", principal_id="auditor-1")
    server.clock.advance(days=10)
    new = server.registry.rotate("auditor-1")
    for token in (old.token, new.token):
        assert httpx.get(f"{server.base}/audit/access", headers=bearer(token)).status_code == 200
    server.clock.advance(days=7)
    refused = httpx.get(f"{server.base}/audit/access", headers=bearer(old.token))
    assert refused.status_code == 401
    assert refused.json()["code"] == "token_expired"
    assert httpx.get(f"{server.base}/audit/access", headers=bearer(new.token)).status_code == 200


def _sign_in(client: httpx.Client, token: str) -> httpx.Response:
    form = client.get("/dashboard/inloggen")
    nonce = re.search(r'name="nonce" value="([^"]+)"', form.text)
    assert nonce, form.text
    return client.post(
        "/dashboard/inloggen",
        data={"token": token, "nonce": nonce.group(1), "next": "/dashboard/werkvoorraad"},
        follow_redirects=False,
    )


def _message(page: httpx.Response) -> str:
    return html.unescape(re.sub(r"\s+", " ", page.text))


def test_the_dashboard_says_in_dutch_that_a_token_expired(server: Served) -> None:
    issued = server.registry.add(
        role=Role.COORDINATOR, organisation="gemeente-kerkrade", municipalities=["GM0928"]
    )
    with httpx.Client(base_url=server.base) as client:
        assert _sign_in(client, issued.token).status_code == 303
        server.clock.advance(days=90, minutes=1)
        # A session whose token expired meanwhile: the sign-in form, saying why
        page = client.get("/dashboard/werkvoorraad")
        assert page.status_code == 401
        assert "Deze toegangscode is verlopen op 31-01-2027 09:30" in _message(page)
        assert "Vraag de beheerder om een nieuwe toegangscode" in _message(page)
        # Signing in again with the same token says the same
        again = _sign_in(client, issued.token)
        assert again.status_code == 401
        assert "verlopen op 31-01-2027 09:30" in _message(again)
