"""No answer without its access-log entry: a store that cannot take the entry refuses the
request, and a request that fails inside is logged with the 500 it was answered."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from tests.integration.test_http_stack import Api, api

__all__ = ["api"]


def _access_log(api: Api) -> Any:
    app: Any = api.client.app
    return app.state.services.access_log


def _entries(api: Api) -> list[dict[str, Any]]:
    response = api.client.get("/audit/access?limit=500", headers=api.auth("auditor"))
    assert response.status_code == 200
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


def test_an_access_that_cannot_be_logged_is_refused_and_shows_nothing(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = api.signal()
    path = f"/cases/{case_id}/support-suggestions"
    commits = _access_log(api)._commits

    def failing_save(*records: Any) -> Any:
        raise sqlite3.OperationalError("disk I/O error")

    with monkeypatch.context() as patch:
        patch.setattr(commits, "_save", failing_save)
        refused = api.client.get(path, headers=api.auth("kerkrade"))
    assert refused.status_code == 500
    body = refused.json()
    assert body["detail"] == "the access could not be logged, so it is refused; try again"
    assert set(body) == {"type", "title", "status", "detail", "instance", "request_id"}
    assert refused.headers["X-Request-ID"] == body["request_id"]
    assert refused.headers["Cache-Control"] == "no-store"
    answered = api.client.get(path, headers=api.auth("kerkrade"))
    assert answered.status_code == 200
    logged = [e for e in _entries(api) if e["case_id"] == str(case_id)]
    assert [(e["request_id"], e["status"]) for e in logged] == [
        (answered.headers["X-Request-ID"], 200)
    ]


def test_a_request_that_fails_inside_is_answered_500_and_logged_as_an_error(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = api.signal()

    def broken(*args: Any) -> Any:
        raise RuntimeError("a fault inside the engine")

    monkeypatch.setattr(api.engine.referrals, "suggest_support", broken)
    response = api.client.get(f"/cases/{case_id}/support-suggestions", headers=api.auth("kerkrade"))
    assert response.status_code == 500
    assert response.json()["request_id"] == response.headers["X-Request-ID"]
    [entry] = [e for e in _entries(api) if e["case_id"] == str(case_id)]
    assert (entry["request_id"], entry["status"], entry["outcome"]) == (
        response.headers["X-Request-ID"],
        500,
        "error",
    )
