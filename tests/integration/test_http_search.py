"""POST /cases/search on a real SQLite store: by a household member's BSN, by case number, by
family name and birth date; open and closed cases of the caller's municipalities only; every
search access-logged, and the searched name and BSN in clear nowhere: not in a store, not in a
log line, not in the access log."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from structlog.testing import capture_logs

from domain.household import HouseholdMember, MemberDetails, MemberRole
from domain.values import Outcome, PersonalDetails
from ks_engine import commands as c
from tests.integration.test_http_stack import COORDINATOR, LANDGRAAF, Api, api
from tests.referral_builders import make_signal

__all__ = ["api"]  # the fixture

CO_PARENT = "222222220"  # a valid test BSN, not a person's


def _search(api: Api, who: str = "kerkrade", **body: Any) -> list[dict[str, Any]]:
    got = api.client.post("/cases/search", json=body, headers=api.auth(who))
    assert got.status_code == 200, got.text
    return list(got.json()["items"])


def _with_co_parent(api: Api, case_id: UUID) -> None:
    """A further signal names the co-parent, with her name and birth date (sealed)."""
    case = api.engine.referrals.get_case(case_id)
    ref = api.engine.pseudonymise(CO_PARENT)
    bsn = api.bsns[case_id]
    signal = make_signal(key="jgz#household").model_copy(
        update={
            "municipality": case.municipality,
            "person_pseudonym": api.engine.pseudonymise(bsn),
            "household": (HouseholdMember(role=MemberRole.CO_PARENT, pseudonym=ref),),
            "personal": PersonalDetails(
                household=(
                    MemberDetails(
                        role=MemberRole.CO_PARENT,
                        ref=ref,
                        name="Fatima el Amrani",
                        birth_date=date(1996, 2, 29),
                    ),
                )
            ),
        }
    )
    ctx = c.Context(actor=COORDINATOR, causation_id="household")
    assert api.engine.referrals.receive_signal(signal, ctx).case_id == case_id


def test_search_finds_a_case_by_bsn_number_and_name_and_leaks_nothing(
    api: Api, tmp_path: Path
) -> None:
    case_id = api.signal()
    bsn = api.bsns[case_id]
    _with_co_parent(api, case_id)

    with capture_logs() as logs:
        by_bsn = _search(api, bsn=bsn)
        by_co_parent = _search(api, bsn=CO_PARENT)
        by_short = _search(api, case_number=str(case_id)[:8])
        by_full = _search(api, case_number=str(case_id).upper())
        by_name = _search(api, family_name="TESTOUDER", birth_date="1999-05-17")
        by_co_name = _search(api, family_name="El Amrani", birth_date="1996-02-29")
        wrong_date = _search(api, family_name="Testouder", birth_date="1999-05-18")

    for found in (by_bsn, by_co_parent, by_short, by_full, by_name, by_co_name):
        assert [f["case_id"] for f in found] == [str(case_id)]
        assert found[0]["case_number"] == str(case_id)[:8]
    assert wrong_date == []

    # Searched values in clear: nowhere in the stores, the log lines or the access log.
    access = api.client.get("/audit/access?limit=500", headers=api.auth("auditor")).text
    api.engine.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    for clear in (bsn, CO_PARENT, "Testouder", "TESTOUDER", "Amrani", "1999-05-17"):
        assert clear.encode() not in stored, clear
        assert clear not in json.dumps(logs, default=str), clear
        assert clear not in access, clear
    entries = json.loads(access)["entries"]
    searches = [e for e in entries if e["object"].startswith("POST /cases/search")]
    assert len(searches) == 7
    assert {e["object"] for e in searches} >= {
        "POST /cases/search by bsn (1 found)",
        "POST /cases/search by name (0 found)",
    }
    assert all(e["principal_id"] == "demo-coordinator-kerkrade" for e in searches)


def test_closed_cases_are_found_and_other_municipalities_find_nothing(api: Api) -> None:
    case_id = api.signal()
    bsn = api.bsns[case_id]
    api.engine.referrals.close_case(
        c.Close(case_id=case_id, outcome=Outcome.NO_CONTACT),
        c.Context(actor=COORDINATOR, causation_id="t"),
    )
    found = _search(api, bsn=bsn)
    assert [(f["case_id"], f["state"]) for f in found] == [(str(case_id), "closed")]
    # Landgraaf's coordinator finds nothing, by any criterion: no hint the case exists.
    assert _search(api, "landgraaf", bsn=bsn) == []
    assert _search(api, "landgraaf", case_number=str(case_id)) == []
    assert _search(api, "landgraaf", case_number=str(case_id)[:8]) == []
    assert _search(api, "landgraaf", family_name="Testouder", birth_date="1999-05-17") == []
    in_landgraaf = api.signal(LANDGRAAF)
    assert _search(api, "landgraaf", case_number=str(in_landgraaf)[:8])[0]["municipality"] == (
        LANDGRAAF
    )


def test_erasure_takes_the_case_out_of_name_and_bsn_search(api: Api) -> None:
    case_id = api.signal()
    bsn = api.bsns[case_id]
    assert (
        api.client.post(f"/cases/{case_id}/erasure", headers=api.auth("admin")).status_code == 200
    )
    assert _search(api, bsn=bsn) == []
    assert _search(api, family_name="Testouder", birth_date="1999-05-17") == []
    assert len(_search(api, case_number=str(case_id)[:8])) == 1  # the number is no personal data


def test_a_search_needs_one_criterion_and_is_for_coordinators(api: Api) -> None:
    both = api.client.post(
        "/cases/search",
        json={"bsn": "111222333", "case_number": "abcdef12"},
        headers=api.auth("kerkrade"),
    )
    bad_bsn = api.client.post(
        "/cases/search", json={"bsn": "123456789"}, headers=api.auth("kerkrade")
    )
    partner = api.client.post(
        "/cases/search", json={"case_number": "abcdef12"}, headers=api.auth("partner")
    )
    assert (both.status_code, bad_bsn.status_code, partner.status_code) == (422, 422, 403)
    assert "123456789" not in bad_bsn.text
    assert "111222333" not in both.text
