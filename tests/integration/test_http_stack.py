"""The HTTP API on a real SQLite store: shared set-up, and the operations endpoints.

Other ``test_http_*`` modules import ``api`` (the fixture) and the helpers from here.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from adapters.http import create_app
from domain.values import (
    Actor,
    ActorRole,
    HealthScores,
    Need,
    Outcome,
    PersonalDetails,
    Phase,
    PhaseInfo,
    Reporter,
    ReporterRole,
    RiskFactor,
    Signal,
    Urgency,
)
from ks_engine import commands as c
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.demo import demo_bsn
from ks_engine.principals import PrincipalRegistry, create_demo_principals
from ks_engine.settings import Settings
from tests.conftest import FixedClock

MIDWIFE = "https://verloskunde-parkstad.nl"  # the demo partner principal's organisation
KERKRADE, LANDGRAAF = "GM0928", "GM0882"
COORDINATOR = Actor(organisation="gemeente-kerkrade", role=ActorRole.COORDINATOR, user_ref="t")


@dataclass
class Api:
    """The app on a real SQLite engine, a client, and the demo principals' tokens."""

    engine: Engine
    client: TestClient
    tokens: dict[str, str]
    rng: random.Random
    bsns: dict[UUID, str] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        """Headers for a demo principal: 'kerkrade', 'landgraaf', 'partner', 'auditor', ..."""
        names = {
            "kerkrade": "demo-coordinator-kerkrade",
            "landgraaf": "demo-coordinator-landgraaf",
            "partner": "demo-partner-midwife",
            "auditor": "demo-auditor",
            "admin": "demo-admin",
            "programme_office": "demo-programme-office",
        }
        if who == "anonymous":
            return {}
        return {"Authorization": f"Bearer {self.tokens[names[who]]}"}

    def if_match(self, case_id: UUID) -> dict[str, str]:
        """The If-Match header of a command on the case as it stands now."""
        return {"If-Match": f'"{self.engine.referrals.get_case(case_id).version}"'}

    def signal(self, municipality: str = KERKRADE, reporter: str = MIDWIFE) -> UUID:
        """A case opened through the application, as the intake does."""
        key = f"{reporter}#{uuid4()}"
        bsn = demo_bsn(self.rng)
        today = self.engine.referrals.clock().date()
        sig = Signal(
            signal_key=key,
            municipality=municipality,
            person_pseudonym=self.engine.pseudonymise(bsn),
            reporter=Reporter(organisation=reporter, role=ReporterRole.MIDWIFE),
            phase=PhaseInfo(phase=Phase.PREGNANCY, date=today + timedelta(days=100)),
            risk_factors=(RiskFactor.DEBTS, RiskFactor.STRESS),
            urgency=Urgency.SOON,
            personal=PERSONAL,
        )
        ctx = c.Context(
            actor=Actor(organisation=reporter, role=ActorRole.PARTNER), causation_id=key
        )
        outcome = self.engine.referrals.receive_signal(sig, ctx)
        assert outcome.case_id is not None
        self.bsns[outcome.case_id] = bsn
        return outcome.case_id

    def advance(self, case_id: UUID, to: str) -> None:
        """Bring a case to a state through the application, along the main path to closed."""
        app, ctx = self.engine.referrals, c.Context(actor=COORDINATOR, causation_id="setup")
        app.request_consent(c.RequestConsent(case_id=case_id), ctx)
        if to == "consent_requested":
            return
        app.record_consent(
            c.RecordConsent(case_id=case_id, given=True, scope=[MIDWIFE, "schuldhulp-parkstad"]),
            ctx,
        )
        if to == "consented":
            return
        app.record_discussion(
            c.RecordDiscussion(
                case_id=case_id,
                on=app.clock().date(),
                participants=[MIDWIFE],
                scores=SCORES,
                needs=[Need.FINANCIAL],
            ),
            ctx,
        )
        if to == "discussed":
            return
        app.match_support(
            c.MatchSupport(
                case_id=case_id,
                offer_ids=["schuldhulpverlening"],
                lead_professional="JGZ-verpleegkundige",
                planned_start=app.clock().date(),
            ),
            ctx,
        )
        if to == "support_matched":
            return
        app.start_support(
            c.StartSupport(case_id=case_id, on=app.clock().date(), lead_professional="JGZ"), ctx
        )
        if to == "support_started":
            return
        app.close_case(c.Close(case_id=case_id, outcome=Outcome.SUPPORT_COMPLETED), ctx)
        assert to == "closed"


PERSONAL = PersonalDetails(name="Anna Testouder", birth_date=date(1999, 5, 17), note="zorgen thuis")
SCORES = HealthScores(
    bodily_functions=6,
    mental_wellbeing=4,
    meaningfulness=6,
    quality_of_life=3,
    participation=5,
    daily_functioning=4,
)


@pytest.fixture
def api(tmp_path: Path, clock: FixedClock) -> Iterator[Api]:
    settings = Settings(data_dir=tmp_path / "data", store="sqlite")
    engine = bootstrap(settings, clock=clock, configure_logs=False)
    registry = PrincipalRegistry(settings.principals_file)
    tokens = {i.principal.id: i.token for i in create_demo_principals(registry)}
    try:
        with TestClient(create_app(engine), raise_server_exceptions=False) as client:
            yield Api(engine, client, tokens, random.Random(7))
    finally:
        engine.close()


def test_health_answers_without_a_token(api: Api) -> None:
    response = api.client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_reports_each_part(api: Api) -> None:
    body = api.client.get("/ready").json()
    # The API alone (`ks api`) supervises no components; `ks run` lists its own.
    assert body == {"status": "ready", "checks": {"event_store": "ok"}, "components": {}}


def test_metrics_count_requests_commands_and_latency(api: Api) -> None:
    case_id = api.signal()
    kerkrade = api.auth("kerkrade") | api.if_match(case_id)
    api.client.post(f"/cases/{case_id}/consent-request", headers=kerkrade)
    api.client.post(
        f"/cases/{case_id}/consent-request", headers=api.auth("kerkrade") | api.if_match(case_id)
    )
    response = api.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'ks_commands_total{command="request_consent",outcome="done"} 1.0' in text
    assert 'ks_commands_total{command="request_consent",outcome="refused"} 1.0' in text
    route = "/cases/{case_id}/consent-request"
    assert f'ks_http_request_duration_seconds_count{{method="POST",route="{route}"}} 2.0' in text
    assert 'ks_access_log_entries_total{outcome="allowed"} 1.0' in text


def test_every_response_carries_a_request_id_and_a_safe_caller_id_is_kept(api: Api) -> None:
    first = api.client.get("/health")
    second = api.client.get("/health")
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    kept = api.client.get("/health", headers={"X-Request-ID": "partner-req-000123"})
    assert kept.headers["X-Request-ID"] == "partner-req-000123"
    unsafe = api.client.get("/health", headers={"X-Request-ID": 'a b"<script>'})
    assert unsafe.headers["X-Request-ID"] != 'a b"<script>'
