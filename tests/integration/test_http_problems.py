"""Errors are RFC 9457 problem details, in words a coordinator or partner understands."""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import pytest
import structlog

from ks_engine.demo import demo_bsn
from ks_engine.log import configure_logging
from ks_engine.signal_contract import example_signal
from tests.integration.test_http_stack import LANDGRAAF, MIDWIFE, Api, api

__all__ = ["api"]

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "request_id"}


def problem(response: Any, status: int) -> dict[str, Any]:
    """The response's problem document, checked for the common shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["type"].startswith("urn:ks-engine:problem:")
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert "Traceback" not in response.text
    return body


def test_no_token_and_a_bad_token_answer_401_with_a_bearer_challenge(api: Api) -> None:
    case_id = api.signal()
    missing = api.client.get(f"/cases/{case_id}/history")
    body = problem(missing, 401)
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert "bearer token" in body["detail"]
    wrong = api.client.get(f"/cases/{case_id}/history", headers={"Authorization": "Bearer nope"})
    assert "not valid" in problem(wrong, 401)["detail"]
    basic = api.client.get("/catalog", headers={"Authorization": "Basic dXNlcjpwdw=="})
    problem(basic, 401)


def test_a_role_that_may_not_act_gets_403_naming_the_role(api: Api) -> None:
    case_id = api.signal()
    body = problem(
        api.client.post(f"/cases/{case_id}/consent-request", headers=api.auth("auditor")), 403
    )
    assert body["detail"] == "this is for the coordinator role; you are auditor"


def test_a_case_of_another_municipality_answers_exactly_like_a_missing_case(api: Api) -> None:
    case_id = api.signal()
    other = problem(
        api.client.get(f"/cases/{case_id}/support-suggestions", headers=api.auth("landgraaf")), 404
    )
    missing_id = uuid4()
    missing = problem(
        api.client.get(f"/cases/{missing_id}/support-suggestions", headers=api.auth("landgraaf")),
        404,
    )
    for body in (other, missing):
        del body["request_id"], body["instance"]
    assert other == missing


def test_a_refused_transition_answers_409_with_the_state_and_the_allowed_actions(
    api: Api,
) -> None:
    case_id = api.signal()
    body = problem(
        api.client.post(
            f"/cases/{case_id}/consent",
            headers=api.auth("kerkrade") | api.if_match(case_id),
            json={"decision": "given", "scope": [MIDWIFE]},
        ),
        409,
    )
    assert body["state"] == "signalled"
    assert body["allowed"] == [
        "add_signal",
        "request_consent",
        "escalate",
        "close",
        "record_birth",
        "merge",
        "merge_into",
        "suspend_deadline",
        "resume_deadline",
        "extend_deadline",
        "retract_signal",
        "correct_personal_details",
        "request_transfer",
        "accept_transfer",
        "refuse_transfer",
        "assign",
    ]
    assert "cannot record consent" in body["detail"]


def test_a_discussion_without_consent_is_refused_with_409(api: Api) -> None:
    case_id = api.signal()
    api.advance(case_id, "consent_requested")
    body = problem(
        api.client.post(
            f"/cases/{case_id}/discussion",
            headers=api.auth("kerkrade") | api.if_match(case_id),
            json={
                "on": "2026-11-02",
                "participants": [MIDWIFE],
                "scores": dict.fromkeys(
                    [
                        "bodily_functions",
                        "mental_wellbeing",
                        "meaningfulness",
                        "quality_of_life",
                        "participation",
                        "daily_functioning",
                    ],
                    5,
                ),
            },
        ),
        409,
    )
    assert body["state"] == "consent_requested"
    assert "has not consented" in body["detail"]


def test_if_match_with_the_current_version_applies_and_a_stale_one_answers_412(
    api: Api,
) -> None:
    case_id = api.signal()
    version = api.engine.referrals.get_case(case_id).version
    done = api.client.post(
        f"/cases/{case_id}/consent-request",
        headers=api.auth("kerkrade") | {"If-Match": f'"{version}"'},
    )
    assert done.status_code == 200
    assert done.json()["version"] == version + 1
    assert done.headers["ETag"] == f'"{version + 1}"'
    stale = api.client.post(
        f"/cases/{case_id}/closure",
        headers=api.auth("kerkrade") | {"If-Match": f'"{version}"'},
        json={"outcome": "no_longer_needed", "reason": "geen zorgen meer"},
    )
    body = problem(stale, 412)
    assert body["current_version"] == version + 1
    assert api.engine.referrals.get_case(case_id).state.value == "consent_requested"


def test_a_malformed_if_match_is_a_422_on_that_header(api: Api) -> None:
    case_id = api.signal()
    body = problem(
        api.client.post(
            f"/cases/{case_id}/consent-request",
            headers=api.auth("kerkrade") | {"If-Match": "yesterday"},
        ),
        422,
    )
    assert body["errors"] == [
        {
            "field": "header.if-match",
            "message": 'not a case version: send If-Match: "<version>", e.g. "3"',
        }
    ]


def test_422_lists_each_invalid_field_with_a_readable_message(api: Api) -> None:
    case_id = api.signal()
    api.advance(case_id, "consented")
    response = api.client.post(
        f"/cases/{case_id}/discussion",
        headers=api.auth("kerkrade") | api.if_match(case_id),
        json={
            "on": "someday",
            "participants": [],
            "scores": {"bodily_functions": 11},
            "colour": "blue",
        },
    )
    body = problem(response, 422)
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert fields["body.on"].startswith("Input should be a valid date")
    assert fields["body.participants"] == "List should have at least 1 item after validation, not 0"
    assert fields["body.scores.bodily_functions"] == "Input should be less than or equal to 10"
    assert fields["body.scores.mental_wellbeing"] == "this field is required"
    assert fields["body.colour"] == "Extra inputs are not permitted"
    assert all(set(e) == {"field", "message"} for e in body["errors"])  # never the input


def test_a_consent_rule_of_the_domain_answers_422(api: Api) -> None:
    case_id = api.signal()
    api.advance(case_id, "consent_requested")
    body = problem(
        api.client.post(
            f"/cases/{case_id}/consent",
            headers=api.auth("kerkrade") | api.if_match(case_id),
            json={"decision": "given", "scope": [MIDWIFE], "expires_on": "2020-01-01"},
        ),
        422,
    )
    assert "expiry date lies in the past" in body["detail"]


def test_an_offer_not_on_the_menukaart_is_a_422_on_offer_ids(api: Api) -> None:
    case_id = api.signal()
    api.advance(case_id, "discussed")
    body = problem(
        api.client.post(
            f"/cases/{case_id}/support-match",
            headers=api.auth("kerkrade") | api.if_match(case_id),
            json={
                "offer_ids": ["gouden-kooi"],
                "lead_professional": "x",
                "planned_start": "2026-12-01",
            },
        ),
        422,
    )
    assert body["errors"][0]["field"] == "body.offer_ids"
    assert "not on the menukaart" in body["detail"]


def test_an_invalid_bsn_is_refused_without_repeating_it(api: Api) -> None:
    signal = example_signal("123456789", source=MIDWIFE, event_id="x-1")
    response = api.client.post("/signals", headers=api.auth("partner"), json=signal)
    body = problem(response, 422)
    assert "123456789" not in response.text
    assert any(e["field"] == "body.data.person.bsn" for e in body["errors"])


def test_a_signal_of_an_unknown_type_answers_422_with_the_contracts_code(api: Api) -> None:
    signal = example_signal(demo_bsn(api.rng), source=MIDWIFE) | {
        "type": "nl.kansrijkestart.signal.v2"
    }
    body = problem(api.client.post("/signals", headers=api.auth("partner"), json=signal), 422)
    assert body["code"] == "unsupported_version"


def test_a_partner_cannot_signal_in_another_organisations_name(api: Api) -> None:
    signal = example_signal(demo_bsn(api.rng), source="https://someone-else.nl")
    body = problem(api.client.post("/signals", headers=api.auth("partner"), json=signal), 403)
    assert MIDWIFE in body["detail"]


def test_unknown_addresses_and_methods_are_problems_too(api: Api) -> None:
    problem(api.client.get("/nothing-here"), 404)
    refused = api.client.delete("/catalog", headers=api.auth("kerkrade"))
    assert "use GET" in problem(refused, 405)["detail"]
    assert refused.headers["Allow"] == "GET"
    # Every method served on a path is named, also when separate routes serve them
    services = api.client.patch("/catalog/services", headers=api.auth("admin"))
    assert problem(services, 405)
    assert services.headers["Allow"] == "GET, POST"


def test_each_request_has_one_canonical_log_line_with_its_request_id(
    api: Api, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    configure_logging("info", "json")  # bound to this test's captured stderr
    request.addfinalizer(structlog.reset_defaults)
    case_id = api.signal(LANDGRAAF)
    capsys.readouterr()
    response = api.client.get(f"/cases/{case_id}/support-suggestions", headers=api.auth("kerkrade"))
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line[:1] == "{"]
    requests = [
        line
        for line in lines
        if line.get("event") == "http.request"
        and line.get("request_id") == response.headers["X-Request-ID"]
    ]
    assert len(requests) == 1, lines
    assert requests[0] | {"duration_ms": 0, "timestamp": ""} == {
        "event": "http.request",
        "method": "GET",
        "route": "/cases/{case_id}/support-suggestions",
        "status": 404,
        "principal": "demo-coordinator-kerkrade",
        "role": "coordinator",
        "case_id": str(case_id),
        "request_id": response.headers["X-Request-ID"],
        "level": "info",
        "duration_ms": 0,
        "timestamp": "",
    }


def test_an_oversized_body_is_refused_before_it_is_read(api: Api) -> None:
    body = problem(
        api.client.post(
            "/signals", headers=api.auth("partner"), content=b"{" + b" " * 300_000 + b"}"
        ),
        413,
    )
    assert "exceeds 256 KiB" in body["detail"]


def test_a_get_of_the_search_is_method_not_allowed_not_a_malformed_case_id(api: Api) -> None:
    answer = api.client.get("/cases/search", headers=api.auth("kerkrade"))
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_an_unknown_body_field_named_by_a_bsn_is_refused_without_repeating_it(api: Api) -> None:
    """A field's location names what the sender chose (an unknown key): never a BSN."""
    for key in ("123456782", "a123456782", "x123 456 782b"):
        answer = api.client.post(
            "/cases/search", json={"case_number": "740ce0b5", key: 1}, headers=api.auth("kerkrade")
        )
        body = problem(answer, 422)
        assert body["errors"], body
        assert "123456782" not in answer.text, answer.text
        assert "123 456 782" not in answer.text, answer.text


def test_an_extension_attribute_named_by_a_bsn_is_refused_without_repeating_it(api: Api) -> None:
    """CloudEvents refuses an extension name with capitals; the refusal does not repeat it."""
    for n, name in enumerate(("A123456782", "Bsn123456782", "X_123456782")):
        signal = example_signal("111222333", source=MIDWIFE, event_id=f"ext-{n}") | {name: "x"}
        response = api.client.post("/signals", headers=api.auth("partner"), json=signal)
        body = problem(response, 422)
        assert body["errors"], body
        assert "123456782" not in response.text, response.text
