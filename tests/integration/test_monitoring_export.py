"""Monitoring that leaves the Knooppunt, over the API and `ks monitoring export`, on real SQLite.

Coordinators see their own municipalities' exact counts; the programme office, auditors and the
export see protected tables only, in which no small count can be solved for.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from adapters.http import create_app
from adapters.persistence.sqlite_views import SqliteViewDatabase
from adapters.persistence.views import open_views
from ks_engine.bootstrap import bootstrap
from ks_engine.cli import app as cli
from ks_engine.principals import PrincipalRegistry, create_demo_principals
from ks_engine.settings import Settings
from projections.disclosure import Figure, ProtectedTable, Rules
from projections.read_models import ReadModels, build_projections
from projections.store import apply_batch
from tests.conftest import FixedClock, ks_environment
from tests.integration.test_http_stack import KERKRADE, LANDGRAAF, Api
from tests.unit.test_disclosure import attacker_intervals
from tests.unit.test_projection_scenario import published

VAALS = "GM0981"


@pytest.fixture
def region_api(tmp_path: Path, clock: FixedClock) -> Iterator[tuple[Api, SqliteViewDatabase]]:
    """The API with read models at the default threshold (10), and 12/11/2 cases signalled."""
    settings = Settings(data_dir=tmp_path / "data", store="sqlite")
    engine = bootstrap(settings, clock=clock, configure_logs=False)
    tokens = {
        i.principal.id: i.token
        for i in create_demo_principals(PrincipalRegistry(settings.principals_file))
    }
    db = open_views(settings)
    assert isinstance(db, SqliteViewDatabase)
    views = ReadModels(db, levels=settings.service_levels)
    try:
        with TestClient(create_app(engine, read_models=views)) as client:
            api = Api(engine, client, tokens, random.Random(19))
            for municipality, n in ((KERKRADE, 12), (LANDGRAAF, 11), (VAALS, 2)):
                for _ in range(n):
                    api.signal(municipality)
            for projection in build_projections(settings.service_levels):
                apply_batch(db, projection, published(engine.referrals))
            yield api, db
    finally:
        engine.close()


def _protected(table: dict[str, Any]) -> ProtectedTable:
    def fig(f: dict[str, Any]) -> Figure:
        return Figure(None if f["value"] is None else int(f["value"]), f["status"])

    return ProtectedTable(
        rows=[a["code"] for a in table["areas"]],
        columns=table["categories"],
        cells=[[fig(f) for f in row] for row in table["cells"]],
        row_totals=[fig(f) for f in table["area_totals"]],
        column_totals=[fig(f) for f in table["category_totals"]],
        total=fig(table["total"]),
    )


def test_a_coordinator_sees_exact_counts_of_their_own_small_municipality(
    region_api: tuple[Api, SqliteViewDatabase],
) -> None:
    api, _ = region_api
    rows = api.client.get("/stats", headers=api.auth("landgraaf")).json()["rows"]
    opened = next(r for r in rows if r["measure"] == "cases_opened")
    assert (opened["value"], opened["suppressed"]) == (11, False)
    kerkrade = api.client.get("/stats", headers=api.auth("kerkrade")).json()["rows"]
    midwives = next(r for r in kerkrade if r["measure"] == "families_by_reporter")
    assert (midwives["category"], midwives["value"]) == ("midwife", 12)
    # An auditor reads the Knooppunten's figures with small cells suppressed.
    audited = api.client.get("/stats", headers=api.auth("auditor")).json()["rows"]
    vaals = next(r for r in audited if r["municipality"] == VAALS)
    assert (vaals["value"], vaals["suppressed"]) == (None, True)


def test_the_programme_office_gets_protected_tables_and_nothing_else(
    region_api: tuple[Api, SqliteViewDatabase],
) -> None:
    api, _ = region_api
    auth = api.auth("programme_office")
    answer = api.client.get("/monitoring/export?granularity=year", headers=auth)
    assert answer.status_code == 200, answer.text
    publication = answer.json()
    assert publication["region"] == {"code": "zuid-limburg", "name": "Zuid-Limburg"}
    assert (publication["threshold"], publication["rounding_base"]) == (10, 5)
    families = next(t for t in publication["tables"] if t["indicator"] == "families_by_reporter")
    assert [a["name"] for a in families["areas"]] == ["Kerkrade", "Landgraaf", "Vaals"]
    assert families["period"] == "2026"
    vaals = families["areas"].index({"code": VAALS, "name": "Vaals"})
    assert families["cells"][vaals][0]["status"] == "suppressed"
    assert families["area_totals"][vaals] == {"value": 5, "status": "rounded"}  # 2, rounded up
    assert families["total"] == {"value": 25, "status": "exact"}
    for table in publication["tables"]:  # Vaals' 2 cannot be worked out from 25 - 12 - 11
        for key, (lo, hi) in attacker_intervals(_protected(table), Rules()).items():
            assert hi is None or hi - lo >= 3, (table["indicator"], key, lo, hi)
    reach = {r["area"]["code"]: r for r in publication["reach"]}
    assert reach[KERKRADE]["per_100_births"] == round(100 * 12 / reach[KERKRADE]["births"], 1)
    assert reach[VAALS]["status"] == "suppressed"
    text = json.dumps(publication)
    for case_id in api.bsns:
        assert str(case_id) not in text
    for path in ("/stats", "/cases", "/audit/access", f"/cases/{next(iter(api.bsns))}"):
        assert api.client.get(path, headers=auth).status_code == 403, path
    region = api.client.get("/monitoring/export?granularity=year&area=region", headers=auth)
    table = next(t for t in region.json()["tables"] if t["indicator"] == "families_by_reporter")
    assert table["areas"] == [{"code": "zuid-limburg", "name": "Zuid-Limburg"}]
    assert table["cells"] == [families["category_totals"]]  # the same protected totals


def test_the_export_as_csv_over_the_api_and_the_command_line(
    region_api: tuple[Api, SqliteViewDatabase],
) -> None:
    api, _ = region_api
    answer = api.client.get(
        "/monitoring/export?granularity=quarter&format=csv", headers=api.auth("programme_office")
    )
    assert answer.headers["content-type"].startswith("text/csv")
    lines = answer.text.splitlines()
    assert lines[0] == "indicator,period,area,area_name,category,value,status"
    assert "families_by_reporter,2026-Q4,GM0928,Kerkrade,midwife,12,exact" in lines
    assert "families_by_reporter,2026-Q4,GM0981,Vaals,total,5,rounded" in lines
    env = ks_environment(api.engine.settings)
    result = CliRunner().invoke(
        cli, ["monitoring", "export", "--granularity", "quarter", "--format", "csv"], env=env
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == lines
    wrong = CliRunner().invoke(cli, ["monitoring", "export", "--since", "1-2-2026"], env=env)
    assert wrong.exit_code == 2
    assert "YYYY-MM-DD" in wrong.output
