"""Erasure over HTTP: the admin's endpoint, on a real SQLite store, in the access log."""

from __future__ import annotations

from typer.testing import CliRunner

from entrypoints.cli import app as cli
from tests.integration.test_http_stack import Api, api

__all__ = ["api"]  # the fixture


def test_the_admin_erases_a_case_and_repeating_it_changes_nothing(api: Api) -> None:
    # Given a case whose personal details are present
    case_id = api.signal()
    assert api.engine.referrals.personal_details(case_id).status == "present"
    # When the admin asks for its erasure, twice
    first = api.client.post(f"/cases/{case_id}/erasure", headers=api.auth("admin"))
    again = api.client.post(f"/cases/{case_id}/erasure", headers=api.auth("admin"))
    # Then the first records the erasure, the second changes nothing
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 2
    assert again.status_code == 200, again.text
    assert again.json()["version"] == 2
    assert api.engine.referrals.personal_details(case_id).status == "erased"
    # And both requests are in the access log as deletions by the admin on that case
    log = api.client.get(f"/audit/access?case_id={case_id}", headers=api.auth("auditor")).json()
    deletions = [e for e in log["entries"] if e["action"] == "delete"]
    assert [(e["principal_id"], e["outcome"]) for e in deletions] == [("demo-admin", "allowed")] * 2
    # And the audit trail, access-log entries included, still verifies
    env = {"KS_DATA_DIR": str(api.engine.settings.data_dir)}
    # (exit 3: intact, with no checkpoint kept outside the database to compare with)
    verified = CliRunner().invoke(cli, ["audit", "verify", "--grace", "0"], env=env)
    assert verified.exit_code == 3, verified.output
    assert "Audit trail intact" in verified.output


def test_a_coordinator_cannot_erase(api: Api) -> None:
    case_id = api.signal()
    refused = api.client.post(f"/cases/{case_id}/erasure", headers=api.auth("kerkrade"))
    assert refused.status_code == 403
    assert api.engine.referrals.personal_details(case_id).status == "present"
