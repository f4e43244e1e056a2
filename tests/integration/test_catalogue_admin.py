"""The menukaart maintained over the API and the command line, on a real SQLite store.

Administrators add, change and remove offers with If-Match versions; every change is an event
of the menukaart (who, when) and an access-log entry; a support match records the menukaart's
version and the offer id; suggestions come from the current version only.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from domain.menukaart import MENUKAART_ID
from domain.values import Actor, ActorRole
from entrypoints.cli import app as cli
from ks_engine import commands as c
from ks_engine.bootstrap import Engine
from tests.conftest import ks_environment
from tests.integration.test_http_stack import COORDINATOR, KERKRADE, Api

__all__ = ["api"]
from tests.integration.test_http_stack import api


def new_offer(offer_id: str = "taalmaatje", **fields: Any) -> dict[str, Any]:
    return {
        "service": {
            "id": offer_id,
            "name": "Taalmaatje",
            "organization_id": "bibliotheek-parkstad",
            "description": "Een vrijwilliger oefent wekelijks Nederlands met de ouder.",
            "eligibility": "Ouders met een taalachterstand.",
            "phases": ["pregnancy", "postnatal"],
            "needs": ["language"],
            "risk_factors": ["language_literacy"],
            "service_area": [KERKRADE],
            **fields,
        },
        "organization": {"id": "bibliotheek-parkstad", "name": "Bibliotheek Parkstad"},
    }


def test_an_administrator_adds_changes_and_removes_an_offer_with_versions(api: Api) -> None:
    admin = api.auth("admin")
    added = api.client.post("/catalog/services", json=new_offer(), headers=admin)
    assert added.status_code == 201, added.text
    version = added.json()["version"]
    assert added.headers["ETag"] == f'"{version}"'
    assert (
        api.client.get("/catalog/services/taalmaatje", headers=api.auth("kerkrade")).json()[
            "service"
        ]["name"]
        == "Taalmaatje"
    )
    again = api.client.post("/catalog/services", json=new_offer(), headers=admin)
    assert again.status_code == 412  # it exists: change it with its version instead
    renamed = new_offer(name="Taalmaatje Parkstad")
    no_version = api.client.put("/catalog/services/taalmaatje", json=renamed, headers=admin)
    assert no_version.status_code == 428
    assert "If-Match" in no_version.json()["detail"]
    changed = api.client.put(
        "/catalog/services/taalmaatje", json=renamed, headers=admin | {"If-Match": f'"{version}"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] > version
    stale = api.client.put(
        "/catalog/services/taalmaatje",
        json=new_offer(),
        headers=admin | {"If-Match": f'"{version}"'},
    )
    assert stale.status_code == 412  # someone changed it since: nothing is overwritten
    assert (
        api.client.get("/catalog/services/taalmaatje", headers=admin).json()["service"]["name"]
        == "Taalmaatje Parkstad"
    )
    bad = new_offer("kapot", organization_id="onbekend")
    bad.pop("organization")
    refused = api.client.post("/catalog/services", json=bad, headers=admin)
    assert refused.status_code == 422
    assert "service 'kapot' names unknown organization 'onbekend'" in refused.json()["detail"]
    coordinator = api.client.post(
        "/catalog/services", json=new_offer("x"), headers=api.auth("kerkrade")
    )
    assert coordinator.status_code == 403
    current = changed.json()["version"]
    removed = api.client.delete(
        "/catalog/services/taalmaatje", headers=admin | {"If-Match": f'"{current}"'}
    )
    assert removed.status_code == 200, removed.text
    assert api.client.get("/catalog/services/taalmaatje", headers=admin).status_code == 404
    # Every change is in the menukaart's history, by whom, and in the access log.
    names = [type(e).__name__ for e in api.engine.referrals.events.get(MENUKAART_ID)]
    assert names == ["Started", "ServiceSaved", "ServiceSaved", "ServiceRemoved"]
    saved = list(api.engine.referrals.events.get(MENUKAART_ID))[1]
    assert saved.actor["user_ref"] == "demo-admin"  # type: ignore[attr-defined]
    log = api.client.get("/audit/access?limit=100", headers=api.auth("auditor")).json()["entries"]
    changes = [
        (e["action"], e["status"])
        for e in log
        if e["object"].startswith(("POST /catalog", "PUT /catalog", "DELETE /catalog"))
    ]
    assert ("create", 201) in changes
    assert ("update", 200) in changes
    assert ("delete", 200) in changes
    assert ("update", 412) in changes


def test_a_match_records_the_menukaart_version_and_suggestions_use_the_current_one(
    api: Api,
) -> None:
    case_id = api.signal(KERKRADE)
    api.advance(case_id, "discussed")
    app, admin = api.engine.referrals, api.auth("admin")
    suggested = [s.offer.id for s in app.suggest_support(case_id)]
    moving = next(o for o in suggested if o != "schuldhulpverlening")
    # The offer leaves Kerkrade's service area: the next suggestions leave it out.
    got = api.client.get(f"/catalog/services/{moving}", headers=admin).json()
    moved = {"service": got["service"] | {"service_area": ["GM0882"]}}
    answer = api.client.put(
        f"/catalog/services/{moving}",
        json=moved,
        headers=admin | {"If-Match": f'"{got["version"]}"'},
    )
    assert answer.status_code == 200, answer.text
    assert moving not in {s.offer.id for s in app.suggest_support(case_id)}
    assert "schuldhulpverlening" in {s.offer.id for s in app.suggest_support(case_id)}
    ctx = c.Context(actor=COORDINATOR, causation_id="test")
    app.match_support(
        c.MatchSupport(
            case_id=case_id,
            offer_ids=["schuldhulpverlening"],
            lead_professional="schuldhulpverlener",
            planned_start=app.clock().date() + timedelta(days=7),
        ),
        ctx,
    )
    support = app.get_case(case_id).support[-1]
    assert (
        support["catalogue_version"] == app.catalogue.version == answer.json()["catalogue_version"]
    )
    assert support["offers"][0] == {
        "offer_id": "schuldhulpverlening",
        "provider": "schuldhulp-parkstad",
    }


def test_ks_catalogue_export_and_import_round_trip_and_refuse_a_bad_file(
    api: Api, tmp_path: Path
) -> None:
    env = ks_environment(api.engine.settings)
    runner = CliRunner()
    exported = tmp_path / "menukaart.json"
    result = runner.invoke(cli, ["catalogue", "export", "--output", str(exported)], env=env)
    assert result.exit_code == 0, result.output
    document = json.loads(exported.read_text())
    assert document["hsds_version"] == "3.0"
    document["services"][0]["name"] = "VoorZorg Zuid-Limburg"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(document))
    result = runner.invoke(cli, ["catalogue", "import", str(edited)], env=env)
    assert result.exit_code == 0, result.output
    assert "the menukaart is now version" in result.output
    assert api.engine.referrals.catalogue.offer("voorzorg").name == "VoorZorg Zuid-Limburg"
    document["services"][1]["status"] = "open"
    edited.write_text(json.dumps(document))
    result = runner.invoke(cli, ["catalogue", "import", str(edited)], env=env)
    assert result.exit_code == 1
    assert "service 'voorzorg-utrecht': status: 'open' is not one of" in result.output
    assert api.engine.referrals.catalogue.offer("voorzorg-utrecht")  # nothing was changed


def test_the_menukaart_and_its_versions_are_kept_on_every_store(engine: Engine) -> None:
    # On memory, SQLite and PostgreSQL: changes survive reading back, versions count on.
    app = engine.referrals
    admin = Actor(organisation="beheer-zuid-limburg", role=ActorRole.ADMIN, user_ref="a-1")
    ctx = c.Context(actor=admin, causation_id="test")
    offer = app.catalogue.offer("home-start")
    first = app.save_catalogue_service(
        offer.model_copy(update={"name": "Home-Start ZL"}), None, 1, ctx
    )
    second = app.save_catalogue_service(
        offer.model_copy(update={"name": "Home-Start Zuid-Limburg"}), None, first, ctx
    )
    assert second > first
    stored = app.menukaart()
    assert stored is not None
    assert stored.catalogue().offer("home-start").name == "Home-Start Zuid-Limburg"
    assert app.catalogue_service("home-start")[2] == second
    assert app.catalogue.version == str(stored.version)


def _open_referral_validator(table: str) -> Any:
    """A validator built here from the vendored files alone, independent of ks_engine.hsds."""
    from importlib import resources

    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    folder = resources.files("ks_engine").joinpath("data/hsds")
    loaded = {
        f.name: json.loads(f.read_text("utf-8"))
        for f in folder.iterdir()
        if f.name.endswith(".json")
    }
    registry: Registry[Any] = Registry().with_resources(
        (s["$id"], DRAFT202012.create_resource(s)) for s in loaded.values()
    )
    return Draft202012Validator(loaded[f"{table}.json"], registry=registry)


def test_offers_maintained_over_the_api_export_as_valid_hsds(api: Api, tmp_path: Path) -> None:
    # An administrator adds an offer and a provider over /catalog/services ...
    admin = api.auth("admin")
    added = api.client.post("/catalog/services", json=new_offer(), headers=admin)
    assert added.status_code == 201, added.text
    listed = {s["id"] for s in api.client.get("/catalog/services", headers=admin).json()}
    # ... and `ks catalogue export` writes every offer the API lists, each record valid against
    # Open Referral's own schemas (their $refs followed to attribute and taxonomy_term).
    exported = tmp_path / "menukaart.json"
    env = ks_environment(api.engine.settings)
    result = CliRunner().invoke(cli, ["catalogue", "export", "--output", str(exported)], env=env)
    assert result.exit_code == 0, result.output
    document = json.loads(exported.read_text())
    assert {s["id"] for s in document["services"]} == listed
    for table, records in (("service", "services"), ("organization", "organizations")):
        check = _open_referral_validator(table)
        for record in document[records]:
            assert not [e.message for e in check.iter_errors(record)], record["id"]
    taalmaatje = next(s for s in document["services"] if s["id"] == "taalmaatje")
    assert {a["taxonomy_term"]["code"] for a in taalmaatje["attributes"]} >= {"language"}
    # A phone number in the file is refused by name, and nothing is imported.
    taalmaatje["phones"] = [{"id": "tel-1", "number": "045 000 0000"}]
    exported.write_text(json.dumps(document))
    result = CliRunner().invoke(cli, ["catalogue", "import", str(exported)], env=env)
    assert result.exit_code == 1
    assert "service 'taalmaatje': phones: the menukaart does not keep HSDS phone" in result.output
    assert api.engine.referrals.catalogue.offer("taalmaatje").name == "Taalmaatje"
