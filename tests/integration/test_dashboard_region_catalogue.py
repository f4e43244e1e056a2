"""The programme office's regional monitoring and the administrators' "Menukaart beheren" pages,
over HTTP on a real SQLite store (the browser tests drive them in Chromium)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from adapters.persistence.sqlite_views import SqliteViewDatabase
from tests.integration.test_dashboard_pages import csrf_of
from tests.integration.test_http_read_models import project, viewed
from tests.integration.test_http_stack import KERKRADE, LANDGRAAF, Api

__all__ = ["viewed"]
Viewed = tuple[Api, SqliteViewDatabase]


def sign_in(client: TestClient, token: str) -> str:
    """Sign in; returns where the dashboard's start page sends this role."""
    client.cookies.clear()
    form = client.get("/dashboard/inloggen")
    nonce = re.search(r'name="nonce" value="([^"]+)"', form.text)
    assert nonce, form.text
    answer = client.post(
        "/dashboard/inloggen",
        data={"token": token, "nonce": nonce.group(1), "next": "/dashboard/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    start = client.get("/dashboard/", follow_redirects=False)
    return start.headers["location"]


def test_the_programme_office_sees_protected_regional_tables_and_no_case(viewed: Viewed) -> None:
    api, db = viewed
    for _ in range(12):
        api.signal(KERKRADE)
    api.signal(LANDGRAAF)
    project(api, db)
    client = api.client
    assert sign_in(client, api.tokens["demo-programme-office"]) == "/dashboard/regio"
    page = client.get("/dashboard/regio?granularity=year&area=municipality")
    assert page.status_code == 200
    assert "Regionale monitoring: Zuid-Limburg" in page.text
    assert "Gezinnen gesignaleerd, per melder, 2026" in page.text
    assert "afgeschermd" in page.text  # Landgraaf's single family
    assert "ongeveer 5" in page.text  # its total, rounded up
    for case_id in api.bsns:
        assert str(case_id) not in page.text
    csv = client.get("/dashboard/regio.csv?granularity=year")
    assert csv.text.splitlines()[0] == "indicator,period,area,area_name,category,value,status"
    for path in ("/dashboard/werkvoorraad", "/dashboard/monitoring", "/dashboard/audit"):
        assert client.get(path).status_code == 403, path
    assert client.get(f"/dashboard/casus/{next(iter(api.bsns))}").status_code in (403, 404)


def test_an_administrator_maintains_the_menukaart_in_the_dashboard(viewed: Viewed) -> None:
    api, _ = viewed
    client = api.client
    assert sign_in(client, api.tokens["demo-admin"]) == "/dashboard/menukaart"
    overview = client.get("/dashboard/menukaart")
    assert "Menukaart beheren" in overview.text
    assert "VoorZorg wijzigen" in overview.text
    csrf = csrf_of(overview.text)
    added = client.post(
        "/dashboard/menukaart/opslaan",
        data={
            "csrf": csrf,
            "version": "",
            "id": "taalmaatje",
            "name": "Taalmaatje",
            "organization_id": "home-start",
            "phases": ["postnatal"],
            "needs": ["language"],
            "service_area": [KERKRADE, "GM0981"],
        },
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    offer = api.engine.referrals.catalogue.offer("taalmaatje")
    assert offer.service_area == (KERKRADE, "GM0981")
    form = client.get("/dashboard/menukaart/taalmaatje")
    version = re.search(r'name="version" value="(\d+)"', form.text)
    assert version
    fields = {
        "csrf": csrf,
        "id": "taalmaatje",
        "name": "Taalmaatje Parkstad",
        "organization_id": "home-start",
        "phases": ["postnatal"],
        "service_area": [KERKRADE],
    }
    changed = client.post(
        "/dashboard/menukaart/opslaan", data=fields | {"version": version.group(1)}
    )
    assert changed.status_code == 200  # followed to the overview
    assert "Het aanbod is opgeslagen" in changed.text
    stale = client.post("/dashboard/menukaart/opslaan", data=fields | {"version": version.group(1)})
    assert stale.status_code == 412
    assert "iemand anders heeft het intussen gewijzigd" in stale.text
    empty = client.post(
        "/dashboard/menukaart/opslaan",
        data={
            "csrf": csrf,
            "version": "",
            "id": "leeg",
            "name": "",
            "organization_id": "home-start",
        },
    )
    assert empty.status_code == 422
    assert "Naam" in empty.text
    assert "Fasen" in empty.text
    assert client.get("/dashboard/regio").status_code == 403  # administrators keep out of figures
    assert sign_in(client, api.tokens["demo-coordinator-kerkrade"]) == "/dashboard/werkvoorraad"
    assert client.get("/dashboard/menukaart").status_code == 403
