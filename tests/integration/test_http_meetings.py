"""The Knooppunt meeting over HTTP on a real SQLite store: planning, the agenda each attending
organisation may read, decisions that record the case discussion, and the access log."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.meeting import Decision
from ks_engine import commands as c
from ks_engine.access_log import AccessQuery
from tests.integration.test_http_stack import (
    COORDINATOR,
    KERKRADE,
    LANDGRAAF,
    MIDWIFE,
    SCORES,
    Api,
    api,
)

__all__ = ["api"]

DEBTS = "schuldhulp-parkstad"
HOUSING = "woonconsulent-regio"


def consented_for(api: Api, scope: list[str], municipality: str = KERKRADE) -> UUID:
    """A case whose family consented to discussion with the organisations in ``scope``."""
    case_id = api.signal(municipality)
    app, ctx = api.engine.referrals, c.Context(actor=COORDINATOR, causation_id="setup")
    app.request_consent(c.RequestConsent(case_id=case_id), ctx)
    app.record_consent(c.RecordConsent(case_id=case_id, given=True, scope=scope), ctx)
    return case_id


def plan(api: Api, *case_ids: UUID, organisations: tuple[str, ...] = (MIDWIFE, DEBTS)) -> str:
    body = {
        "municipality": KERKRADE,
        "on": api.engine.referrals.clock().date().isoformat(),
        "organisations": list(organisations),
        "case_ids": [str(i) for i in case_ids],
    }
    answer = api.client.post("/meetings", json=body, headers=api.auth("kerkrade"))
    assert answer.status_code == 201, answer.text
    meeting_id: str = answer.json()["meeting_id"]
    return meeting_id


def decision(case_id: UUID, **changes: Any) -> dict[str, Any]:
    return {
        "case_id": str(case_id),
        "decision": "discussed",
        "follow_up": "match_support",
        "lead_organisation": DEBTS,
        "discussion": {
            "participants": [MIDWIFE, DEBTS],
            "scores": SCORES.model_dump(),
            "needs": ["financial"],
        },
    } | changes


def test_a_case_without_consent_is_refused_with_the_reason(api: Api) -> None:
    meeting_id = plan(api)
    waiting = api.signal(KERKRADE)
    answer = api.client.post(
        f"/meetings/{meeting_id}/agenda",
        json={"case_id": str(waiting)},
        headers=api.auth("kerkrade"),
    )
    assert answer.status_code == 409
    assert "has not consented to discussion" in answer.json()["detail"]
    planned = api.client.post(
        "/meetings",
        json={
            "municipality": KERKRADE,
            "on": api.engine.referrals.clock().date().isoformat(),
            "organisations": [MIDWIFE],
            "case_ids": [str(waiting)],
        },
        headers=api.auth("kerkrade"),
    )
    assert planned.status_code == 409
    listed = api.client.get("/meetings", headers=api.auth("kerkrade")).json()["items"]
    assert [m["meeting_id"] for m in listed] == [meeting_id]  # the refused plan left nothing


def test_each_attending_partner_reads_only_the_cases_its_consent_names(api: Api) -> None:
    # Given one case consented for the midwife and debt counselling, one for debts only
    both = consented_for(api, [MIDWIFE, DEBTS])
    debts_only = consented_for(api, [DEBTS])
    meeting_id = plan(api, both, debts_only)
    # When the midwife (a medical partner) reads the agenda
    answer = api.client.get(f"/meetings/{meeting_id}/agenda", headers=api.auth("partner"))
    assert answer.status_code == 200, answer.text
    agenda = answer.json()
    # Then it sees the case its consent names, with medical and process fields only
    assert [i["case_id"] for i in agenda["items"]] == [str(both)]
    item = agenda["items"][0]
    assert item["risk_factors"] == ["debts", "stress"]
    assert "needs" not in item  # social: not for a medical partner
    assert item["consent"]["scope"] == [MIDWIFE, DEBTS]
    # And the coordinator sees both, in agenda order
    full = api.client.get(f"/meetings/{meeting_id}/agenda", headers=api.auth("kerkrade")).json()
    assert [i["case_id"] for i in full["items"]] == [str(both), str(debts_only)]
    # And each case read is in the access log, with the reader and the purpose
    log = api.client.app.state.services.access_log  # type: ignore[attr-defined]
    reads = [
        e
        for e in log.find(AccessQuery(case_id=both), limit=500).entries
        if e.object.startswith("GET /meetings/{meeting_id}/agenda")
    ]
    assert [(e.principal_id, e.purpose.value) for e in reads] == [
        ("demo-partner-midwife", "care"),
        ("demo-coordinator-kerkrade", "coordination"),
    ]
    assert all(e.person_pseudonym and e.object.endswith("(agenda)") for e in reads)
    hidden = log.find(AccessQuery(case_id=debts_only), limit=500).entries
    assert [e.principal_id for e in hidden if "(agenda)" in e.object] == [
        "demo-coordinator-kerkrade"
    ]


def test_a_partner_that_does_not_attend_and_another_municipality_see_no_meeting(
    api: Api,
) -> None:
    case_id = consented_for(api, [MIDWIFE, DEBTS])
    meeting_id = plan(api, case_id, organisations=(DEBTS,))
    assert (
        api.client.get(f"/meetings/{meeting_id}/agenda", headers=api.auth("partner")).status_code
        == 404
    )
    assert api.client.get(f"/meetings/{meeting_id}", headers=api.auth("landgraaf")).status_code == (
        404
    )
    assert api.client.get(f"/meetings/{meeting_id}", headers=api.auth("partner")).status_code == 403
    other = consented_for(api, [DEBTS], municipality=LANDGRAAF)
    answer = api.client.post(
        f"/meetings/{meeting_id}/agenda", json={"case_id": str(other)}, headers=api.auth("kerkrade")
    )
    assert answer.status_code == 404  # a case outside the remit answers as a missing one


def test_a_decision_records_the_discussion_and_the_minutes_list_it(api: Api) -> None:
    # Given a meeting today with two consented cases on the agenda
    first = consented_for(api, [MIDWIFE, DEBTS])
    second = consented_for(api, [MIDWIFE, DEBTS])
    meeting_id = plan(api, first, second)
    version = api.engine.referrals.get_case(first).version
    # When the first is discussed and the second postponed
    answer = api.client.post(
        f"/meetings/{meeting_id}/decisions",
        json=decision(first, case_version=version),
        headers=api.auth("kerkrade"),
    )
    assert answer.status_code == 200, answer.text
    stale = api.client.post(
        f"/meetings/{meeting_id}/decisions",
        json=decision(second, case_version=1),
        headers=api.auth("kerkrade"),
    )
    assert stale.status_code == 412
    postponed = api.client.post(
        f"/meetings/{meeting_id}/decisions",
        json={"case_id": str(second), "decision": "postponed"},
        headers=api.auth("kerkrade"),
    )
    assert postponed.status_code == 200, postponed.text
    # Then the first case has its discussion step, the second is unchanged
    assert api.engine.referrals.get_case(first).state.value == "discussed"
    assert api.engine.referrals.get_case(second).state.value == "consented"
    # And the minutes list what was decided per case
    minutes = api.client.get(f"/meetings/{meeting_id}", headers=api.auth("kerkrade")).json()
    decided = {a["case_id"]: a["decision"] for a in minutes["agenda"]}
    assert decided[str(first)]["decision"] == Decision.DISCUSSED.value
    assert decided[str(first)]["follow_up"] == "match_support"
    assert decided[str(first)]["case_version"] == version + 1
    assert decided[str(second)]["decision"] == "postponed"
    # And once concluded, the minutes are fixed
    done = api.client.post(f"/meetings/{meeting_id}/conclusion", headers=api.auth("kerkrade"))
    assert done.status_code == 200
    late = api.client.delete(
        f"/meetings/{meeting_id}/agenda/{second}", headers=api.auth("kerkrade")
    )
    assert late.status_code == 409
    assert "is concluded" in late.json()["detail"]


def test_a_discussion_with_an_organisation_outside_the_consent_is_refused(api: Api) -> None:
    case_id = consented_for(api, [MIDWIFE])
    meeting_id = plan(api, case_id)
    body = decision(
        case_id,
        lead_organisation=None,
        discussion={"participants": [DEBTS], "scores": SCORES.model_dump(), "needs": []},
    )
    answer = api.client.post(
        f"/meetings/{meeting_id}/decisions", json=body, headers=api.auth("kerkrade")
    )
    assert answer.status_code == 409
    minutes = api.client.get(f"/meetings/{meeting_id}", headers=api.auth("kerkrade")).json()
    assert minutes["agenda"] == [{"case_id": str(case_id), "decision": None}]


ROLES = ("anonymous", "partner", "kerkrade", "landgraaf", "auditor", "admin", "programme_office")
# (method, path, who may): the attending partner reads the agenda, nothing else.
OPERATIONS = (
    ("GET", "/meetings/{m}", {"kerkrade"}),
    ("GET", "/meetings/{m}/agenda", {"kerkrade", "partner"}),
    ("POST", "/meetings/{m}/agenda", {"kerkrade"}),
    ("DELETE", "/meetings/{m}/agenda/{c}", {"kerkrade"}),
    ("POST", "/meetings/{m}/decisions", {"kerkrade"}),
    ("POST", "/meetings/{m}/conclusion", {"kerkrade"}),
)


def test_every_role_gets_what_the_meeting_rules_allow_and_each_request_is_logged(
    api: Api,
) -> None:
    for method, template, allowed in OPERATIONS:
        for role in ROLES:
            case_id = consented_for(api, [MIDWIFE, DEBTS])
            meeting_id = plan(api, case_id)
            path = template.replace("{m}", meeting_id).replace("{c}", str(case_id))
            body = {
                "/meetings/{m}/agenda": {"case_id": str(consented_for(api, [DEBTS]))},
                "/meetings/{m}/decisions": decision(case_id),
            }.get(template)
            before = api.engine.referrals.get_meeting(UUID(meeting_id)).version
            log = api.client.app.state.services.access_log
            logged = len(log.find(AccessQuery(), limit=10_000).entries)
            answer = api.client.request(
                method, path, json=body if method == "POST" else None, headers=api.auth(role)
            )
            expected = (
                200 if role in allowed else {"anonymous": 401, "landgraaf": 404}.get(role, 403)
            )
            assert answer.status_code == expected, (method, template, role, answer.text)
            if role not in allowed:
                after = api.engine.referrals.get_meeting(UUID(meeting_id)).version
                assert after == before, (method, template, role)
            entries = log.find(AccessQuery(), limit=10_000).entries[logged:]
            own = [e for e in entries if not e.object.endswith("(agenda)")]
            assert len(own) == 1, (method, template, role, [e.object for e in entries])
