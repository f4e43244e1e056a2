"""The reader policy where case data leaves: case view, history and access log over HTTP, with
auditors bound to their municipalities and partners to their domain (real SQLite store)."""

from __future__ import annotations

from uuid import UUID

from adapters.persistence.sqlite_views import SqliteViewDatabase
from ks_engine.principals import CareDomain, PrincipalRegistry, Role
from tests.integration.test_http_read_models import project, viewed
from tests.integration.test_http_stack import KERKRADE, LANDGRAAF, MIDWIFE, Api

__all__ = ["viewed"]
Viewed = tuple[Api, SqliteViewDatabase]


def _principal(api: Api, role: Role, **kwargs: object) -> dict[str, str]:
    registry = PrincipalRegistry(api.engine.settings.principals_file)
    issued = registry.add(role=role, **kwargs)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {issued.token}"}


def _discussed(api: Api, municipality: str = KERKRADE) -> UUID:
    case_id = api.signal(municipality)
    api.advance(case_id, "discussed")
    return case_id


def test_an_auditor_sees_only_the_municipalities_assigned_to_them(viewed: Viewed) -> None:
    api, db = viewed
    kerkrade, landgraaf = _discussed(api, KERKRADE), _discussed(api, LANDGRAAF)
    project(api, db)
    auditor = _principal(
        api, Role.AUDITOR, organisation="audit-kerkrade", municipalities=[KERKRADE]
    )
    assert api.client.get(f"/cases/{kerkrade}/history", headers=auditor).status_code == 200
    assert api.client.get(f"/cases/{landgraaf}/history", headers=auditor).status_code == 404
    assert api.client.get(f"/cases/{landgraaf}/fhir", headers=auditor).status_code == 404
    api.client.get(f"/cases/{landgraaf}", headers=api.auth("landgraaf"))
    api.client.get(f"/cases/{kerkrade}", headers=api.auth("kerkrade"))
    entries = api.client.get("/audit/access?limit=500", headers=auditor).json()["entries"]
    about_cases = {e["case_id"] for e in entries if e["case_id"]}
    assert about_cases == {str(kerkrade)}
    every = api.client.get("/audit/access?limit=500", headers=api.auth("auditor")).json()
    assert {str(landgraaf), str(kerkrade)} <= {e["case_id"] for e in every["entries"]}


def test_an_auditor_with_no_municipality_sees_no_case(viewed: Viewed) -> None:
    api, db = viewed
    case_id = _discussed(api)
    project(api, db)
    nobody = _principal(api, Role.AUDITOR, organisation="audit-nowhere")
    assert api.client.get(f"/cases/{case_id}/history", headers=nobody).status_code == 404


def test_an_auditors_history_holds_the_process_and_no_medical_or_social_field(
    viewed: Viewed,
) -> None:
    api, db = viewed
    case_id = _discussed(api)
    project(api, db)
    full = api.client.get(f"/cases/{case_id}/history", headers=api.auth("kerkrade")).json()
    audited = api.client.get(f"/cases/{case_id}/history", headers=api.auth("auditor")).json()
    assert [e["event"] for e in audited["events"]] == [e["event"] for e in full["events"]]
    discussed = next(e for e in full["events"] if e["event"] == "Discussed")
    assert {"scores", "needs"} <= set(discussed["details"])
    for entry in audited["events"]:
        assert "scores" not in entry["details"]
        assert "needs" not in entry["details"]
        assert "risk_factors" not in entry["details"].get("signal", {})


def test_a_medical_partner_sees_risk_factors_and_a_social_partner_the_needs(
    viewed: Viewed,
) -> None:
    api, db = viewed
    case_id = _discussed(api)
    project(api, db)
    medical = api.client.get(f"/cases/{case_id}", headers=api.auth("partner")).json()
    assert medical["risk_factors"] == ["debts", "stress"]
    assert "needs" not in medical
    social = _principal(api, Role.PARTNER, organisation=MIDWIFE, domain=CareDomain.SOCIAL)
    shown = api.client.get(f"/cases/{case_id}", headers=social).json()
    assert shown["needs"] == ["financial"]
    assert "risk_factors" not in shown
    unclassified = _principal(api, Role.PARTNER, organisation=MIDWIFE)
    process = api.client.get(f"/cases/{case_id}", headers=unclassified).json()
    assert "needs" not in process
    assert "risk_factors" not in process
    assert process["state"] == "discussed"


def test_a_privacy_officer_reads_histories_of_their_municipalities(viewed: Viewed) -> None:
    api, db = viewed
    case_id = _discussed(api)
    project(api, db)
    officer = _principal(
        api, Role.PRIVACY_OFFICER, organisation="fg-zuid-limburg", municipalities=[KERKRADE]
    )
    assert api.client.get(f"/cases/{case_id}/history", headers=officer).status_code == 200
    assert api.client.get(f"/cases/{case_id}", headers=officer).status_code == 403
    entries = api.client.get(f"/audit/access?case_id={case_id}", headers=officer).json()
    assert entries["entries"][-1]["purpose"] == "rights"
