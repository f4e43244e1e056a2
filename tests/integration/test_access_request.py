"""The right of access (AVG art. 15) over HTTP and on the command line, on a real SQLite
store: from a BSN, everything recorded about the person and their household, complete, with
another adult's details withheld, access-logged with purpose rights."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

from typer.testing import CliRunner

from entrypoints.cli import app as cli
from ks_engine.access_log import AccessLog, AccessQuery
from ks_engine.principals import PrincipalRegistry, Role
from tests.integration.test_household_matching import CHILD, with_household
from tests.integration.test_http_stack import KERKRADE, LANDGRAAF, Api, api
from tests.integration.test_referrals_application import receive, signal_about
from tests.referral_builders import BSN_A, BSN_B, BSN_C

__all__ = ["api"]


def _officer(api: Api, municipality: str) -> dict[str, str]:
    registry = PrincipalRegistry(api.engine.settings.principals_file)
    issued = registry.add(
        role=Role.PRIVACY_OFFICER, organisation=f"fg-{municipality}", municipalities=[municipality]
    )
    return {"Authorization": f"Bearer {issued.token}"}


def _household_case(api: Api) -> UUID:
    """A Kerkrade case of Anna (BSN_A) with Pieter (BSN_B) as co-parent and a born child,
    consent asked and the details opened once by the coordinator."""
    sig = with_household(
        api.engine, signal_about(api.engine, BSN_A, "m#1"), co_parent=BSN_B, child=CHILD
    )
    case_id = receive(api.engine, sig).case_id
    assert case_id is not None
    api.advance(case_id, "consent_requested")
    opened = api.client.get(
        f"/cases/{case_id}/personal?purpose=family_contact", headers=api.auth("kerkrade")
    )
    assert opened.status_code == 200, opened.text
    return case_id


def test_access_export_is_complete_for_the_person_and_withholds_the_other_parent(
    api: Api,
) -> None:
    # Given a household's case, and another person's case in the same municipality
    case_id = _household_case(api)
    other = receive(api.engine, signal_about(api.engine, BSN_C, "m#2")).case_id
    officer = _officer(api, KERKRADE)
    # When the privacy officer asks, with the mother's BSN in the body
    answer = api.client.post("/privacy/access-requests", json={"bsn": BSN_A}, headers=officer)
    # Then the answer holds her one case, and nothing of the other person's
    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    report = answer.json()
    assert [c["case_id"] for c in report["cases"]] == [str(case_id)]
    assert str(other) not in answer.text
    case = report["cases"][0]
    assert (case["role"], case["municipality"], case["state"]) == (
        "parent",
        KERKRADE,
        "consent_requested",
    )
    assert [m["role"] for m in case["household"]] == ["parent", "co_parent", "child", "unborn"]
    # And every event of the case, with who caused it
    stored = list(api.engine.referrals.events.get(case_id))
    assert [e["event"] for e in case["events"]] == [type(e).__name__ for e in stored]
    assert case["events"][0]["details"]["signal"]["risk_factors"] == ["debts", "stress"]
    assert case["events"][1]["organisation"] == "gemeente-kerkrade"
    # And her own details and her child's, but not the co-parent's
    fields = {(f["member"], f["field"]): f["value"] for f in case["personal_details"]["fields"]}
    assert fields[("parent", "name")] == "Anna Jansen"
    assert fields[("child", "birth_date")] == "2024-05-01"
    assert not any(member == "co_parent" for member, _ in fields)
    assert case["personal_details"]["withheld"] == ["co_parent"]
    assert "Pieter Jansen" not in answer.text
    # And the consent and who opened the case's details, when and why
    assert case["consent"]["status"] == "requested"
    reads = [a for a in case["access_log"] if a["action"] == "read personal data"]
    assert [(a["organisation"], a["purpose"]) for a in reads] == [
        ("gemeente-kerkrade", "family_contact")
    ]
    # And no BSN and no pseudonym anywhere in it
    for secret in (BSN_A, BSN_B, CHILD, api.engine.pseudonymise(BSN_A)):
        assert secret not in answer.text


def test_the_co_parent_gets_their_own_details_and_not_the_mothers(api: Api) -> None:
    case_id = _household_case(api)
    answer = api.client.post(
        "/privacy/access-requests", json={"bsn": BSN_B}, headers=_officer(api, KERKRADE)
    )
    case = answer.json()["cases"][0]
    assert (case["case_id"], case["role"]) == (str(case_id), "co_parent")
    fields = {(f["member"], f["field"]): f["value"] for f in case["personal_details"]["fields"]}
    assert fields[("co_parent", "name")] == "Pieter Jansen"
    assert case["personal_details"]["withheld"] == ["parent"]
    assert "Anna Jansen" not in answer.text


def test_the_access_request_is_access_logged_per_case_with_purpose_rights(api: Api) -> None:
    case_id = _household_case(api)
    answer = api.client.post(
        "/privacy/access-requests", json={"bsn": CHILD}, headers=_officer(api, KERKRADE)
    )
    assert [c["role"] for c in answer.json()["cases"]] == ["child"]
    log = AccessLog(api.engine.referrals, api.engine.referrals.clock)
    entries = log.find(AccessQuery(), limit=1000).entries
    rights = [e for e in entries if e.purpose.value == "rights"]
    assert {(e.case_id, e.action.value, e.role) for e in rights} == {
        (None, "read personal data", "privacy_officer"),  # the request itself
        (case_id, "read personal data", "privacy_officer"),  # the case it reported
    }
    assert all(CHILD not in e.object for e in entries)


def test_the_printable_page_is_dutch_and_names_no_bsn(api: Api) -> None:
    case_id = _household_case(api)
    page = api.client.post(
        "/privacy/access-requests",
        json={"bsn": BSN_A, "format": "html"},
        headers=_officer(api, KERKRADE),
    )
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="nl">' in page.text
    assert "Inzage in uw gegevens (AVG artikel 15)" in page.text
    assert f"Casus {str(case_id)[:8]}" in page.text
    assert "Anna Jansen" in page.text
    assert "Pieter Jansen" not in page.text
    assert "Signaal ontvangen" in page.text
    assert "contact met de familie" in page.text
    for secret in (BSN_A, BSN_B, api.engine.pseudonymise(BSN_A)):
        assert secret not in page.text


def test_the_access_export_holds_the_coordinators_notes_until_they_are_erased(api: Api) -> None:
    # Given a coordinator's note on the mother's case
    case_id = _household_case(api)
    note = "Moeder belt liever na 16 uur; schulden bij de woningcorporatie."
    added = api.client.post(
        f"/cases/{case_id}/notes", json={"text": note}, headers=api.auth("kerkrade")
    )
    assert added.status_code == 201, added.text
    officer = _officer(api, KERKRADE)
    # When the privacy officer answers her access request
    answer = api.client.post("/privacy/access-requests", json={"bsn": BSN_A}, headers=officer)
    assert answer.status_code == 200, answer.text
    notes = answer.json()["cases"][0]["notes"]
    # Then the note is in it, opened, with who wrote it
    assert notes["status"] == "present"
    assert [(n["number"], n["text"]) for n in notes["notes"]] == [(1, note)]
    assert notes["notes"][0]["organisation"] == "gemeente-kerkrade"
    page = api.client.post(
        "/privacy/access-requests", json={"bsn": BSN_A, "format": "html"}, headers=officer
    )
    assert "Notities van de coördinatoren" in page.text
    assert note in page.text


def test_only_a_privacy_officer_asks_and_only_for_their_municipalities(api: Api) -> None:
    _household_case(api)
    body = {"bsn": BSN_A}
    elsewhere = api.client.post(
        "/privacy/access-requests", json=body, headers=_officer(api, LANDGRAAF)
    )
    assert elsewhere.status_code == 200
    assert elsewhere.json()["cases"] == []
    for who in ("kerkrade", "auditor", "admin"):
        refused = api.client.post("/privacy/access-requests", json=body, headers=api.auth(who))
        assert refused.status_code == 403, who
    wrong = api.client.post(
        "/privacy/access-requests", json={"bsn": "123456789"}, headers=_officer(api, KERKRADE)
    )
    assert wrong.status_code == 422
    assert "123456789" not in wrong.text


def test_the_cli_answers_from_a_bsn_file_as_json_and_html(api: Api, tmp_path: Path) -> None:
    case_id = _household_case(api)
    bsn_file = tmp_path / "verzoek.txt"
    bsn_file.write_text(f"{BSN_A}\n")
    env = {"KS_DATA_DIR": str(api.engine.settings.data_dir)}
    runner = CliRunner()
    as_json = runner.invoke(
        cli, ["privacy", "access", "--bsn-file", str(bsn_file), "--user", "fg-1"], env=env
    )
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.stdout)
    assert [c["case_id"] for c in report["cases"]] == [str(case_id)]
    page = tmp_path / "inzage.html"
    as_html = runner.invoke(
        cli,
        [
            "privacy",
            "access",
            "--bsn-file",
            str(bsn_file),
            "--format",
            "html",
            "--output",
            str(page),
            "--user",
            "fg-1",
        ],
        env=env,
    )
    assert as_html.exit_code == 0, as_html.output
    assert page.stat().st_mode & 0o777 == 0o600
    assert "Inzage in uw gegevens" in page.read_text()
    assert BSN_A not in as_json.output + as_html.output
    log = AccessLog(api.engine.referrals, api.engine.referrals.clock)
    cli_entries = [
        e
        for e in log.find(AccessQuery(case_id=case_id), limit=1000).entries
        if e.principal_id == "fg-1"
    ]
    assert [(e.role, e.purpose.value) for e in cli_entries] == [("privacy_officer", "rights")] * 2
