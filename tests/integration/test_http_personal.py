"""Personal details on request: GET /cases/{id}/personal?purpose=... on a real SQLite store.

Only the case's coordinator opens them, only for a purpose from the closed list; each opening
is an access-log entry with action 'read personal data' and the purpose."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from tests.integration.test_http_stack import Api, api

__all__ = ["api"]  # the fixture


def _access(api: Api, request_id: str) -> dict[str, Any]:
    entries = api.client.get("/audit/access?limit=500", headers=api.auth("auditor")).json()
    (entry,) = [e for e in entries["entries"] if e["request_id"] == request_id]
    return dict(entry)


def test_the_coordinator_opens_the_details_for_a_purpose_and_it_is_logged(api: Api) -> None:
    case_id = api.signal()

    got = api.client.get(
        f"/cases/{case_id}/personal?purpose=family_contact", headers=api.auth("kerkrade")
    )

    assert got.status_code == 200, got.text
    assert got.headers["Cache-Control"] == "no-store"
    body = got.json()
    assert body["status"] == "present"
    assert body["purpose"] == "family_contact"
    shown = {(f["member"], f["field"]): f for f in body["fields"]}
    assert shown["parent", "name"]["value"] == "Anna Testouder"
    assert shown["parent", "birth_date"]["value"] == "1999-05-17"
    assert shown["parent", "note"]["confidentiality"] == "notes"
    assert shown["parent", "name"]["confidentiality"] == "contact"
    assert shown["parent", "name"]["readers"] == ["coordinator"]
    entry = _access(api, got.headers["X-Request-ID"])
    assert entry["action"] == "read personal data"
    assert entry["purpose"] == "family_contact"
    assert entry["outcome"] == "allowed"
    assert entry["case_id"] == str(case_id)
    assert "Anna" not in str(entry)


def test_the_case_view_and_work_queue_never_hold_the_details(api: Api) -> None:
    case_id = api.signal()
    case = api.client.get(f"/cases/{case_id}/history", headers=api.auth("kerkrade"))
    assert "Testouder" not in case.text


def test_outside_the_remit_or_without_a_purpose_nothing_is_opened(api: Api) -> None:
    case_id: UUID = api.signal()
    path = f"/cases/{case_id}/personal"
    other = api.client.get(f"{path}?purpose=coordination", headers=api.auth("landgraaf"))
    partner = api.client.get(f"{path}?purpose=coordination", headers=api.auth("partner"))
    no_purpose = api.client.get(path, headers=api.auth("kerkrade"))
    wrong = api.client.get(f"{path}?purpose=curiosity", headers=api.auth("kerkrade"))
    assert (other.status_code, partner.status_code) == (404, 403)
    assert (no_purpose.status_code, wrong.status_code) == (422, 422)
    for refused in (other, partner, no_purpose, wrong):
        assert "Testouder" not in refused.text
        entry = _access(api, refused.headers["X-Request-ID"])
        assert entry["action"] == "read personal data"
    assert _access(api, other.headers["X-Request-ID"])["outcome"] == "denied"
