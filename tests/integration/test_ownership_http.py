"""Who owns a case and the coordinators' notes, over the API and the dashboard, on a real
SQLite store with its read models."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from adapters.persistence.sqlite_views import SqliteViewDatabase
from domain.case_notes import CaseNotes, notes_id
from ks_engine.principals import PrincipalRegistry, Role
from tests.integration.test_after_match_http import version
from tests.integration.test_dashboard_pages import NAMES, sign_in
from tests.integration.test_http_read_models import project, viewed
from tests.integration.test_http_stack import KERKRADE, Api

__all__ = ["viewed"]
Viewed = tuple[Api, SqliteViewDatabase]
ME = "demo-coordinator-kerkrade"
TEXT = "Moeder belt liever 's avonds; vader weet nog niet van de aanmelding."


def _colleague(api: Api) -> str:
    """A second coordinator of Kerkrade (``ks principals add``)."""
    registry = PrincipalRegistry(api.engine.settings.principals_file)
    registry.add(
        role=Role.COORDINATOR,
        organisation="gemeente-kerkrade",
        municipalities=["GM0928"],
        principal_id="coordinator-kerkrade-2",
    )
    return "coordinator-kerkrade-2"


def _queue(api: Api, query: str = "") -> list[str]:
    items = api.client.get(f"/cases?{query}", headers=api.auth("kerkrade")).json()["items"]
    return [i["case_id"] for i in items]


def _access(api: Api, request_id: str) -> dict[str, Any]:
    entries = api.client.get("/audit/access?limit=500", headers=api.auth("auditor")).json()
    (entry,) = [e for e in entries["entries"] if e["request_id"] == request_id]
    return dict(entry)


def test_a_coordinator_takes_a_case_and_assigns_another_to_a_colleague(viewed: Viewed) -> None:
    api, views = viewed
    colleague = _colleague(api)
    mine, theirs, nobodys = (str(api.signal(KERKRADE)) for _ in range(3))
    kerkrade = api.auth("kerkrade")

    taken = api.client.post(
        f"/cases/{mine}/assignment", headers=kerkrade | version(api, mine), json={}
    )
    assert taken.status_code == 200, taken.text
    given = api.client.post(
        f"/cases/{theirs}/assignment",
        headers=kerkrade | version(api, theirs),
        json={"coordinator": colleague},
    )
    assert given.status_code == 200, given.text
    project(api, views)

    assert _queue(api, "assignment=mine") == [mine]
    assert _queue(api, "assignment=unassigned") == [nobodys]
    assert set(_queue(api)) == {mine, theirs, nobodys}
    rows = {
        i["case_id"]: i["assignee"]
        for i in api.client.get("/cases", headers=kerkrade).json()["items"]
    }
    assert rows == {mine: ME, theirs: colleague, nobodys: None}
    view = api.client.get(f"/cases/{theirs}", headers=kerkrade).json()
    assert view["assignee"] == colleague
    history = api.client.get(f"/cases/{theirs}/history", headers=kerkrade).json()["events"]
    assert (history[-1]["event"], history[-1]["details"]) == (
        "Assigned",
        {"coordinator": colleague},
    )
    assert api.engine.referrals.get_case(UUID(theirs)).state.value == "signalled"


def test_an_assignment_outside_the_knooppunt_is_refused_in_words(viewed: Viewed) -> None:
    api, _ = viewed
    case_id = str(api.signal(KERKRADE))
    kerkrade = api.auth("kerkrade")
    url = f"/cases/{case_id}/assignment"

    other = api.client.post(
        url,
        headers=kerkrade | version(api, case_id),
        json={"coordinator": "demo-coordinator-landgraaf"},
    )
    assert other.status_code == 422, other.text
    assert "not a coordinator of GM0928" in other.json()["detail"]
    missing = api.client.post(url, headers=kerkrade, json={})
    assert missing.status_code == 428
    partner = api.client.post(url, headers=api.auth("partner") | version(api, case_id), json={})
    assert partner.status_code == 403
    landgraaf = api.client.post(url, headers=api.auth("landgraaf") | version(api, case_id), json={})
    assert landgraaf.status_code == 404
    api.client.post(url, headers=kerkrade | version(api, case_id), json={})
    again = api.client.post(url, headers=kerkrade | version(api, case_id), json={})
    assert again.status_code == 422, again.text
    assert f"already assigned to {ME}" in again.json()["detail"]
    stale = api.client.post(url, headers=kerkrade | {"If-Match": '"1"'}, json={"coordinator": "x"})
    assert stale.status_code in (412, 422)
    assert api.engine.referrals.get_case(UUID(case_id)).version == 2  # nothing else recorded


def test_notes_are_sealed_read_with_a_purpose_and_logged(viewed: Viewed) -> None:
    api, views = viewed
    case_id = api.signal(KERKRADE)
    url = f"/cases/{case_id}/notes"
    kerkrade = api.auth("kerkrade")
    before = api.engine.referrals.get_case(case_id).version

    added = api.client.post(url, headers=kerkrade, json={"text": TEXT})
    assert added.status_code == 201, added.text
    assert added.json() == {"case_id": str(case_id), "number": 1}
    second = api.client.post(url, headers=kerkrade, json={"text": "BSN 111222333 genoemd"})
    assert second.status_code == 201, second.text
    # The case itself is unchanged: other coordinators' If-Match stays valid.
    assert api.engine.referrals.get_case(case_id).version == before

    no_purpose = api.client.get(url, headers=kerkrade)
    assert no_purpose.status_code == 422
    got = api.client.get(f"{url}?purpose=coordination", headers=kerkrade)
    assert got.status_code == 200, got.text
    assert got.headers["Cache-Control"] == "no-store"
    body = got.json()
    assert body["status"] == "present"
    assert [(n["number"], n["text"], n["author"]) for n in body["notes"]] == [
        (1, TEXT, ME),
        (2, "BSN [BSN] genoemd", ME),
    ]
    assert {n["confidentiality"] for n in body["notes"]} == {"notes"}
    entry = _access(api, got.headers["X-Request-ID"])
    assert (entry["action"], entry["purpose"], entry["case_id"]) == (
        "read personal data",
        "coordination",
        str(case_id),
    )
    # Only the case's coordinators read them; a partner or another municipality does not.
    assert (
        api.client.get(f"{url}?purpose=coordination", headers=api.auth("partner")).status_code
        == 403
    )
    other = api.client.get(f"{url}?purpose=coordination", headers=api.auth("landgraaf"))
    assert other.status_code == 404
    assert _access(api, other.headers["X-Request-ID"])["outcome"] == "denied"
    # Stored sealed: the event store holds no word of the text, the views and history neither.
    stored = list(api.engine.referrals.events.get(notes_id(case_id)))
    assert TEXT not in repr(stored)
    assert all("ciphertext" in e.sealed for e in stored if hasattr(e, "sealed"))  # type: ignore[attr-defined]
    project(api, views)
    history = api.client.get(f"/cases/{case_id}/history", headers=kerkrade).text
    case_view = api.client.get(f"/cases/{case_id}", headers=kerkrade).text
    assert "Moeder belt" not in history + case_view
    assert "Note" not in history  # no trace of the notes in the case's history


def test_erasure_takes_the_notes_with_the_personal_details(viewed: Viewed) -> None:
    api, _ = viewed
    case_id = api.signal(KERKRADE)
    kerkrade = api.auth("kerkrade")
    api.client.post(f"/cases/{case_id}/notes", headers=kerkrade, json={"text": TEXT})
    app = api.engine.referrals
    notes = app._find(CaseNotes, notes_id(case_id), {})
    assert notes is not None
    sealed = notes.notes[0]["sealed"]
    assert app.vault.open_text(sealed) == TEXT

    erased = api.client.post(f"/cases/{case_id}/erasure", headers=api.auth("admin"))
    assert erased.status_code == 200, erased.text

    body = api.client.get(f"/cases/{case_id}/notes?purpose=coordination", headers=kerkrade).json()
    assert (body["status"], body["notes"]) == ("erased", [])
    # The stored ciphertext is still there (the audit trail's hashes hold) but its key is gone.
    stored = [e for e in app.events.get(notes_id(case_id)) if hasattr(e, "sealed")]
    assert stored[0].sealed == sealed  # type: ignore[attr-defined]
    assert app.vault.keys.get(sealed["key_id"]) is None
    assert app.vault.open_text(sealed) is None
    refused = api.client.post(f"/cases/{case_id}/notes", headers=kerkrade, json={"text": "later"})
    assert refused.status_code in (409, 422), refused.text
    assert "erased" in refused.json()["detail"]


def test_the_dashboard_assigns_filters_and_keeps_notes(viewed: Viewed) -> None:
    api, views = viewed
    colleague = _colleague(api)
    mine, theirs = api.signal(KERKRADE), api.signal(KERKRADE)
    project(api, views)
    csrf = sign_in(api.client, api.tokens[NAMES["kerkrade"]])
    page = api.client.get(f"/dashboard/casus/{mine}").text
    assert '<dd id="case-owner">Niet toegewezen</dd>' in page
    assert f'<option value="{colleague}">' in page

    def form(case_id: UUID, **fields: str) -> dict[str, str]:
        current = api.engine.referrals.get_case(case_id).version
        return {"csrf": csrf, "version": str(current), **fields}

    took = api.client.post(
        f"/dashboard/casus/{mine}/assignment",
        data=form(mine, coordinator=""),
        follow_redirects=False,
    )
    assert took.status_code == 303, took.text
    gave = api.client.post(
        f"/dashboard/casus/{theirs}/assignment",
        data=form(theirs, coordinator=colleague),
        follow_redirects=False,
    )
    assert gave.status_code == 303, gave.text
    refused = api.client.post(
        f"/dashboard/casus/{theirs}/assignment",
        data=form(theirs, coordinator="demo-coordinator-landgraaf"),
    )
    assert refused.status_code == 422
    project(api, views)
    assert f'<dd id="case-owner">U ({ME})</dd>' in api.client.get(f"/dashboard/casus/{mine}").text
    mijn = api.client.get("/dashboard/werkvoorraad?toewijzing=mijn").text
    assert f'data-case="{mine}"' in mijn
    assert f'data-case="{theirs}"' not in mijn
    assert '<option value="mijn" selected>Mijn casussen</option>' in mijn
    assert "toewijzing=mijn" in mijn  # kept in the refresh and paging links
    niemand = api.client.get("/dashboard/werkvoorraad/rijen?toewijzing=niemand").text
    assert f'data-case="{mine}"' not in niemand
    assert f'data-case="{theirs}"' not in niemand

    noted = api.client.post(
        f"/dashboard/casus/{mine}/notitie",
        data={"csrf": csrf, "text": TEXT},
        follow_redirects=False,
    )
    assert noted.status_code == 303, noted.text
    page = api.client.get(f"/dashboard/casus/{mine}").text
    assert "Notities inzien" in page
    assert "Moeder belt" not in page  # not without a purpose
    read = api.client.get(f"/dashboard/casus/{mine}?notities=family_contact")
    assert read.status_code == 200
    assert "Moeder belt liever" in read.text
    assert "Contact opnemen met het gezin" in read.text
    entry = _access(api, read.headers["X-Request-ID"])
    assert (entry["action"], entry["purpose"]) == ("read personal data", "family_contact")
    assert api.client.get(f"/dashboard/casus/{mine}?notities=nieuwsgierig").status_code == 422


def _refused_assignment(api: Api, case_id: str, typed: str) -> Any:
    refused = api.client.post(
        f"/cases/{case_id}/assignment",
        headers=api.auth("kerkrade") | version(api, case_id),
        json={"coordinator": typed},
    )
    assert refused.status_code == 422, refused.text
    assert "not a coordinator of GM0928" in refused.json()["detail"]
    return refused


def test_a_refusals_field_list_redacts_a_bsn_like_its_detail(viewed: Viewed) -> None:
    """The problem's ``errors`` repeat the domain's message: redacted as the detail is."""
    api, _ = viewed
    case_id = str(api.signal(KERKRADE))
    refused = _refused_assignment(api, case_id, "123456782")
    assert refused.json()["errors"], refused.text
    assert "123456782" not in refused.text, refused.text


def test_a_refused_assignment_does_not_repeat_the_id_it_was_given(viewed: Viewed) -> None:
    """The id is the sender's text: typed wrong it may hold a BSN, glued to letters where no
    redaction of nine-digit numbers finds it; the refusal does not repeat it."""
    api, _ = viewed
    case_id = str(api.signal(KERKRADE))
    for typed in ("a123456782", "123456782b", "coordinator-x"):
        refused = _refused_assignment(api, case_id, typed)
        assert "123456782" not in refused.text, refused.text
        assert typed not in refused.text, refused.text
