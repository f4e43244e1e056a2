"""A case as a FHIR R4 Bundle: valid resources, pseudonymous, and the same access and consent
rules as the JSON API (real SQLite store, real HTTP app)."""

from __future__ import annotations

from collections import Counter
from typing import Any
from uuid import UUID

import pytest
from fhir.resources.R4B.auditevent import AuditEvent
from fhir.resources.R4B.bundle import Bundle
from typer.testing import CliRunner

from adapters.persistence.sqlite_views import SqliteViewDatabase
from entrypoints.cli import app as cli
from ks_engine import commands as c
from tests.conftest import FixedClock
from tests.integration.test_http_read_models import project, viewed
from tests.integration.test_http_stack import (
    COORDINATOR,
    KERKRADE,
    LANDGRAAF,
    MIDWIFE,
    PERSONAL,
    Api,
)

__all__ = ["viewed"]
Viewed = tuple[Api, SqliteViewDatabase]


@pytest.fixture
def api(viewed: Viewed) -> Api:
    """The API with its read models; ``projected`` brings them up to date."""
    return viewed[0]


@pytest.fixture
def projected(viewed: Viewed) -> Any:
    return lambda: project(*viewed)


FHIR_JSON = "application/fhir+json"


def support_matched(api: Api) -> UUID:
    case_id = api.signal(KERKRADE)
    api.advance(case_id, "discussed")
    api.engine.referrals.match_support(
        c.MatchSupport(
            case_id=case_id,
            offer_ids=["schuldhulpverlening"],
            lead_professional="JGZ-verpleegkundige",
            planned_start=api.engine.referrals.clock().date(),
        ),
        c.Context(actor=COORDINATOR, causation_id="test"),
    )
    return case_id


def bundle_of(api: Api, case_id: UUID, who: str) -> tuple[Bundle, str]:
    answer = api.client.get(f"/cases/{case_id}/fhir", headers=api.auth(who))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith(FHIR_JSON)
    # Validated again by the fhir.resources models, as a receiving care system would.
    return Bundle.model_validate_json(answer.text), answer.text


def kinds(bundle: Bundle) -> Counter[str]:
    return Counter(e.resource.get_resource_type() for e in bundle.entry or [])


def resource(bundle: Bundle, kind: str) -> Any:
    return next(e.resource for e in bundle.entry or [] if e.resource.get_resource_type() == kind)


def test_a_coordinator_gets_referral_consent_task_care_plan_and_scores(api: Api) -> None:
    case_id = support_matched(api)
    bundle, _ = bundle_of(api, case_id, "kerkrade")
    found = kinds(bundle)
    assert {"ServiceRequest", "Consent", "Task", "CarePlan", "Observation", "Provenance"} <= set(
        found
    )
    case = api.engine.referrals.get_case(case_id)
    task = resource(bundle, "Task")
    assert task.businessStatus.coding[0].code == "support_matched"
    assert task.status == "in-progress"
    assert len(task.relevantHistory) == found["Provenance"] == case.version
    consent = resource(bundle, "Consent")
    assert consent.status == "active"
    recipients = {a.reference.identifier.value for a in consent.provision.actor}
    assert recipients == set(case.consent["scope"])
    observation = resource(bundle, "Observation")
    scores = {comp.code.coding[0].code: comp.valueInteger for comp in observation.component}
    assert scores == case.discussions[0]["scores"]
    plan = resource(bundle, "CarePlan")
    assert plan.activity[0].detail.code.coding[0].code == "schuldhulpverlening"
    request = resource(bundle, "ServiceRequest")
    assert request.requester.identifier.value == MIDWIFE
    assert {cc.coding[0].code for cc in request.reasonCode} == {"debts", "stress"}
    # Every reference inside the Bundle resolves to one of its entries.
    urls = {e.fullUrl for e in bundle.entry or []}
    for ref in [*task.basedOn, *task.relevantHistory]:
        assert ref.reference in urls


def test_the_family_appears_only_as_a_pseudonymous_case_reference(api: Api) -> None:
    case_id = support_matched(api)
    case = api.engine.referrals.get_case(case_id)
    for who in ("kerkrade", "partner", "auditor"):
        _, text = bundle_of(api, case_id, who)
        assert api.bsns[case_id] not in text
        assert case.person_pseudonym not in text
        assert PERSONAL.name not in text
        assert PERSONAL.birth_date.isoformat() not in text
        assert PERSONAL.note not in text


def test_a_partner_gets_only_what_its_consented_case_view_holds(api: Api, projected: Any) -> None:
    case_id = support_matched(api)
    projected()
    bundle, _ = bundle_of(api, case_id, "partner")
    assert set(kinds(bundle)) == {"Task", "Consent", "CarePlan"}
    json_view = api.client.get(f"/cases/{case_id}", headers=api.auth("partner")).json()
    assert resource(bundle, "Task").businessStatus.coding[0].code == json_view["state"]
    offers = {a.detail.code.coding[0].code for a in resource(bundle, "CarePlan").activity}
    assert offers == {o["offer_id"] for s in json_view["support"] for o in s["offers"]}


def test_an_auditor_gets_the_process_and_the_case_access_log(api: Api, projected: Any) -> None:
    case_id = support_matched(api)
    projected()
    api.client.get(f"/cases/{case_id}", headers=api.auth("kerkrade"))
    api.client.get(f"/cases/{case_id}", headers=api.auth("landgraaf"))  # denied: not in remit
    bundle, _ = bundle_of(api, case_id, "auditor")
    assert set(kinds(bundle)) == {"Task", "Provenance", "AuditEvent"}
    audits = [
        e.resource for e in bundle.entry or [] if e.resource.get_resource_type() == "AuditEvent"
    ]
    outcomes = Counter(a.outcome for a in audits)
    assert outcomes["0"] >= 1  # the coordinator's read
    assert outcomes["4"] >= 1  # the other municipality's refused read
    assert all(a.action == "R" for a in audits)
    assert all(a.purposeOfEvent[0].coding[0].system.endswith("v3-ActReason") for a in audits)


def json_status(api: Api, case_id: UUID, who: str) -> int:
    path = f"/cases/{case_id}/history" if who == "auditor" else f"/cases/{case_id}"
    return int(api.client.get(path, headers=api.auth(who)).status_code)


@pytest.mark.parametrize("state", ["signalled", "consented", "withdrawn", "closed"])
def test_the_bundle_follows_the_same_access_rules_as_the_json_api(
    api: Api, projected: Any, state: str
) -> None:
    case_id = api.signal(KERKRADE)
    app, ctx = api.engine.referrals, c.Context(actor=COORDINATOR, causation_id="t")
    if state in ("consented", "withdrawn"):
        api.advance(case_id, "consented")
    if state == "withdrawn":
        app.withdraw_consent(c.WithdrawConsent(case_id=case_id), ctx)
    if state == "closed":
        app.close_case(c.Close(case_id=case_id, outcome="no_contact"), ctx)
    projected()
    for who in ("anonymous", "kerkrade", "landgraaf", "partner", "auditor", "admin"):
        fhir = api.client.get(f"/cases/{case_id}/fhir", headers=api.auth(who)).status_code
        expected = 403 if who == "admin" else json_status(api, case_id, who)
        assert fhir == expected, (state, who)


def test_an_expired_consent_is_inactive_and_hides_the_case_from_the_partner(
    api: Api, clock: FixedClock
) -> None:
    case_id = api.signal(KERKRADE)
    app, ctx = api.engine.referrals, c.Context(actor=COORDINATOR, causation_id="t")
    app.request_consent(c.RequestConsent(case_id=case_id), ctx)
    app.record_consent(
        c.RecordConsent(case_id=case_id, given=True, scope=[MIDWIFE], expires_on=clock().date()),
        ctx,
    )
    clock.advance(days=2)
    bundle, _ = bundle_of(api, case_id, "kerkrade")
    assert resource(bundle, "Consent").status == "inactive"
    assert api.client.get(f"/cases/{case_id}/fhir", headers=api.auth("partner")).status_code == 404


def test_ks_audit_export_writes_the_municipalitys_access_log_as_fhir_audit_events(
    api: Api, projected: Any, clock: FixedClock
) -> None:
    kerkrade, landgraaf = api.signal(KERKRADE), api.signal(LANDGRAAF)
    projected()
    for _ in range(2):
        api.client.get(f"/cases/{kerkrade}", headers=api.auth("kerkrade"))
    api.client.get(f"/cases/{kerkrade}", headers=api.auth("landgraaf"))  # refused
    api.client.get(f"/cases/{landgraaf}", headers=api.auth("landgraaf"))
    out = api.engine.settings.data_dir.parent / "audit.ndjson"
    day = clock().date().isoformat()
    args = ["--municipality", KERKRADE, "--from", day, "--to", day, "--out", str(out)]
    result = CliRunner().invoke(
        cli,
        ["audit", "export", "--format", "fhir", *args],
        env={"KS_DATA_DIR": str(api.engine.settings.data_dir)},
    )
    assert result.exit_code == 0, result.output
    events = [AuditEvent.model_validate_json(line) for line in out.read_text().splitlines()]
    assert len(events) == 3
    assert {e.entity[0].what.identifier.value for e in events} == {str(kerkrade)}
    assert sorted(e.outcome for e in events) == ["0", "0", "4"]
    assert api.bsns[kerkrade] not in out.read_text()
