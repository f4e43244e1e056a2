"""The query endpoints over the projections' read models, on real SQLite files.

The views are filled by the projections' own code, from the events as the relay publishes them
(test_http_signals.py runs the real relay and projectors over nats-server).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from adapters.http import create_app
from adapters.persistence.sqlite_views import SqliteViewDatabase
from ks_engine.bootstrap import bootstrap
from ks_engine.principals import PrincipalRegistry, create_demo_principals
from ks_engine.settings import Settings
from projections.read_models import ReadModels, build_projections
from projections.store import apply_batch
from tests.conftest import FixedClock
from tests.integration.test_http_stack import KERKRADE, LANDGRAAF, Api
from tests.unit.test_projection_scenario import published


@pytest.fixture
def viewed(tmp_path: Path, clock: FixedClock) -> Iterator[tuple[Api, SqliteViewDatabase]]:
    settings = Settings(data_dir=tmp_path / "data", store="sqlite")
    engine = bootstrap(settings, clock=clock, configure_logs=False)
    tokens = {
        i.principal.id: i.token
        for i in create_demo_principals(PrincipalRegistry(settings.principals_file))
    }
    db = SqliteViewDatabase(tmp_path / "views.sqlite")
    views = ReadModels(db, levels=settings.service_levels, monitoring_threshold=1)
    try:
        with TestClient(create_app(engine, read_models=views)) as client:
            yield Api(engine, client, tokens, random.Random(3)), db
    finally:
        engine.close()


def project(api: Api, db: SqliteViewDatabase) -> None:
    events = published(api.engine.referrals)
    for projection in build_projections(api.engine.settings.service_levels):
        apply_batch(db, projection, events)


def test_the_work_queue_shows_only_the_coordinators_municipalities(
    viewed: tuple[Api, SqliteViewDatabase],
) -> None:
    api, db = viewed
    kerkrade = [api.signal(KERKRADE) for _ in range(3)]
    landgraaf = api.signal(LANDGRAAF)
    project(api, db)
    page = api.client.get("/cases?limit=2", headers=api.auth("kerkrade")).json()
    rest = api.client.get(
        f"/cases?limit=2&cursor={page['next_cursor']}", headers=api.auth("kerkrade")
    ).json()
    seen = [UUID(i["case_id"]) for i in page["items"] + rest["items"]]
    assert sorted(seen) == sorted(kerkrade)
    assert rest["next_cursor"] is None
    other = api.client.get("/cases", headers=api.auth("landgraaf")).json()
    assert [UUID(i["case_id"]) for i in other["items"]] == [landgraaf]


def test_a_bad_cursor_is_a_422(viewed: tuple[Api, SqliteViewDatabase]) -> None:
    api, _ = viewed
    response = api.client.get("/cases?cursor=not-a-cursor", headers=api.auth("kerkrade"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.cursor"


def test_the_case_view_and_history_follow_a_command_with_read_your_writes(
    viewed: tuple[Api, SqliteViewDatabase],
) -> None:
    api, db = viewed
    case_id = api.signal(KERKRADE)
    done = api.client.post(
        f"/cases/{case_id}/consent-request", headers=api.auth("kerkrade") | api.if_match(case_id)
    )
    project(api, db)
    position = done.json()["position"]
    view = api.client.get(
        f"/cases/{case_id}?after_position={position}", headers=api.auth("kerkrade")
    )
    assert view.status_code == 200
    assert "X-Read-Models-Behind" not in view.headers
    assert view.json()["state"] == "consent_requested"
    # The view's ETag is the version a next command quotes in If-Match
    assert view.headers["ETag"] == '"2"'
    consent = api.client.post(
        f"/cases/{case_id}/consent",
        json={"decision": "declined"},
        headers=api.auth("kerkrade") | {"If-Match": view.headers["ETag"]},
    )
    assert consent.status_code == 200, consent.text
    history = api.client.get(f"/cases/{case_id}/history", headers=api.auth("auditor")).json()
    assert [e["event"] for e in history["events"]] == ["Signalled", "ConsentRequested"]
    assert history["events"][1]["actor"]["organisation"] == "gemeente-kerkrade"
    behind = api.client.get(
        f"/cases/{case_id}?after_position={position + 1000}", headers=api.auth("kerkrade")
    )
    assert behind.headers["X-Read-Models-Behind"] == "true"


def test_stats_as_json_and_csv(viewed: tuple[Api, SqliteViewDatabase]) -> None:
    api, db = viewed
    api.signal(KERKRADE)
    api.signal(LANDGRAAF)
    project(api, db)
    rows = api.client.get("/stats", headers=api.auth("kerkrade")).json()["rows"]
    assert rows
    assert {r["municipality"] for r in rows} == {KERKRADE}
    everything = api.client.get("/stats", headers=api.auth("auditor")).json()["rows"]
    assert {r["municipality"] for r in everything} == {KERKRADE, LANDGRAAF}
    csv = api.client.get("/stats?format=csv", headers=api.auth("kerkrade"))
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "municipality,month,measure,category,value,suppressed"


def test_ready_includes_the_read_models(viewed: tuple[Api, SqliteViewDatabase]) -> None:
    api, _ = viewed
    assert api.client.get("/ready").json()["checks"] == {"event_store": "ok", "read_models": "ok"}
