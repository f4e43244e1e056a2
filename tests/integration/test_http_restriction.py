"""Restriction over HTTP (AVG art. 18/21): only the privacy officer of the case's municipality
restricts and lifts; meanwhile a coordinator's command is refused in words (real SQLite)."""

from __future__ import annotations

from adapters.persistence.sqlite_views import SqliteViewDatabase
from ks_engine.principals import PrincipalRegistry, Role
from tests.integration.test_dashboard_pages import sign_in
from tests.integration.test_http_read_models import project, viewed
from tests.integration.test_http_stack import KERKRADE, LANDGRAAF, Api, api

__all__ = ["api", "viewed"]


def _officer(api: Api, municipality: str) -> dict[str, str]:
    registry = PrincipalRegistry(api.engine.settings.principals_file)
    issued = registry.add(
        role=Role.PRIVACY_OFFICER, organisation=f"fg-{municipality}", municipalities=[municipality]
    )
    return {"Authorization": f"Bearer {issued.token}"}


def _version(api: Api, case_id: object) -> dict[str, str]:
    return {"If-Match": f'"{api.engine.referrals.get_case(case_id).version}"'}  # type: ignore[arg-type]


def test_a_restricted_case_refuses_the_coordinator_until_the_privacy_officer_lifts_it(
    api: Api,
) -> None:
    case_id = api.signal(KERKRADE)
    officer = _officer(api, KERKRADE)
    restricted = api.client.post(
        f"/cases/{case_id}/restriction", json={"basis": "objection"}, headers=officer
    )
    assert restricted.status_code == 200, restricted.text
    refused = api.client.post(
        f"/cases/{case_id}/consent-request",
        headers={**api.auth("kerkrade"), **_version(api, case_id)},
    )
    assert refused.status_code == 409
    assert refused.json()["state"] == "restricted"
    assert "restricted at the family's request" in refused.json()["detail"]
    lifted = api.client.post(f"/cases/{case_id}/restriction-lifting", headers=officer)
    assert lifted.status_code == 200
    again = api.client.post(
        f"/cases/{case_id}/consent-request",
        headers={**api.auth("kerkrade"), **_version(api, case_id)},
    )
    assert again.status_code == 200, again.text


def test_only_the_privacy_officer_of_the_municipality_restricts(api: Api) -> None:
    case_id = api.signal(KERKRADE)
    body = {"basis": "accuracy_contested"}
    elsewhere = _officer(api, LANDGRAAF)
    assert (
        api.client.post(f"/cases/{case_id}/restriction", json=body, headers=elsewhere).status_code
        == 404
    )
    coordinator = api.auth("kerkrade")
    assert (
        api.client.post(f"/cases/{case_id}/restriction", json=body, headers=coordinator).status_code
        == 403
    )
    unknown = {"basis": "because"}
    officer = _officer(api, KERKRADE)
    assert (
        api.client.post(f"/cases/{case_id}/restriction", json=unknown, headers=officer).status_code
        == 422
    )
    assert not api.engine.referrals.get_case(case_id).is_restricted


def test_the_dashboard_shows_a_restricted_case_in_the_queue_and_on_its_page(
    viewed: tuple[Api, SqliteViewDatabase],
) -> None:
    api, db = viewed
    case_id = api.signal(KERKRADE)
    officer = _officer(api, KERKRADE)
    api.client.post(f"/cases/{case_id}/restriction", json={"basis": "objection"}, headers=officer)
    project(api, db)
    sign_in(api.client, api.tokens["demo-coordinator-kerkrade"])
    queue = api.client.get("/dashboard/werkvoorraad")
    assert "Verwerking beperkt" in queue.text
    page = api.client.get(f"/dashboard/casus/{case_id}")
    assert "De verwerking van deze casus is beperkt op verzoek van het gezin" in page.text
    assert "Verwerking beperkt (AVG art. 18)" in page.text  # the history names the event
