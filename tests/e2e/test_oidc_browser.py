"""A coordinator signs in to the dashboard at their organisation's identity provider and signs
out again, in a real Chromium, against the HTTP app on a real uvicorn server and SQLite files,
and a real OpenID Connect provider (oidc-provider-mock) on another loopback host name."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from oidc_provider_mock import User, run_server_in_thread
from playwright.sync_api import Browser, expect, sync_playwright

from adapters.http import create_app
from adapters.nats.embedded import free_port
from adapters.persistence.sqlite_views import SqliteViewDatabase
from ks_engine.bootstrap import bootstrap
from ks_engine.identity_map import IdentityMap, IdentityRule
from ks_engine.principals import Role
from ks_engine.settings import Settings
from projections.read_models import ReadModels
from tests.e2e.browser import check_page, require_chromium

WAIT_MS = 30_000


@dataclass(frozen=True)
class Site:
    base: str
    issuer: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("oidc")
    people = [User(sub="anna.jansen", claims={"groups": ["knooppunt-kerkrade"]})]
    with run_server_in_thread(user_claims=people) as provider:
        issuer = f"http://localhost:{provider.server_port}"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        settings = Settings(
            data_dir=root / "data",
            store="sqlite",
            oidc_issuer=issuer,
            oidc_client_secret="browser-test-secret",
            public_url=base,
        )
        IdentityMap(settings.identity_map_file).add(
            IdentityRule(
                issuer=issuer,
                group="knooppunt-kerkrade",
                role=Role.COORDINATOR,
                organisation="gemeente-kerkrade",
                municipalities=("GM0928",),
            )
        )
        engine = bootstrap(settings, configure_logs=False)
        views = ReadModels(
            SqliteViewDatabase(root / "views.sqlite"), levels=settings.service_levels
        )
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(engine, read_models=views), host="127.0.0.1", port=port, log_config=None
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert httpx.get(f"{base}/health").status_code == 200
        try:
            yield Site(base, issuer)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            engine.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = require_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


def test_a_coordinator_signs_in_at_her_organisation_and_out_again(
    site: Site, browser: Browser
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto(site.base + "/dashboard/werkvoorraad")
    expect(page.get_by_role("heading", name="Inloggen")).to_be_visible()
    check_page(page, "oidc-01-inloggen")
    page.get_by_role("link", name="Inloggen via uw organisatie").click()
    # At the identity provider (its own page, its own host name)
    page.wait_for_url(f"{site.issuer}/oauth2/authorize*")
    page.locator('input[name="sub"]').fill("anna.jansen")
    page.get_by_role("button", name="Authorize").click()
    # Back at the dashboard, signed in, on the page she asked for first
    expect(page.get_by_role("heading", name="Werkvoorraad")).to_be_visible()
    assert page.url.startswith(site.base + "/dashboard/werkvoorraad")
    expect(page.locator(".who")).to_contain_text("gemeente-kerkrade")
    check_page(page, "oidc-02-werkvoorraad")
    # Signing out ends the session here and at the provider
    page.get_by_role("button", name="Uitloggen").click()
    page.wait_for_url(f"{site.issuer}/oauth2/end_session*")
    page.get_by_role("button", name="End session").click()
    expect(page.get_by_text("U bent uitgelogd.")).to_be_visible()
    page.goto(site.base + "/dashboard/werkvoorraad")
    expect(page.get_by_role("heading", name="Inloggen")).to_be_visible()
    context.close()
