"""The household on the dashboard (real SQLite store and read models): the case page shows the
members and the lawful basis, never a name; 'Toon persoonsgegevens' opens the details for a
purpose, access-logged; the work queue's search finds a case by BSN, number and name."""

from __future__ import annotations

from tests.integration.test_dashboard_pages import Viewed, csrf_of, entries, sign_in, web
from tests.integration.test_http_read_models import project, viewed

__all__ = ["viewed", "web"]  # the fixtures


def test_the_case_page_shows_the_household_and_the_details_only_on_request(web: Viewed) -> None:
    api, views = web
    case_id = api.signal()
    project(api, views)
    sign_in(api.client, api.tokens["demo-coordinator-kerkrade"])

    case_page = api.client.get(f"/dashboard/casus/{case_id}").text
    assert "Ongeboren kind" in case_page
    assert "Signaal zonder toestemming van het gezin (Meldcode)" in case_page
    assert "Toon persoonsgegevens" in case_page
    assert "Testouder" not in case_page

    shown = api.client.get(f"/dashboard/casus/{case_id}/persoonsgegevens?doel=family_contact")
    assert shown.status_code == 200
    assert "Anna Testouder" in shown.text
    assert "Contact opnemen met het gezin" in shown.text
    logged = [e for e in entries(api, case_id) if "persoonsgegevens" in e[0]]
    assert logged == [
        (
            "GET /dashboard/casus/{case_id}/persoonsgegevens?doel=family_contact",
            "allowed",
            "demo-coordinator-kerkrade",
            200,
        )
    ]
    no_purpose = api.client.get(f"/dashboard/casus/{case_id}/persoonsgegevens")
    assert no_purpose.status_code == 422
    assert "Testouder" not in no_purpose.text


def test_the_work_queue_search_finds_a_case_by_bsn_number_and_name(web: Viewed) -> None:
    api, views = web
    case_id = api.signal()
    project(api, views)
    csrf = sign_in(api.client, api.tokens["demo-coordinator-kerkrade"])
    queue = api.client.get("/dashboard/werkvoorraad").text
    assert 'action="/dashboard/zoeken"' in queue
    csrf = csrf_of(queue)

    for term, born in (
        (api.bsns[case_id], ""),
        (str(case_id)[:8], ""),
        ("Testouder", "1999-05-17"),
    ):
        found = api.client.post(
            "/dashboard/zoeken", data={"csrf": csrf, "zoekterm": term, "geboortedatum": born}
        )
        assert found.status_code == 200
        assert f"/dashboard/casus/{case_id}" in found.text
        if born or term == api.bsns[case_id]:  # a BSN or name searched is not shown back
            assert term not in found.text

    none = api.client.post(
        "/dashboard/zoeken",
        data={"csrf": csrf, "zoekterm": "Testouder", "geboortedatum": "2000-01-01"},
    )
    assert "Geen casus gevonden" in none.text
    sign_in(api.client, api.tokens["demo-coordinator-landgraaf"])
    csrf = csrf_of(api.client.get("/dashboard/werkvoorraad").text)
    elsewhere = api.client.post(
        "/dashboard/zoeken", data={"csrf": csrf, "zoekterm": api.bsns[case_id]}
    )
    assert "Geen casus gevonden" in elsewhere.text
    searches = [e for e in entries(api) if e[0].startswith("POST /dashboard/zoeken")]
    assert len(searches) == 5
    assert all(api.bsns[case_id] not in e[0] for e in searches)
