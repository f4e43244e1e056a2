"""The case as it stood at a chosen moment, on the dashboard (real SQLite store, no browser):
rebuilt from the events up to the moment, filtered per reader, access-logged."""

from __future__ import annotations

from ks_engine import commands as c
from ks_engine.access_log import AccessLog, AccessQuery
from tests.conftest import FixedClock
from tests.integration.test_dashboard_pages import NAMES, sign_in
from tests.integration.test_http_read_models import viewed
from tests.integration.test_http_stack import COORDINATOR, KERKRADE, MIDWIFE, Api

__all__ = ["viewed"]


def test_the_coordinator_and_the_auditor_see_the_case_as_it_stood(
    viewed: tuple[Api, object], clock: FixedClock
) -> None:
    api, _ = viewed
    # Given a case signalled on 2 November, asked for consent on the 3rd, consented on the 4th
    case_id = api.signal(KERKRADE)
    app, ctx = api.engine.referrals, c.Context(actor=COORDINATOR, causation_id="setup")
    clock.advance(days=1)
    app.request_consent(c.RequestConsent(case_id=case_id), ctx)
    clock.advance(days=1)
    app.record_consent(c.RecordConsent(case_id=case_id, given=True, scope=[MIDWIFE]), ctx)
    url = f"/dashboard/casus/{case_id}/stand"
    sign_in(api.client, api.tokens[NAMES["kerkrade"]])
    # When the coordinator asks for the morning of the 3rd: signalled, two events later
    then = api.client.get(url, params={"moment": "2026-11-03T08:00"})
    assert then.status_code == 200
    assert 'id="state-then">Gesignaleerd (versie 1)' in then.text
    assert "2 latere gebeurtenissen niet toegepast." in then.text
    assert "Risicofactoren" in then.text
    assert "Toestemming gevraagd</strong>" not in then.text  # not yet in the timeline
    # A day given whole is its end: the consent of the 4th is there
    later = api.client.get(url, params={"moment": "2026-11-04"})
    assert 'id="state-then">Toestemming gegeven (versie 3)' in later.text
    assert "Er is na dit moment niets meer vastgelegd." in later.text
    assert "Toestemming gevraagd</strong>" in later.text
    # Before the case existed, or a moment that is no date, is explained
    before = api.client.get(url, params={"moment": "2026-11-01T12:00"})
    assert before.status_code == 422
    assert "bestond deze casus nog niet" in before.text
    wrong = api.client.get(url, params={"moment": "gisteren"})
    assert wrong.status_code == 422
    assert "Vul een datum" in wrong.text
    # The auditor sees process information only; another municipality sees no case
    sign_in(api.client, api.tokens[NAMES["auditor"]])
    audited = api.client.get(url, params={"moment": "2026-11-04"})
    assert audited.status_code == 200
    assert 'id="state-then">Toestemming gegeven' in audited.text
    assert "Risicofactoren" not in audited.text
    sign_in(api.client, api.tokens[NAMES["landgraaf"]])
    assert api.client.get(url, params={"moment": "2026-11-04"}).status_code == 404
    # Every look is in the access log with the case, the moment and the purpose
    log: AccessLog = api.client.app.state.services.access_log
    looks = [
        (e.principal_id, e.purpose.value, e.outcome.value)
        for e in log.find(AccessQuery(case_id=case_id), limit=500).entries
        if e.object.startswith("GET /dashboard/casus/{case_id}/stand?moment=")
    ]
    assert looks == [
        *[("demo-coordinator-kerkrade", "coordination", "allowed")] * 2,
        *[("demo-coordinator-kerkrade", "coordination", "error")] * 2,
        ("demo-auditor", "audit", "allowed"),
        ("demo-coordinator-landgraaf", "coordination", "denied"),
    ]
