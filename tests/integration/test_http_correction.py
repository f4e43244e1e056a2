"""Correction over HTTP (AVG art. 16), real SQLite: the privacy officer of the case's
municipality retracts a signal about the wrong person and corrects the personal details;
each request is in the access log with the purpose `rights`."""

from __future__ import annotations

from uuid import UUID

from ks_engine.principals import PrincipalRegistry, Role
from tests.integration.test_http_stack import KERKRADE, LANDGRAAF, PERSONAL, Api, api

__all__ = ["api"]


def _officer(api: Api, municipality: str) -> dict[str, str]:
    registry = PrincipalRegistry(api.engine.settings.principals_file)
    issued = registry.add(
        role=Role.PRIVACY_OFFICER, organisation=f"fg-{municipality}", municipalities=[municipality]
    )
    return {"Authorization": f"Bearer {issued.token}"}


def _access(api: Api, case_id: UUID) -> list[dict[str, object]]:
    found = api.client.get(
        f"/audit/access?limit=500&case_id={case_id}", headers=api.auth("auditor")
    )
    assert found.status_code == 200, found.text
    entries: list[dict[str, object]] = found.json()["entries"]
    return entries


def test_retraction_over_http_closes_a_case_about_the_wrong_person(api: Api) -> None:
    case_id = api.signal(KERKRADE)
    officer = _officer(api, KERKRADE)
    url = f"/cases/{case_id}/signals/1/retraction"
    body = {"reason": "wrong_person"}
    # Without If-Match nothing happens (428); a coordinator may not (403); another
    # municipality's officer does not see the case (404); an unknown reason is a 422
    assert api.client.post(url, json=body, headers=officer).status_code == 428
    coordinator = api.auth("kerkrade") | api.if_match(case_id)
    assert api.client.post(url, json=body, headers=coordinator).status_code == 403
    elsewhere = _officer(api, LANDGRAAF) | api.if_match(case_id)
    assert api.client.post(url, json=body, headers=elsewhere).status_code == 404
    bad = api.client.post(url, json={"reason": "oops"}, headers=officer | api.if_match(case_id))
    assert bad.status_code == 422
    wrong_number = api.client.post(
        f"/cases/{case_id}/signals/2/retraction", json=body, headers=officer | api.if_match(case_id)
    )
    assert wrong_number.status_code == 422
    assert "has no signal 2" in wrong_number.json()["detail"]
    assert api.engine.referrals.get_case(case_id).is_open
    # The officer retracts it: the case closes with result signal_retracted
    done = api.client.post(url, json=body, headers=officer | api.if_match(case_id))
    assert done.status_code == 200, done.text
    assert done.headers["ETag"] == f'"{done.json()["version"]}"'
    case = api.engine.referrals.get_case(case_id)
    assert case.outcome is not None
    assert case.outcome["code"] == "signal_retracted"
    assert case.personal_erased is not None
    [entry] = [e for e in _access(api, case_id) if e["status"] == 200]
    assert (entry["action"], entry["purpose"], entry["role"]) == (
        "update",
        "rights",
        "privacy_officer",
    )
    assert entry["object"] == "POST /cases/{case_id}/signals/{signal_number}/retraction"


def test_corrected_details_are_what_the_coordinator_opens_afterwards(api: Api) -> None:
    case_id = api.signal(KERKRADE)
    officer = _officer(api, KERKRADE) | api.if_match(case_id)
    fixed = api.client.post(
        f"/cases/{case_id}/personal-correction",
        json={"name": "Anna Testouder-Juist", "remove": ["note"]},
        headers=officer,
    )
    assert fixed.status_code == 200, fixed.text
    assert "Testouder" not in fixed.text  # the answer holds no value
    both = api.client.post(
        f"/cases/{case_id}/personal-correction",
        json={"phone": "0612345678", "remove": ["phone"]},
        headers=_officer(api, KERKRADE) | api.if_match(case_id),
    )
    assert both.status_code == 422
    assert "both given a new value and removed" in both.json()["detail"]
    opened = api.client.get(
        f"/cases/{case_id}/personal?purpose=coordination", headers=api.auth("kerkrade")
    )
    assert opened.status_code == 200
    values = {f["field"]: f["value"] for f in opened.json()["fields"]}
    assert values == {"name": "Anna Testouder-Juist", "birth_date": str(PERSONAL.birth_date)}
    stale = api.client.post(
        f"/cases/{case_id}/personal-correction",
        json={"phone": "0612345678"},
        headers=_officer(api, KERKRADE) | {"If-Match": '"1"'},
    )
    assert stale.status_code == 412
