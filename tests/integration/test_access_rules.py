"""Who sees which case: partners within the family's consent, coordinators within their remit."""

from __future__ import annotations

from ks_engine import commands as c
from ks_engine.principals import PrincipalRegistry, Role
from tests.integration.test_http_stack import (
    COORDINATOR,
    KERKRADE,
    LANDGRAAF,
    MIDWIFE,
    PERSONAL,
    Api,
    api,
)

__all__ = ["api"]


def _partner_status(api: Api, case_id: object) -> int:
    return api.client.get(f"/cases/{case_id}", headers=api.auth("partner")).status_code


def test_a_signalling_partner_sees_the_case_only_while_consent_names_it(api: Api) -> None:
    app, ctx = api.engine.referrals, c.Context(actor=COORDINATOR, causation_id="t")
    case_id = api.signal()
    assert _partner_status(api, case_id) == 404  # no consent yet
    api.advance(case_id, "consented")  # scope names the midwife
    shown = api.client.get(f"/cases/{case_id}", headers=api.auth("partner"))
    assert shown.status_code == 200
    body = shown.json()
    assert body["state"] == "consented"
    assert body["consent"]["scope"] == sorted([MIDWIFE, "schuldhulp-parkstad"])
    assert "person_pseudonym" not in body
    assert "personal" not in body
    app.withdraw_consent(c.WithdrawConsent(case_id=case_id), ctx)
    assert _partner_status(api, case_id) == 404  # withdrawn: nothing new is shared


def test_consent_that_does_not_name_the_partner_hides_the_case(api: Api) -> None:
    app, ctx = api.engine.referrals, c.Context(actor=COORDINATOR, causation_id="t")
    case_id = api.signal()
    app.request_consent(c.RequestConsent(case_id=case_id), ctx)
    app.record_consent(
        c.RecordConsent(case_id=case_id, given=True, scope=["ggd-zuid-limburg"]), ctx
    )
    assert _partner_status(api, case_id) == 404


def test_a_partner_that_did_not_signal_never_sees_the_case(api: Api) -> None:
    case_id = api.signal(reporter="https://huisartsen-heuvelland.nl")
    app, ctx = api.engine.referrals, c.Context(actor=COORDINATOR, causation_id="t")
    app.request_consent(c.RequestConsent(case_id=case_id), ctx)
    app.record_consent(c.RecordConsent(case_id=case_id, given=True, scope=[MIDWIFE]), ctx)
    assert _partner_status(api, case_id) == 404


def test_a_coordinator_of_two_municipalities_acts_on_both_and_no_third(api: Api) -> None:
    registry = PrincipalRegistry(api.engine.settings.principals_file)
    both = registry.add(
        role=Role.COORDINATOR, organisation="parkstad", municipalities=[KERKRADE, LANDGRAAF]
    )
    headers = {"Authorization": f"Bearer {both.token}"}
    for municipality, status in ((KERKRADE, 200), (LANDGRAAF, 200), ("GM0981", 404)):
        case_id = api.signal(municipality)
        response = api.client.post(
            f"/cases/{case_id}/consent-request", headers=headers | api.if_match(case_id)
        )
        assert response.status_code == status, municipality


def test_a_work_queue_filter_outside_the_coordinators_remit_is_refused(api: Api) -> None:
    response = api.client.get(f"/cases?municipality={LANDGRAAF}", headers=api.auth("kerkrade"))
    assert response.status_code == 403
    stats = api.client.get(f"/stats?municipality={LANDGRAAF}", headers=api.auth("kerkrade"))
    assert stats.status_code == 403


def test_no_answer_ever_carries_a_bsn_or_personal_detail(api: Api) -> None:
    case_id = api.signal()
    api.advance(case_id, "discussed")
    texts = [
        api.client.get(f"/cases/{case_id}", headers=api.auth("partner")).text,
        api.client.get(f"/cases/{case_id}/support-suggestions", headers=api.auth("kerkrade")).text,
        api.client.get("/audit/access", headers=api.auth("auditor")).text,
    ]
    secrets = (api.bsns[case_id], PERSONAL.name, "1999-05-17", PERSONAL.note, "bsn", "birth_date")
    for text in texts:
        for secret in secrets:
            assert str(secret) not in text
