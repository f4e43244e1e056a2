"""The NEN 7513 access log in the event store: complete, filterable, durable, pseudonymous."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from uuid import uuid4

from ks_engine.access_log import AccessLog, AccessQuery
from ks_engine.bootstrap import bootstrap
from ks_engine.demo import demo_bsn
from ks_engine.signal_contract import example_signal
from tests.conftest import FixedClock
from tests.integration.test_http_stack import LANDGRAAF, MIDWIFE, Api, api

__all__ = ["api"]


def _entries(api: Api, query: str = "") -> list[dict[str, object]]:
    response = api.client.get(f"/audit/access?limit=500{query}", headers=api.auth("auditor"))
    assert response.status_code == 200
    entries: list[dict[str, object]] = response.json()["entries"]
    return entries


def test_an_entry_holds_every_nen_7513_field(api: Api) -> None:
    case_id = api.signal()
    response = api.client.post(
        f"/cases/{case_id}/consent-request", headers=api.auth("kerkrade") | api.if_match(case_id)
    )
    [entry] = _entries(api)
    assert entry == {
        "event_id": entry["event_id"],
        "position": entry["position"],
        "occurred_at": "2026-11-02T09:30:00+01:00",
        "action": "update",
        "outcome": "allowed",
        "principal_id": "demo-coordinator-kerkrade",
        "role": "coordinator",
        "organisation": "gemeente-kerkrade",
        "purpose": "coordination",
        "source_address": "testclient",
        "request_id": response.headers["X-Request-ID"],
        "case_id": str(case_id),
        "person_pseudonym": api.engine.referrals.get_case(case_id).person_pseudonym,
        "municipality": "GM0928",
        "object": "POST /cases/{case_id}/consent-request",
        "query_length": None,
        "person": None,  # a token, not a person signed in at an identity provider
        "status": 200,
    }


def test_reading_the_log_is_logged_too(api: Api) -> None:
    first = _entries(api)
    assert first == []
    second = _entries(api, "&principal_id=demo-auditor")
    assert [e["object"] for e in second] == ["GET /audit/access?limit=500"]


def test_filters_by_case_principal_and_period_and_pages_with_a_cursor(
    api: Api, clock: FixedClock
) -> None:
    a, b = api.signal(), api.signal(LANDGRAAF)
    api.client.get(f"/cases/{a}/support-suggestions", headers=api.auth("kerkrade"))
    clock.advance(days=1)
    api.client.get(f"/cases/{b}/support-suggestions", headers=api.auth("landgraaf"))
    api.client.get(f"/cases/{a}/support-suggestions", headers=api.auth("landgraaf"))  # denied
    by_case = _entries(api, f"&case_id={a}")
    assert [(e["principal_id"], e["outcome"]) for e in by_case] == [
        ("demo-coordinator-kerkrade", "allowed"),
        ("demo-coordinator-landgraaf", "denied"),
    ]
    by_principal = _entries(api, "&principal_id=demo-coordinator-landgraaf")
    assert [e["case_id"] for e in by_principal] == [str(b), str(a)]
    day_two = clock.now.replace(hour=0, minute=0).isoformat().replace("+", "%2B")
    in_period = _entries(api, f"&principal_id=demo-coordinator-kerkrade&since={day_two}")
    assert in_period == []
    until = (clock.now - timedelta(hours=1)).isoformat()
    before = _entries(api, f"&until={until.replace('+', '%2B')}")
    assert [e["case_id"] for e in before] == [str(a)]
    page = api.client.get("/audit/access?limit=2", headers=api.auth("auditor")).json()
    assert len(page["entries"]) == 2
    rest = api.client.get(
        f"/audit/access?limit=500&cursor={page['next_cursor']}", headers=api.auth("auditor")
    ).json()
    assert rest["entries"][0]["position"] > page["entries"][-1]["position"]


def test_the_log_survives_a_restart(api: Api, clock: FixedClock) -> None:
    case_id = api.signal()
    api.client.get(f"/cases/{case_id}/support-suggestions", headers=api.auth("kerkrade"))
    api.engine.close()
    again = bootstrap(api.engine.settings, clock=clock, configure_logs=False)
    try:
        page = AccessLog(again.referrals, clock).find(AccessQuery(case_id=case_id))
        assert [e.object for e in page.entries] == ["GET /cases/{case_id}/support-suggestions"]
    finally:
        again.close()


def test_a_signal_is_logged_without_its_pseudonym_and_no_bsn_reaches_the_store(
    api: Api, tmp_path: Path
) -> None:
    bsn = demo_bsn(api.rng)
    signal = example_signal(bsn, source=MIDWIFE, event_id=str(uuid4()))
    response = api.client.post("/signals", headers=api.auth("partner"), json=signal)
    assert response.status_code == 503  # no NATS in this test: refused, but logged
    [entry] = [e for e in _entries(api) if e["action"] == "create"]
    assert entry["person_pseudonym"] is None  # it would outlive the case's erasure
    assert entry["outcome"] == "error"
    assert bsn.encode() not in api.engine.settings.sqlite_path.read_bytes()
