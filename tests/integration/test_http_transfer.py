"""Transfer over HTTP, both ways (real SQLite, views projected): Kerkrade asks, Landgraaf sees
only the request until it accepts; then Landgraaf has the case and Kerkrade its own part of
the history; a refused transfer leaves the case where it was."""

from __future__ import annotations

from uuid import UUID

from adapters.persistence.sqlite_views import SqliteViewDatabase
from tests.integration.test_http_read_models import project, viewed
from tests.integration.test_http_stack import KERKRADE, LANDGRAAF, Api

__all__ = ["viewed"]

MOVED = {
    "to_municipality": LANDGRAAF,
    "basis": "family_consent",
    "consent": {"given_by": "both", "method": "written", "given_on": "2026-10-30"},
}


def _ask(api: Api, case_id: UUID) -> None:
    asked = api.client.post(
        f"/cases/{case_id}/transfer",
        json=MOVED,
        headers=api.auth("kerkrade") | api.if_match(case_id),
    )
    assert asked.status_code == 200, asked.text


def test_transfer_accepted_over_http(viewed: tuple[Api, SqliteViewDatabase]) -> None:
    api, db = viewed
    case_id = api.signal(KERKRADE)
    # Landgraaf may not ask for a Kerkrade case, and a transfer needs its consent record
    foreign = api.client.post(
        f"/cases/{case_id}/transfer",
        json=MOVED,
        headers=api.auth("landgraaf") | api.if_match(case_id),
    )
    assert foreign.status_code == 404
    bare = api.client.post(
        f"/cases/{case_id}/transfer",
        json={"to_municipality": LANDGRAAF, "basis": "family_consent"},
        headers=api.auth("kerkrade") | api.if_match(case_id),
    )
    assert bare.status_code == 409
    assert "who in the family agreed" in bare.json()["detail"]
    _ask(api, case_id)
    project(api, db)
    # Landgraaf sees the request, not the case
    landgraaf = api.auth("landgraaf")
    waiting = api.client.get("/transfers", headers=landgraaf).json()
    assert [(w["case_id"], w["from_municipality"], w["basis"]) for w in waiting] == [
        (str(case_id), KERKRADE, "family_consent")
    ]
    assert api.client.get("/transfers", headers=api.auth("kerkrade")).json() == []
    assert api.client.get(f"/cases/{case_id}", headers=landgraaf).status_code == 404
    # Kerkrade cannot answer its own request; Landgraaf accepts with the version it was shown
    refused = api.client.post(
        f"/cases/{case_id}/transfer-acceptance",
        headers=api.auth("kerkrade") | api.if_match(case_id),
    )
    assert refused.status_code == 404
    version = {"If-Match": f'"{waiting[0]["version"]}"'}
    accepted = api.client.post(f"/cases/{case_id}/transfer-acceptance", headers=landgraaf | version)
    assert accepted.status_code == 200, accepted.text
    # Landgraaf goes on with the case; Kerkrade sees it no more
    api.client.post(f"/cases/{case_id}/consent-request", headers=landgraaf | api.if_match(case_id))
    project(api, db)
    view = api.client.get(f"/cases/{case_id}", headers=landgraaf)
    assert view.status_code == 200
    assert view.json()["municipality"] == LANDGRAAF
    assert view.json()["transfers"][0]["from_municipality"] == KERKRADE
    assert api.client.get(f"/cases/{case_id}", headers=api.auth("kerkrade")).status_code == 404
    assert api.client.get("/transfers", headers=landgraaf).json() == []
    # Kerkrade keeps its own part of the history: up to the transfer, not Landgraaf's steps
    own = api.client.get(f"/cases/{case_id}/history", headers=api.auth("kerkrade"))
    assert own.status_code == 200
    assert [e["event"] for e in own.json()["events"]] == [
        "Signalled",
        "TransferRequested",
        "CaseTransferred",
    ]
    whole = api.client.get(f"/cases/{case_id}/history", headers=landgraaf).json()["events"]
    assert [e["event"] for e in whole][-1] == "ConsentRequested"
    queue = api.client.get("/cases", headers=landgraaf).json()["items"]
    assert [i["case_id"] for i in queue] == [str(case_id)]
    assert api.client.get("/cases", headers=api.auth("kerkrade")).json()["items"] == []


def test_transfer_refused_over_http(viewed: tuple[Api, SqliteViewDatabase]) -> None:
    api, db = viewed
    case_id = api.signal(KERKRADE)
    _ask(api, case_id)
    landgraaf = api.auth("landgraaf")
    refused = api.client.post(
        f"/cases/{case_id}/transfer-refusal",
        json={"reason": "gezin woont toch niet in Landgraaf"},
        headers=landgraaf | api.if_match(case_id),
    )
    assert refused.status_code == 200, refused.text
    again = api.client.post(
        f"/cases/{case_id}/transfer-acceptance", headers=landgraaf | api.if_match(case_id)
    )
    assert again.status_code == 404
    project(api, db)
    view = api.client.get(f"/cases/{case_id}", headers=api.auth("kerkrade")).json()
    assert (view["municipality"], view["transfer_request"], view["transfers"]) == (
        KERKRADE,
        None,
        [],
    )
    history = [e["event"] for e in view["timeline"]]
    assert history[-2:] == ["TransferRequested", "TransferRefused"]
    assert "Landgraaf" not in str(view)  # the refusal's reason stays in the engine
