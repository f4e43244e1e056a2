"""The HTTP API's edges, on a real uvicorn server: bodies, preconditions, headers, queries.

A body is read only after its sender is authenticated and never past 256 KiB, whatever its
transfer encoding; a case command names the version it is based on; the access log keeps a
bounded query; every answer forbids caching and sniffing; dates in queries are ISO 8601.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote_plus
from uuid import UUID

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.redaction import bsn_spans
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.principals import create_demo_principals, registry_for
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.http_server import chunk, closed_by_server, connect, head, read_answer, served
from tests.integration.test_http_stack import Api

LIMIT = 256 * 1024
IDS = {
    "kerkrade": "demo-coordinator-kerkrade",
    "partner": "demo-partner-midwife",
    "auditor": "demo-auditor",
}


@dataclass
class Served:
    """The API on a real server, the engine under it and the demo principals' tokens."""

    base: str
    engine: Engine
    tokens: dict[str, str]
    api: Api  # to open cases through the application, as the intake does

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[IDS[who]]}"}

    def access(self, request_id: str) -> dict[str, Any]:
        """The access-log entry of one request, read by the auditor over HTTP."""
        entries = httpx.get(
            f"{self.base}/audit/access?limit=500", headers=self.auth("auditor")
        ).json()["entries"]
        [entry] = [e for e in entries if e["request_id"] == request_id]
        return dict(entry)


@pytest.fixture
def server(tmp_path: Path, clock: FixedClock) -> Iterator[Served]:
    config = Settings(data_dir=tmp_path / "data", store="sqlite")
    engine = bootstrap(config, clock=clock, configure_logs=False)
    issued = create_demo_principals(registry_for(config, clock))
    tokens = {i.principal.id: i.token for i in issued}
    try:
        with served(engine) as base:
            opener = Api(engine, cast(Any, None), tokens, random.Random(3))  # no TestClient
            yield Served(base, engine, tokens, opener)
    finally:
        engine.close()


def _problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status == status, answer.body
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = json.loads(answer.body)
    assert body["status"] == status
    return body


# --- bodies ---------------------------------------------------------------------------------


def test_a_chunked_body_past_the_limit_is_refused_with_413_before_it_ends(
    server: Served,
) -> None:
    case_id = server.api.signal()
    headers = server.auth("kerkrade") | {
        "Transfer-Encoding": "chunked",
        "Content-Type": "application/json",
        "If-Match": '"1"',
    }
    with connect(server.base) as sock:
        sock.sendall(head("POST", f"/cases/{case_id}/consent", headers))
        sent = 0
        while sent <= LIMIT:  # one byte past the limit, and the body never ends
            piece = b" " * min(16 * 1024, LIMIT + 1 - sent)
            sock.sendall(chunk(piece))
            sent += len(piece)
        answer = read_answer(sock)
        body = _problem(answer, 413)
        assert "exceeds 256 KiB" in body["detail"]
        assert answer.headers["connection"] == "close"
        assert closed_by_server(sock)  # the rest is never read
    assert server.engine.referrals.get_case(case_id).version == 1


def test_a_partners_endless_chunked_signal_is_cut_off_after_the_limit(server: Served) -> None:
    streamed = 0

    def endless() -> Iterator[bytes]:
        nonlocal streamed
        for _ in range(200 * 16):  # 200 MB, if the server read it all
            streamed += 64 * 1024
            yield b" " * (64 * 1024)

    try:
        answer = httpx.post(
            f"{server.base}/signals",
            content=endless(),
            headers=server.auth("partner") | {"Content-Type": "application/json"},
            timeout=20,
        )
        assert answer.status_code == 413, answer.text
    except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
        pass  # the server closed the connection while the client was still sending
    assert streamed < 64 * 1024 * 1024  # far from all of it: sending stopped when it closed


def test_a_declared_length_past_the_limit_is_refused_before_any_byte_is_sent(
    server: Served,
) -> None:
    headers = server.auth("partner") | {
        "Content-Length": str(LIMIT + 1),
        "Content-Type": "application/json",
    }
    with connect(server.base) as sock:
        sock.sendall(head("POST", "/signals", headers))  # and not one byte of the body
        body = _problem(read_answer(sock), 413)
    assert "exceeds 256 KiB" in body["detail"]


def test_an_anonymous_chunked_body_is_refused_with_401_unread_and_logged(server: Served) -> None:
    headers = {"Transfer-Encoding": "chunked", "Content-Type": "application/json"}
    with connect(server.base) as sock:
        sock.sendall(head("POST", "/signals", headers) + chunk(b'{"broken": '))
        answer = read_answer(sock)
        body = _problem(answer, 401)
        assert answer.headers["www-authenticate"] == "Bearer"
        assert "bearer token" in body["detail"]
        assert closed_by_server(sock)
    entry = server.access(body["request_id"])
    assert (entry["outcome"], entry["status"], entry["principal_id"]) == ("denied", 401, None)
    assert entry["object"] == "POST /signals"


@pytest.mark.parametrize(
    "path", ["/signals", "/cases/00000000-0000-0000-0000-000000000001/discussion"]
)
def test_an_anonymous_broken_body_gets_401_not_a_parse_error(server: Served, path: str) -> None:
    for bad in (b"{not json", b"[" * 5000, b"\xff\xfe"):
        answer = httpx.post(
            f"{server.base}{path}", content=bad, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 401, answer.text
        entry = server.access(answer.headers["X-Request-ID"])
        assert entry["outcome"] == "denied"


def test_a_wrong_token_with_a_huge_body_is_refused_without_reading_it(server: Served) -> None:
    headers = {
        "Authorization": "Bearer ks_not-a-token",
        "Content-Length": str(10 * 1024 * 1024),
        "Content-Type": "application/json",
    }
    with connect(server.base) as sock:
        sock.sendall(head("POST", "/signals", headers) + b"{")
        answer = read_answer(sock)
        assert "not valid" in _problem(answer, 401)["detail"]
        assert closed_by_server(sock)


def test_a_chunked_body_within_the_limit_is_read_whole(server: Served) -> None:
    case_id = server.api.signal()
    server.api.advance(case_id, "consent_requested")
    payload = json.dumps({"decision": "declined"}).encode()
    headers = server.auth("kerkrade") | {
        "Transfer-Encoding": "chunked",
        "Content-Type": "application/json",
        "If-Match": '"2"',
    }
    with connect(server.base) as sock:
        pieces = [payload[:5], payload[5:]]
        sock.sendall(head("POST", f"/cases/{case_id}/consent", headers))
        sock.sendall(b"".join(chunk(p) for p in pieces) + b"0\r\n\r\n")
        answer = read_answer(sock)
    assert answer.status == 200, answer.body
    assert "connection" not in answer.headers  # the body was read: the connection stays
    assert server.engine.referrals.get_case(case_id).state.value == "consent_declined"


# --- preconditions --------------------------------------------------------------------------


@pytest.mark.parametrize("if_match", [None, "*"])
def test_a_case_command_without_a_version_is_refused_with_428_and_changes_nothing(
    server: Served, if_match: str | None
) -> None:
    case_id = server.api.signal()
    headers = server.auth("kerkrade") | ({"If-Match": if_match} if if_match else {})
    answer = httpx.post(
        f"{server.base}/cases/{case_id}/closure", headers=headers, json={"outcome": "no_contact"}
    )
    assert answer.status_code == 428, answer.text
    body = answer.json()
    assert body["type"] == "urn:ks-engine:problem:precondition-required"
    assert 'If-Match: "<version>"' in body["detail"]
    assert f"GET /cases/{case_id}" in body["detail"]
    assert server.engine.referrals.get_case(case_id).state.value == "signalled"
    entry = server.access(answer.headers["X-Request-ID"])
    assert (entry["outcome"], entry["status"]) == ("error", 428)


def test_the_etag_of_a_case_is_what_its_next_command_sends(server: Served) -> None:
    case_id = server.api.signal()
    version = server.engine.referrals.get_case(case_id).version
    for tag in (f'"{version}"', f'W/"{version}"', str(version)):
        stale_or_done = httpx.post(
            f"{server.base}/cases/{case_id}/consent-request",
            headers=server.auth("kerkrade") | {"If-Match": tag},
        )
        assert stale_or_done.status_code in (200, 409, 412), stale_or_done.text
    assert server.engine.referrals.get_case(case_id).version == version + 1  # once


# --- headers --------------------------------------------------------------------------------


def test_every_answer_forbids_caching_and_sniffing(server: Served) -> None:
    case_id: UUID = server.api.signal()
    kerkrade = server.auth("kerkrade")
    answers = [
        httpx.get(f"{server.base}/health"),
        httpx.get(f"{server.base}/metrics"),
        httpx.get(f"{server.base}/openapi.json"),
        httpx.get(f"{server.base}/catalog", headers=kerkrade),
        httpx.get(f"{server.base}/catalog"),  # 401
        httpx.get(f"{server.base}/nothing-here"),  # 404
        httpx.post(f"{server.base}/cases/{case_id}/closure", headers=kerkrade, json={}),  # 428
        httpx.get(f"{server.base}/stats?until=0", headers=kerkrade),  # 422
        httpx.post(f"{server.base}/signals", headers=server.auth("partner"), json={}),
        httpx.get(f"{server.base}/dashboard/inloggen"),
        httpx.get(f"{server.base}/dashboard/werkvoorraad"),  # the sign-in form, 401
        httpx.get(f"{server.base}/dashboard/static/dashboard.css"),
    ]
    for answer in answers:
        where = (answer.request.url.path, answer.status_code)
        assert answer.headers["Cache-Control"] == "no-store", where
        assert answer.headers["X-Content-Type-Options"] == "nosniff", where
    assert {a.status_code for a in answers} >= {200, 401, 404, 422, 428}


# --- access log -----------------------------------------------------------------------------


def test_the_access_log_keeps_2_kib_of_a_long_query_and_its_length(server: Served) -> None:
    query = "cursor=" + "a" * 12_000 + "&bsn=111222333"
    answer = httpx.get(f"{server.base}/cases?{query}", headers=server.auth("kerkrade"))
    assert answer.status_code == 422  # the cursor is too long; the request is logged all the same
    entry = server.access(answer.headers["X-Request-ID"])
    assert entry["query_length"] == len(query)
    assert entry["object"] == f"GET /cases?{query[:2048]}"
    short = httpx.get(f"{server.base}/cases?limit=5&x=111222333", headers=server.auth("kerkrade"))
    logged = server.access(short.headers["X-Request-ID"])
    assert "111222333" not in logged["object"]  # a BSN-like number is never stored
    assert logged["query_length"] == len("limit=5&x=111222333")


# --- dates ----------------------------------------------------------------------------------


def test_dates_and_moments_in_queries_are_iso_8601_only(server: Served) -> None:
    auditor, kerkrade = server.auth("auditor"), server.auth("kerkrade")
    for path, field in (
        ("/audit/access?until=0", "query.until"),
        ("/audit/access?since=1700000000", "query.since"),
        ("/audit/access?since=2026-11-02", "query.since"),  # a day is not a moment
        ("/stats?until=0", "query.until"),
        ("/stats?since=20261102", "query.since"),
    ):
        answer = httpx.get(f"{server.base}{path}", headers=auditor if "audit" in path else kerkrade)
        assert answer.status_code == 422, (path, answer.text)
        assert [e["field"] for e in answer.json()["errors"]] == [field], path
        assert "ISO 8601" in answer.json()["errors"][0]["message"]
    assert (
        httpx.get(
            f"{server.base}/audit/access",
            params={"since": "2026-11-01T00:00:00+01:00", "until": "2026-11-03T00:00:00Z"},
            headers=auditor,
        ).status_code
        == 200
    )
    assert (
        httpx.get(
            f"{server.base}/stats?since=2026-01-01&until=2026-12-31", headers=kerkrade
        ).status_code
        == 200
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    value=st.one_of(
        st.integers().map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(str),
        st.text(alphabet="0123456789-.:+eE ", max_size=12),
    )
)
def test_no_number_is_ever_read_as_a_date(server: Served, value: str) -> None:
    for path, who in (("/audit/access", "auditor"), ("/stats", "kerkrade")):
        answer = httpx.get(
            f"{server.base}{path}", params={"until": value}, headers=server.auth(who)
        )
        if answer.status_code == 200:  # only a real ISO 8601 date (or moment) gets through
            parse = date.fromisoformat if path == "/stats" else datetime.fromisoformat
            assert parse(value), value
        else:
            assert answer.status_code == 422, answer.text


def test_a_dashboard_form_without_a_sign_in_is_answered_before_its_body_is_read(
    server: Served,
) -> None:
    case_id = server.api.signal()
    headers = {"Transfer-Encoding": "chunked", "Content-Type": "application/x-www-form-urlencoded"}
    with connect(server.base) as sock:
        path = f"/dashboard/casus/{case_id}/consent-request"
        sock.sendall(head("POST", path, headers) + chunk(b"csrf=x&version=1&" + b"a" * 1000))
        answer = read_answer(sock)  # the body never ends: only an answer before it can come
        assert answer.status == 401
        assert "Log in met uw toegangscode" in answer.body.decode()
        assert closed_by_server(sock)
    assert server.engine.referrals.get_case(case_id).version == 1


def _signed_in(client: httpx.Client, token: str, case_id: UUID) -> str:
    """Sign in through the form; the CSRF token of the case page's forms."""
    form = client.get("/dashboard/inloggen")
    nonce = form.text.split('name="nonce" value="')[1].split('"')[0]
    signed = client.post(
        "/dashboard/inloggen", data={"token": token, "nonce": nonce}, follow_redirects=False
    )
    assert signed.status_code == 303
    page = client.get(f"/dashboard/casus/{case_id}")
    return page.text.split('name="csrf" value="')[1].split('"')[0]


def test_a_dashboard_form_without_its_version_records_nothing(server: Served) -> None:
    case_id = server.api.signal()
    with httpx.Client(base_url=server.base) as client:
        csrf = _signed_in(client, server.tokens[IDS["kerkrade"]], case_id)
        answer = client.post(f"/dashboard/casus/{case_id}/consent-request", data={"csrf": csrf})
    assert answer.status_code == 428
    assert "welke versie van de casus" in answer.text
    assert server.engine.referrals.get_case(case_id).version == 1


def test_a_dashboard_form_past_the_limit_gets_a_dutch_page_and_records_nothing(
    server: Served,
) -> None:
    case_id = server.api.signal()
    with httpx.Client(base_url=server.base) as client:
        csrf = _signed_in(client, server.tokens[IDS["kerkrade"]], case_id)
        answer = client.post(
            f"/dashboard/casus/{case_id}/escalation",
            data={"csrf": csrf, "version": "1", "justification": "x" * LIMIT},
        )
    assert answer.status_code == 413
    assert answer.headers["content-type"].startswith("text/html")
    assert "Het formulier is groter dan 256 KiB" in answer.text
    assert server.engine.referrals.get_case(case_id).version == 1


def test_a_bsn_in_a_query_is_not_stored_however_it_was_typed_or_encoded(server: Served) -> None:
    # A search box sent with GET (the privacy officer's case number on the rights page) puts
    # what was typed in the query: grouped with spaces it arrives as + or %20, glued to text.
    for typed in ("111+222+333", "111%20222%20333", "111.222.333", "a111222333", "%31%31%31222333"):
        answer = httpx.get(f"{server.base}/cases?x={typed}", headers=server.auth("kerkrade"))
        logged = server.access(answer.headers["X-Request-ID"])["object"]
        assert bsn_spans(unquote_plus(logged)) == [], (typed, logged)
