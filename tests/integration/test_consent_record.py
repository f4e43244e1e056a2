"""The full consent record over HTTP and on the dashboard (real SQLite store and read models):
who gave consent, how, when, for which purpose, for which organisations and until when."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from adapters.persistence.sqlite_views import SqliteViewDatabase
from tests.integration.test_dashboard_pages import csrf_of, sign_in
from tests.integration.test_http_read_models import project, viewed
from tests.integration.test_http_stack import MIDWIFE, Api

__all__ = ["viewed"]  # the fixture

Viewed = tuple[Api, SqliteViewDatabase]


def _consent(api: Api, case_id: Any, **body: Any) -> Any:
    api.client.post(
        f"/cases/{case_id}/consent-request", headers=api.auth("kerkrade") | api.if_match(case_id)
    )
    return api.client.post(
        f"/cases/{case_id}/consent",
        json={"decision": "given", "scope": [MIDWIFE], **body},
        headers=api.auth("kerkrade") | api.if_match(case_id),
    )


def test_consent_records_who_how_when_purpose_organisations_and_until(viewed: Viewed) -> None:
    api, db = viewed
    case_id = api.signal()
    today = api.engine.referrals.clock().date()
    until = (today + timedelta(days=180)).isoformat()
    given = _consent(
        api,
        case_id,
        given_by="both",
        method="written",
        given_on=(today - timedelta(days=1)).isoformat(),
        purpose="support",
        expires_on=until,
    )
    assert given.status_code == 200, given.text
    project(api, db)
    view = api.client.get(f"/cases/{case_id}", headers=api.auth("kerkrade")).json()
    assert view["consent"]["scope"] == [MIDWIFE]
    assert view["consent"]["expires_on"] == until
    assert view["consent"]["record"] == {
        "given_by": "both",
        "method": "written",
        "given_on": (today - timedelta(days=1)).isoformat(),
        "purpose": "support",
    }
    history = api.client.get(f"/cases/{case_id}/history", headers=api.auth("kerkrade")).json()
    (event,) = [e for e in history["events"] if e["event"] == "ConsentGiven"]
    assert event["details"]["record"]["given_by"] == "both"
    # On the case page, in words
    sign_in(api.client, api.tokens["demo-coordinator-kerkrade"])
    page = api.client.get(f"/dashboard/casus/{case_id}").text
    assert "gegeven door beide ouders, schriftelijk" in page
    assert "bespreking en toeleiding naar ondersteuning" in page


def test_a_consent_dated_in_the_future_or_half_recorded_is_refused(viewed: Viewed) -> None:
    api, _ = viewed
    case_id = api.signal()
    tomorrow = (api.engine.referrals.clock().date() + timedelta(days=1)).isoformat()
    future = _consent(api, case_id, given_by="parent", method="spoken", given_on=tomorrow)
    assert future.status_code == 422
    assert "future" in future.json()["detail"]
    half = _consent(api, api.signal(), given_by="parent")
    assert half.status_code == 422


def test_the_dashboard_form_records_who_and_how(viewed: Viewed) -> None:
    api, db = viewed
    case_id = api.signal()
    api.client.post(
        f"/cases/{case_id}/consent-request", headers=api.auth("kerkrade") | api.if_match(case_id)
    )
    project(api, db)
    sign_in(api.client, api.tokens["demo-coordinator-kerkrade"])
    page = api.client.get(f"/dashboard/casus/{case_id}").text
    answer = api.client.post(
        f"/dashboard/casus/{case_id}/consent",
        data={
            "csrf": csrf_of(page),
            "version": str(api.engine.referrals.get_case(case_id).version),
            "decision": "given",
            "scope": MIDWIFE,
            "given_by": "co_parent",
            "method": "digital",
            "purpose": "discussion",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    case = api.engine.referrals.get_case(case_id)
    assert case.consent is not None
    assert case.consent["record"]["given_by"] == "co_parent"
    assert case.consent["record"]["method"] == "digital"
