"""The dashboard's pages over HTTP on a real SQLite store and real read models (no browser).

Signing in, CSRF, the access rules and the access log, forms that become commands, refusals
in Dutch. The browser tests (tests/e2e/test_dashboard_browser.py) drive the same pages in
Chromium against a running `ks run`.
"""

from __future__ import annotations

import re
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from adapters.persistence.sqlite_views import SqliteViewDatabase
from ks_engine.access_log import AccessLog, AccessQuery
from tests.conftest import FixedClock
from tests.integration.test_http_read_models import project, viewed  # noqa: F401
from tests.integration.test_http_stack import KERKRADE, LANDGRAAF, Api

Viewed = tuple[Api, SqliteViewDatabase]
NAMES = {
    "kerkrade": "demo-coordinator-kerkrade",
    "landgraaf": "demo-coordinator-landgraaf",
    "auditor": "demo-auditor",
    "partner": "demo-partner-midwife",
}


def sign_in(client: TestClient, token: str) -> str:
    """Sign in through the form; returns the CSRF token of the pages' forms."""
    client.cookies.clear()
    form = client.get("/dashboard/inloggen")
    nonce = re.search(r'name="nonce" value="([^"]+)"', form.text)
    assert nonce, form.text
    answer = client.post(
        "/dashboard/inloggen",
        data={"token": token, "nonce": nonce.group(1), "next": "/dashboard/werkvoorraad"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/dashboard/monitoring").text)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def entries(api: Api, case_id: UUID | None = None) -> list[tuple[str, str, str | None, int]]:
    """The access log's entries (of one case) as (object, outcome, principal, status)."""
    log: AccessLog = api.client.app.state.services.access_log  # type: ignore[attr-defined]
    page = log.find(AccessQuery(case_id=case_id), limit=500)
    return [(e.object, e.outcome.value, e.principal_id, e.status) for e in page.entries]


@pytest.fixture
def web(viewed: Viewed) -> Viewed:  # noqa: F811
    return viewed


def test_signing_in_sets_a_strict_http_only_cookie_and_a_bad_token_is_refused(web: Viewed) -> None:
    api, _ = web
    client = api.client
    form = client.get("/dashboard/inloggen")
    nonce = re.search(r'name="nonce" value="([^"]+)"', form.text)
    assert nonce
    refused = client.post(
        "/dashboard/inloggen", data={"token": "ks_not-a-token", "nonce": nonce.group(1)}
    )
    assert refused.status_code == 401
    assert "Deze toegangscode is niet geldig" in refused.text
    again = re.search(r'name="nonce" value="([^"]+)"', refused.text)  # a fresh form
    assert again
    answer = client.post(
        "/dashboard/inloggen",
        data={"token": api.tokens[NAMES["kerkrade"]], "nonce": again.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"].lower()
    assert "ks_dashboard=" in cookie
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/dashboard" in cookie
    log = entries(api)
    assert ("POST /dashboard/inloggen", "denied", None, 401) in log
    assert ("POST /dashboard/inloggen", "allowed", NAMES["kerkrade"], 303) in log


def test_sign_in_without_the_forms_nonce_is_refused(web: Viewed) -> None:
    api, _ = web
    answer = api.client.post(
        "/dashboard/inloggen", data={"token": api.tokens[NAMES["kerkrade"]], "nonce": "x"}
    )
    assert answer.status_code == 403
    assert "ks_dashboard=" not in answer.headers.get("set-cookie", "").replace(
        "ks_dashboard_signin", ""
    )


def test_a_partner_token_does_not_open_the_dashboard(web: Viewed) -> None:
    api, _ = web
    form = api.client.get("/dashboard/inloggen")
    nonce = re.search(r'name="nonce" value="([^"]+)"', form.text)
    assert nonce
    answer = api.client.post(
        "/dashboard/inloggen", data={"token": api.tokens[NAMES["partner"]], "nonce": nonce.group(1)}
    )
    assert answer.status_code == 403
    assert (
        "voor coördinatoren, auditors, functionarissen gegevensbescherming, beheerders en het "
        "programmabureau" in answer.text
    )


def test_a_page_without_sign_in_answers_the_sign_in_form_and_is_logged_as_denied(
    web: Viewed,
) -> None:
    api, _ = web
    answer = api.client.get("/dashboard/werkvoorraad")
    assert answer.status_code == 401
    assert 'name="token"' in answer.text
    assert 'name="next" value="/dashboard/werkvoorraad"' in answer.text
    assert ("GET /dashboard/werkvoorraad", "denied", None, 401) in entries(api)


def test_pages_carry_a_content_security_policy_and_are_not_cached(web: Viewed) -> None:
    api, _ = web
    sign_in(api.client, api.tokens[NAMES["kerkrade"]])
    answer = api.client.get("/dashboard/werkvoorraad")
    assert answer.status_code == 200
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["cache-control"] == "no-store"


def test_the_work_queue_lists_only_the_coordinators_municipalities(web: Viewed) -> None:
    api, db = web
    own = api.signal(KERKRADE)
    other = api.signal(LANDGRAAF)
    api.advance(own, "consent_requested")
    project(api, db)
    sign_in(api.client, api.tokens[NAMES["kerkrade"]])
    page = api.client.get("/dashboard/werkvoorraad").text
    assert f'data-case="{own}"' in page
    assert f'data-case="{other}"' not in page
    assert "Toestemming gevraagd" in page
    assert "Schulden en financiële problemen" in page
    rows = api.client.get("/dashboard/werkvoorraad/rijen?state=signalled").text
    assert f'data-case="{own}"' not in rows
    refused = api.client.get(f"/dashboard/werkvoorraad?municipality={LANDGRAAF}")
    assert refused.status_code == 403


def test_a_case_of_another_municipality_answers_like_a_missing_one(web: Viewed) -> None:
    api, db = web
    other = api.signal(LANDGRAAF)
    project(api, db)
    sign_in(api.client, api.tokens[NAMES["kerkrade"]])
    hidden = api.client.get(f"/dashboard/casus/{other}")
    missing = api.client.get(f"/dashboard/casus/{UUID(int=5)}")
    assert hidden.status_code == missing.status_code == 404
    heading = re.compile(r"<main.*</main>", re.S)
    hidden_main, missing_main = heading.search(hidden.text), heading.search(missing.text)
    assert hidden_main
    assert missing_main
    assert hidden_main.group(0) == missing_main.group(0)
    assert ("GET /dashboard/casus/{case_id}", "denied", NAMES["kerkrade"], 404) in entries(
        api, other
    )


def test_a_form_without_its_csrf_token_changes_nothing(web: Viewed) -> None:
    api, db = web
    case_id = api.signal(KERKRADE)
    project(api, db)
    sign_in(api.client, api.tokens[NAMES["kerkrade"]])
    answer = api.client.post(
        f"/dashboard/casus/{case_id}/consent-request", data={"csrf": "0" * 64, "version": "1"}
    )
    assert answer.status_code == 403
    assert "Het formulier is verlopen" in answer.text
    assert api.engine.referrals.get_case(case_id).version == 1


def test_a_form_from_another_site_is_refused_even_with_the_cookie(web: Viewed) -> None:
    api, db = web
    case_id = api.signal(KERKRADE)
    project(api, db)
    csrf = sign_in(api.client, api.tokens[NAMES["kerkrade"]])
    answer = api.client.post(
        f"/dashboard/casus/{case_id}/consent-request",
        data={"csrf": csrf, "version": "1"},
        headers={"Origin": "https://elders.example"},
    )
    assert answer.status_code == 403
    assert api.engine.referrals.get_case(case_id).version == 1


def test_forms_run_the_commands_and_refusals_are_explained_in_dutch(web: Viewed) -> None:
    api, db = web
    case_id = api.signal(KERKRADE)
    project(api, db)
    csrf = sign_in(api.client, api.tokens[NAMES["kerkrade"]])
    url = f"/dashboard/casus/{case_id}"
    # A discussion before consent is refused, in words a coordinator understands
    scores = {f"score_{d}": "5" for d in ("bodily_functions", "mental_wellbeing")}
    refused = api.client.post(
        f"{url}/discussion",
        data={"csrf": csrf, "version": "1", "on": "2026-11-02", "participants": "GGD"}
        | scores
        | {f"score_{d}": "5" for d in ("meaningfulness", "quality_of_life", "participation")}
        | {"score_daily_functioning": "5"},
    )
    assert refused.status_code == 409
    assert "Dit kan niet zonder toestemming" in refused.text
    assert "Gesignaleerd" in refused.text
    # The consent request is recorded and the page is asked to wait for it
    done = api.client.post(
        f"{url}/consent-request", data={"csrf": csrf, "version": "1"}, follow_redirects=False
    )
    assert done.status_code == 303
    assert done.headers["location"].startswith(f"{url}?na=")
    assert api.engine.referrals.get_case(case_id).state.value == "consent_requested"
    # A stale version is refused with the news that someone else changed the case
    stale = api.client.post(f"{url}/consent-request", data={"csrf": csrf, "version": "1"})
    assert stale.status_code == 409
    assert "intussen gewijzigd" in stale.text
    # Invalid fields are named in Dutch, without repeating what was typed
    given = api.client.post(
        f"{url}/consent", data={"csrf": csrf, "version": "2", "decision": "given"}
    )
    assert given.status_code == 422
    assert "kies ten minste één organisatie" in given.text
    log = entries(api, case_id)
    step = "POST /dashboard/casus/{case_id}/consent-request"  # the step, for the Dutch name
    assert (step, "allowed", NAMES["kerkrade"], 303) in log


def test_a_score_out_of_range_names_the_dimension(web: Viewed) -> None:
    api, db = web
    case_id = api.signal(KERKRADE)
    api.advance(case_id, "consented")
    project(api, db)
    csrf = sign_in(api.client, api.tokens[NAMES["kerkrade"]])
    form = {f"score_{d}": "5" for d in ("mental_wellbeing", "meaningfulness", "quality_of_life")}
    form |= {"score_participation": "5", "score_daily_functioning": "5"}
    answer = api.client.post(
        f"/dashboard/casus/{case_id}/discussion",
        data=form
        | {
            "csrf": csrf,
            "version": "3",
            "on": "2026-11-02",
            "participants": "GGD",
            "score_bodily_functions": "11",
        },
    )
    assert answer.status_code == 422
    assert "Lichaamsfuncties is te hoog" in answer.text
    assert api.engine.referrals.get_case(case_id).version == 3


def test_the_monitoring_csv_holds_only_the_coordinators_municipalities(web: Viewed) -> None:
    api, db = web
    api.signal(KERKRADE)
    api.signal(LANDGRAAF)
    project(api, db)
    sign_in(api.client, api.tokens[NAMES["kerkrade"]])
    page = api.client.get("/dashboard/monitoring")
    assert page.status_code == 200
    assert "Signalen per melder" in page.text
    csv = api.client.get("/dashboard/monitoring.csv")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0].startswith("municipality,month,measure,category,value")
    assert all(line.startswith(KERKRADE) for line in lines[1:])
    assert any(",signals_by_role,midwife,1" in line for line in lines[1:])


def test_the_auditor_reads_history_and_access_log_and_coordinators_do_not(
    web: Viewed,
) -> None:
    api, db = web
    case_id = api.signal(KERKRADE)
    api.signal(LANDGRAAF)
    api.advance(case_id, "consent_requested")
    project(api, db)
    sign_in(api.client, api.tokens[NAMES["kerkrade"]])
    assert api.client.get(f"/dashboard/casus/{case_id}").status_code == 200
    assert f"{LANDGRAAF}, " not in api.client.get("/dashboard/monitoring").text
    assert api.client.get("/dashboard/audit").status_code == 403
    sign_in(api.client, api.tokens[NAMES["auditor"]])
    history = api.client.get(f"/dashboard/audit/casus/{case_id}")
    assert history.status_code == 200
    assert "Signaal ontvangen" in history.text
    assert "Toestemming gevraagd" in history.text
    assert '<form method="post" action="/dashboard/casus' not in history.text
    log = api.client.get(f"/dashboard/audit?casus={case_id}")
    assert log.status_code == 200
    assert "demo-coordinator-kerkrade" in log.text
    assert "Casus bekeken" in log.text  # the step in Dutch, not the request
    assert "GET /dashboard/casus/{case_id}" not in log.text
    assert api.client.get("/dashboard/werkvoorraad").status_code == 403
    figures = api.client.get("/dashboard/monitoring")  # auditors see every municipality
    assert figures.status_code == 200
    assert f"{KERKRADE}, " in figures.text
    assert f"{LANDGRAAF}, " in figures.text


def test_no_page_shows_the_persons_bsn_or_name(web: Viewed) -> None:
    api, db = web
    case_id = api.signal(KERKRADE)
    project(api, db)
    sign_in(api.client, api.tokens[NAMES["kerkrade"]])
    pages = [
        api.client.get(p).text for p in ("/dashboard/werkvoorraad", f"/dashboard/casus/{case_id}")
    ]
    sign_in(api.client, api.tokens[NAMES["auditor"]])
    pages.append(api.client.get(f"/dashboard/audit/casus/{case_id}").text)
    for text in pages:
        assert api.bsns[case_id] not in text
        assert "Anna Testouder" not in text
        assert "zorgen thuis" not in text


def test_signing_out_ends_the_session(web: Viewed) -> None:
    api, _ = web
    csrf = sign_in(api.client, api.tokens[NAMES["kerkrade"]])
    out = api.client.post("/dashboard/uitloggen", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert (
        'ks_dashboard=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
    )
    assert api.client.get("/dashboard/werkvoorraad").status_code == 401


def test_a_case_past_its_deadline_carries_the_overdue_badge(web: Viewed, clock: FixedClock) -> None:
    api, db = web
    case_id = api.signal(KERKRADE)
    project(api, db)
    sign_in(api.client, api.tokens[NAMES["kerkrade"]])
    on_time = api.client.get("/dashboard/werkvoorraad").text
    assert "Te laat" not in on_time.split('id="queue-rows"')[1]
    clock.advance(days=10)  # the consent request was due after 5 working days
    rows = api.client.get("/dashboard/werkvoorraad/rijen?overdue=ja").text
    assert f'data-case="{case_id}"' in rows
    assert "Te laat" in rows
    assert "Toestemming vragen: 09-11-2026" in rows
    on_time_rows = api.client.get("/dashboard/werkvoorraad/rijen?overdue=nee").text
    assert f'data-case="{case_id}"' not in on_time_rows


def test_an_escalation_needs_its_justification_and_closing_ends_the_actions(web: Viewed) -> None:
    api, db = web
    case_id = api.signal(KERKRADE)
    project(api, db)
    csrf = sign_in(api.client, api.tokens[NAMES["kerkrade"]])
    url = f"/dashboard/casus/{case_id}"
    form = {
        "csrf": csrf,
        "version": "1",
        "meldcode_step": "consult",
        "legal_basis": "Wmo 2015",
        "organisations": "veilig-thuis-zuid-limburg",
        "purpose": "discussion",
    }
    short = api.client.post(f"{url}/escalation", data=form | {"justification": "kort"})
    assert short.status_code == 422
    assert "Onderbouwing is te kort" in short.text
    assert "kort<" not in short.text  # what was typed is not shown back
    justification = "Acute zorgen over de veiligheid van het ongeboren kind."
    done = api.client.post(
        f"{url}/escalation", data=form | {"justification": justification}, follow_redirects=False
    )
    assert done.status_code == 303
    case = api.engine.referrals.get_case(case_id)
    assert case.state.value == "escalated"
    closing = {"csrf": csrf, "version": "2", "outcome": "referred_elsewhere", "reason": "VT"}
    unconfirmed = api.client.post(f"{url}/closure", data=closing | {"reason": "naar Veilig Thuis"})
    assert unconfirmed.status_code == 422
    assert "Bevestiging is verplicht" in unconfirmed.text
    no_result = api.client.post(
        f"{url}/closure", data=closing | {"outcome": "", "reason": "naar VT", "confirm": "ja"}
    )
    assert no_result.status_code == 422
    assert "Resultaat is geen keuze uit de lijst" in no_result.text
    closed = api.client.post(
        f"{url}/closure",
        data=closing | {"reason": "naar Veilig Thuis", "confirm": "ja"},
        follow_redirects=False,
    )
    assert closed.status_code == 303
    project(api, db)
    page = api.client.get(f"{url}?gedaan=closure").text
    assert "Vastgelegd: de casus is afgesloten." in page
    assert "Elders naartoe verwezen" in page
    assert "Stap 2: collegiale consultatie en Veilig Thuis" in page
    assert justification not in page
    # A closed case offers only its reopening as a follow-up case.
    assert page.count('method="post" action="/dashboard/casus') == 1
    assert f'action="{url}/reopening"' in page


def test_a_case_holding_consent_offers_to_ask_the_family_again(web: Viewed) -> None:
    api, db = web
    case_id = api.signal(KERKRADE)
    project(api, db)
    csrf = sign_in(api.client, api.tokens[NAMES["kerkrade"]])
    url = f"/dashboard/casus/{case_id}"
    assert "Toestemming opnieuw vragen" not in api.client.get(url).text
    api.client.post(f"{url}/consent-request", data={"csrf": csrf, "version": "1"})
    given = api.client.post(
        f"{url}/consent",
        data={"csrf": csrf, "version": "2", "decision": "given", "scope": "GGD"},
        follow_redirects=False,
    )
    assert given.status_code == 303, given.text
    project(api, db)
    page = api.client.get(url).text
    # Consent held: it can be asked again (expired, or another partner must join)
    assert "Toestemming opnieuw vragen" in page
    again = api.client.post(
        f"{url}/consent-request", data={"csrf": csrf, "version": "3"}, follow_redirects=False
    )
    assert again.status_code == 303
    assert api.engine.referrals.get_case(case_id).state.value == "consent_requested"


def test_the_servers_address_sends_a_browser_to_the_dashboard(web: Viewed) -> None:
    api, _ = web
    answer = api.client.get("/", follow_redirects=False)
    assert answer.status_code == 307
    assert answer.headers["location"] == "/dashboard/"
