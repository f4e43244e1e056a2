"""People sign in to the dashboard at their organisation's OpenID Connect provider: a real
provider (oidc-provider-mock) on a loopback port, the app on a real SQLite store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from oidc_provider_mock import User, run_server_in_thread

from adapters.http import create_app
from ks_engine.access_log import AccessEntry, AccessLog, AccessQuery
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.identity_map import IdentityMap, IdentityRule
from ks_engine.principals import Role
from ks_engine.settings import Settings
from tests.conftest import FixedClock

GROUP = "kerkrade-coordinatoren"
PEOPLE = [
    User(sub="anna", claims={"groups": [GROUP]}),
    User(sub="bert", claims={"groups": ["iets-anders"]}),
]


@dataclass
class Site:
    engine: Engine
    client: TestClient
    issuer: str
    rule: IdentityRule

    def entries(self) -> list[AccessEntry]:
        log = AccessLog(self.engine.referrals, self.engine.referrals.clock)
        return log.find(AccessQuery(), limit=1000).entries


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    with run_server_in_thread(user_claims=PEOPLE) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def site(tmp_path: Path, clock: FixedClock, issuer: str) -> Iterator[Site]:
    settings = Settings(
        data_dir=tmp_path / "data",
        store="sqlite",
        oidc_issuer=issuer,
        oidc_client_secret="test-client-secret",
        public_url="http://testserver",
        session_idle_minutes=30,
    )
    rule = IdentityMap(settings.identity_map_file).add(
        IdentityRule(
            issuer=issuer,
            group=GROUP,
            role=Role.COORDINATOR,
            organisation="gemeente-kerkrade",
            municipalities=("GM0928",),
        )
    )
    engine = bootstrap(settings, clock=clock, configure_logs=False)
    try:
        with TestClient(create_app(engine), raise_server_exceptions=False) as client:
            yield Site(engine, client, issuer, rule)
    finally:
        engine.close()


def at_provider(site: Site, sub: str) -> tuple[str, dict[str, list[str]]]:
    """Start signing in; the person authenticates at the provider. The return address."""
    start = site.client.get("/dashboard/oidc/inloggen", follow_redirects=False)
    assert start.status_code == 303
    authorize = start.headers["location"]
    asked = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(site.issuer)
    answer = httpx.post(authorize, data={"sub": sub}, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    back = answer.headers["location"]
    assert back.startswith("http://testserver/dashboard/oidc/terug?")
    return back.removeprefix("http://testserver"), asked


def sign_in(site: Site, sub: str) -> httpx.Response:
    back, _ = at_provider(site, sub)
    return site.client.get(back)


def test_the_authorization_request_uses_pkce_state_and_nonce(site: Site) -> None:
    _, asked = at_provider(site, "anna")
    assert asked["response_type"] == ["code"]
    assert asked["code_challenge_method"] == ["S256"]
    assert len(asked["code_challenge"][0]) >= 43
    assert asked["state"][0]
    assert asked["nonce"][0]
    assert asked["redirect_uri"] == ["http://testserver/dashboard/oidc/terug"]


def test_a_mapped_person_signs_in_and_the_access_log_names_issuer_and_subject(
    site: Site,
) -> None:
    answer = sign_in(site, "anna")
    assert answer.status_code == 200, answer.text
    assert "U bent ingelogd via uw organisatie" in answer.text
    start = site.client.get("/dashboard/", follow_redirects=False)
    assert start.status_code == 303
    assert start.headers["location"].endswith("/dashboard/werkvoorraad")
    mine = [e for e in site.entries() if e.person == f"{site.issuer}#anna"]
    assert {e.object for e in mine} >= {"GET /dashboard/oidc/terug", "GET /dashboard/"}
    assert {(e.role, e.outcome.value) for e in mine} == {("coordinator", "allowed")}
    assert all(e.principal_id and e.principal_id.startswith("oidc-") for e in mine)


def test_a_person_the_map_does_not_name_is_refused_and_logged_as_denied(site: Site) -> None:
    answer = sign_in(site, "bert")
    assert answer.status_code == 403
    assert "geen toegang tot het dashboard" in answer.text
    assert site.client.get("/dashboard/", follow_redirects=False).status_code == 401
    refused = [e for e in site.entries() if e.person == f"{site.issuer}#bert"]
    assert [(e.object, e.outcome.value, e.status) for e in refused] == [
        ("GET /dashboard/oidc/terug", "denied", 403)
    ]


def test_a_session_ends_after_its_idle_time(site: Site, clock: FixedClock) -> None:
    assert sign_in(site, "anna").status_code == 200
    clock.advance(minutes=29)
    assert site.client.get("/dashboard/", follow_redirects=False).status_code == 303
    clock.advance(minutes=31)
    answer = site.client.get("/dashboard/", follow_redirects=False)
    assert answer.status_code == 401
    assert "log opnieuw in via uw organisatie" in answer.text


def test_removing_the_mapping_ends_the_persons_session_at_once(site: Site) -> None:
    assert sign_in(site, "anna").status_code == 200
    IdentityMap(site.engine.settings.identity_map_file).remove(site.rule.key)
    assert site.client.get("/dashboard/", follow_redirects=False).status_code == 401
    assert sign_in(site, "anna").status_code == 403  # and cannot sign in again


def test_signing_out_ends_the_session_here_and_at_the_provider(site: Site) -> None:
    page = sign_in(site, "anna")
    cookie = site.client.cookies.get("ks_dashboard")
    assert cookie
    assert cookie.startswith("kss_")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    out = site.client.post(
        "/dashboard/uitloggen", data={"csrf": csrf.group(1)}, follow_redirects=False
    )
    assert out.status_code == 303
    target = out.headers["location"]
    assert target.startswith(f"{site.issuer}/oauth2/end_session?")
    query = parse_qs(urlsplit(target).query)
    assert query["id_token_hint"][0].count(".") == 2
    assert query["post_logout_redirect_uri"] == ["http://testserver/dashboard/inloggen?uitgelogd=1"]
    # The old session cookie, presented again, opens nothing.
    site.client.cookies.set("ks_dashboard", cookie, path="/dashboard")
    assert site.client.get("/dashboard/", follow_redirects=False).status_code == 401


def test_a_return_without_this_browsers_state_is_refused(site: Site, issuer: str) -> None:
    back, _ = at_provider(site, "anna")
    other = TestClient(site.client.app, raise_server_exceptions=False)
    answer = other.get(back)
    assert answer.status_code == 403
    assert "verlopen" in answer.text
    assert "ks_dashboard" not in other.cookies
    # The state works once: the right browser can still finish, a replay cannot.
    assert site.client.get(back).status_code == 200
    assert site.client.get(back).status_code == 403


def test_without_a_provider_the_dashboard_offers_token_sign_in_only(
    tmp_path: Path, clock: FixedClock
) -> None:
    engine = bootstrap(Settings(data_dir=tmp_path / "d"), clock=clock, configure_logs=False)
    try:
        with TestClient(create_app(engine), raise_server_exceptions=False) as client:
            form = client.get("/dashboard/inloggen")
            assert "Inloggen via uw organisatie" not in form.text
            assert 'name="token"' in form.text
            assert client.get("/dashboard/oidc/inloggen").status_code == 404
    finally:
        engine.close()
