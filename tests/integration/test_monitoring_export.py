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
from domain.after_match import NeedResult, NextStep
from domain.values import Need
from entrypoints.cli import app as cli
from ks_engine import commands as c
from ks_engine.bootstrap import bootstrap
from ks_engine.principals import PrincipalRegistry, create_demo_principals
from ks_engine.settings import Settings
from projections.disclosure import Figure, ProtectedTable, Rules
from projections.read_models import ReadModels, build_projections
from projections.store import apply_batch
from tests.conftest import FixedClock, ks_environment
from tests.integration.test_http_stack import KERKRADE, LANDGRAAF, Api
from tests.unit.test_disclosure import attacker_intervals
from tests.unit.test_projection_scenario import CTX, LEAD, published, scores

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


def test_days_to_support_start_and_evaluation_outcomes_are_published_protected(
    region_api: tuple[Api, SqliteViewDatabase], clock: FixedClock
) -> None:
    api, db = region_api
    app = api.engine.referrals
    rng = random.Random(7)
    kerkrade = [case for case in api.bsns if app.get_case(case).municipality == KERKRADE]
    assert len(kerkrade) == 12
    # Each Kerkrade family goes one day later from signal to support start: 1, 2, ... 12 days.
    # Outcomes: 8 evaluations with every need met, 3 partly, 1 with none met.
    outcomes = [NeedResult.MET] * 8 + [NeedResult.PARTLY] * 3 + [NeedResult.NOT_MET]
    providers = sorted({o.organization_id for o in app.catalogue.services})
    offer = ""
    for case_id, outcome in zip(kerkrade, outcomes, strict=True):
        clock.advance(days=1)
        today = clock().date()
        app.request_consent(c.RequestConsent(case_id=case_id), CTX)
        app.record_consent(c.RecordConsent(case_id=case_id, given=True, scope=providers), CTX)
        needs = [Need.FINANCIAL, Need.HOUSING]
        app.record_discussion(
            c.RecordDiscussion(
                case_id=case_id,
                on=today,
                participants=providers[:2],
                scores=scores(rng),
                needs=needs,
            ),
            CTX,
        )
        offer = offer or app.suggest_support(case_id)[0].offer.id
        app.match_support(
            c.MatchSupport(
                case_id=case_id, offer_ids=[offer], lead_professional=LEAD, planned_start=today
            ),
            CTX,
        )
        app.start_support(c.StartSupport(case_id=case_id, on=today, lead_professional=LEAD), CTX)
        clock.advance(hours=1)
        app.record_evaluation(
            c.RecordEvaluation(
                case_id=case_id,
                on=today,
                needs=dict.fromkeys(needs, outcome),
                scores=scores(rng),
                next_step=NextStep.CONTINUE,
            ),
            CTX,
        )
    for projection in build_projections(api.engine.settings.service_levels):
        apply_batch(db, projection, published(app))
    auth = api.auth("programme_office")
    publication = api.client.get("/monitoring/export?granularity=year", headers=auth).json()
    starts = {
        d["area"]["code"]: d
        for d in publication["durations"]
        if d["indicator"] == "days_to_support_start"
    }
    # 1..12 days: the median is 6.5, the 90th percentile the 11th of 12 (ceil(10.8)) = 11.
    assert (starts[KERKRADE]["median"], starts[KERKRADE]["p90"]) == (6.5, 11.0)
    assert starts[KERKRADE]["status"] == "exact"
    (table,) = [t for t in publication["tables"] if t["indicator"] == "evaluation_outcome_by_offer"]
    assert table["categories"] == [f"{offer}/met", f"{offer}/not_met", f"{offer}/partly"]
    row = [a["code"] for a in table["areas"]].index(KERKRADE)
    assert table["area_totals"][row] == {"value": 12, "status": "exact"}
    assert [f["status"] for f in table["cells"][row]] == ["suppressed"] * 3  # 8, 1 and 3
    truth = {("cell", row, 0): 8, ("cell", row, 1): 1, ("cell", row, 2): 3}
    intervals = attacker_intervals(_protected(table), Rules())
    for key, n in truth.items():
        lo, hi = intervals[key]
        assert lo <= n, key
        assert hi is None or n <= hi, key
        assert hi is None or hi - lo >= 3, (key, lo, hi)
    lines = api.client.get(
        "/monitoring/export?granularity=year&format=csv", headers=auth
    ).text.splitlines()
    assert "days_to_support_start,2026,GM0928,Kerkrade,median,6.5,exact" in lines
    assert f"evaluation_outcome_by_offer,2026,GM0928,Kerkrade,{offer}/not_met,,suppressed" in lines
