"""Signals over HTTP on a real nats-server: into the intake, receipt back, case worked over HTTP.

The API is served by uvicorn on loopback and driven with a real HTTP client; the intake, the
relay and the projectors run on the same JetStream server, so queries read the real read
models; the event store and the views are real SQLite files.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import nats
import pytest

from adapters.nats.embedded import EmbeddedNatsServer, free_port
from adapters.nats.events_stream import ensure_events_stream
from adapters.nats.intake import Intake
from adapters.nats.projectors import run_projectors
from adapters.nats.relay import run_relay
from adapters.nats.streams import ensure_intake_streams
from domain.values import Actor, ActorRole
from entrypoints.processes.api import serve_api
from ks_engine import commands as c
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.principals import PrincipalRegistry, create_demo_principals
from ks_engine.runtime import NatsLink
from ks_engine.settings import Settings
from ks_engine.signal_contract import example_signal

MIDWIFE = "https://verloskunde-parkstad.nl"


@dataclass
class Stack:
    engine: Engine
    http: httpx.AsyncClient
    tokens: dict[str, str]

    def auth(self, principal_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[principal_id]}"}

    async def receipt(self, location: str, who: str = "demo-partner-midwife") -> dict[str, Any]:
        """Poll the receipt until the intake has produced it (bounded)."""
        for _ in range(200):
            response = await self.http.get(location, headers=self.auth(who))
            if response.status_code == 200:
                body: dict[str, Any] = response.json()
                return body
            assert response.status_code == 404, response.text
            await asyncio.sleep(0.05)
        raise AssertionError(f"no receipt at {location}")


@pytest.fixture
async def stack(tmp_path: Path, nats_server: EmbeddedNatsServer) -> AsyncIterator[Stack]:
    settings = Settings(data_dir=tmp_path / "data", store="sqlite")
    engine = bootstrap(settings, configure_logs=False)
    tokens = {
        i.principal.id: i.token
        for i in create_demo_principals(PrincipalRegistry(settings.principals_file))
    }
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await ensure_intake_streams(js, settings)
    await ensure_events_stream(js, settings.nats_replicas)
    link = NatsLink(nc=nc, js=js, url=nats_server.url, server=None)
    stop = asyncio.Event()
    port = free_port()
    tasks = [
        # One worker, in this process: the API's worker processes are the subject of
        # test_api_workers.py, and each imports the engine (seconds of CPU per test).
        asyncio.create_task(serve_api(engine, link, stop, host="127.0.0.1", port=port, workers=1)),
        asyncio.create_task(Intake(engine, js).run(stop)),
        asyncio.create_task(run_relay(engine, js, stop)),
        asyncio.create_task(run_projectors(engine, js, stop)),
    ]
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        for _ in range(100):
            try:
                if (await http.get("/health")).status_code == 200:
                    break
            except httpx.TransportError:
                await asyncio.sleep(0.05)
        yield Stack(engine, http, tokens)
    stop.set()
    # The workers' own stop is their modules' business (the intake may end on a fetch timeout).
    api_done, *_workers_done = await asyncio.gather(*tasks, return_exceptions=True)
    assert api_done is None, api_done
    await nc.drain()
    engine.close()


async def test_a_signal_posted_over_http_opens_a_case_that_is_worked_to_closure(
    stack: Stack,
) -> None:
    # A midwife's system posts the same CloudEvent it would publish on NATS.
    doc = example_signal("111222333", source=MIDWIFE, event_id=str(uuid4()))
    posted = await stack.http.post("/signals", json=doc, headers=stack.auth("demo-partner-midwife"))
    assert posted.status_code == 202, posted.text
    receipt = await stack.receipt(posted.headers["Location"])
    assert receipt["status"] == "accepted"
    assert receipt["reference"] == posted.json()["reference"]
    case_id = receipt["case_id"]
    # Another partner, or a coordinator, cannot read the midwife's receipt.
    other = await stack.http.get(
        posted.headers["Location"], headers=stack.auth("demo-coordinator-kerkrade")
    )
    assert other.status_code == 403
    # The Kerkrade coordinator works the case over HTTP, version by version.
    kerkrade = stack.auth("demo-coordinator-kerkrade")
    today = stack.engine.referrals.clock().date().isoformat()
    steps: list[tuple[str, dict[str, Any] | None]] = [
        ("consent-request", None),
        ("consent", {"decision": "given", "scope": [MIDWIFE, "schuldhulp-parkstad"]}),
        (
            "discussion",
            {
                "on": today,
                "participants": ["schuldhulp-parkstad"],
                "scores": {
                    "bodily_functions": 6,
                    "mental_wellbeing": 4,
                    "meaningfulness": 6,
                    "quality_of_life": 3,
                    "participation": 5,
                    "daily_functioning": 4,
                },
                "needs": ["financial"],
            },
        ),
        (
            "support-match",
            {
                "offer_ids": ["schuldhulpverlening"],
                "lead_professional": "JGZ-verpleegkundige",
                "planned_start": today,
            },
        ),
        ("closure", {"outcome": "support_completed", "reason": "hulp loopt goed"}),
    ]
    states = ["consent_requested", "consented", "discussed", "support_matched", "closed"]
    version = 1
    for (step, body), state in zip(steps, states, strict=True):
        done = await stack.http.post(
            f"/cases/{case_id}/{step}", json=body, headers=kerkrade | {"If-Match": f'"{version}"'}
        )
        assert done.status_code == 200, (step, done.text)
        assert done.json()["version"] == version + 1
        version += 1
        # Read-your-writes: the case view, asked to include the command, shows its effect
        view = await stack.http.get(
            f"/cases/{case_id}",
            params={"after_position": done.json()["position"]},
            headers=kerkrade,
        )
        assert "X-Read-Models-Behind" not in view.headers
        assert (view.json()["state"], view.json()["version"]) == (state, version)
    history = await stack.http.get(f"/cases/{case_id}/history", headers=stack.auth("demo-auditor"))
    assert [e["event"] for e in history.json()["events"]] == [
        "Signalled",
        "ConsentRequested",
        "ConsentGiven",
        "Discussed",
        "SupportMatched",
        "Closed",
    ]
    case = stack.engine.referrals.get_case(UUID(case_id))
    assert case.state.value == "closed"
    assert case.support[0]["offers"][0]["offer_id"] == "schuldhulpverlening"
    # The midwife, named in the consent, sees the outcome.
    seen = await stack.http.get(f"/cases/{case_id}", headers=stack.auth("demo-partner-midwife"))
    assert seen.status_code == 200
    assert seen.json()["outcome"] == "support_completed"


async def test_the_same_signal_posted_twice_has_one_effect(stack: Stack) -> None:
    doc = example_signal("111222333", source=MIDWIFE, event_id=str(uuid4()))
    first = await stack.http.post("/signals", json=doc, headers=stack.auth("demo-partner-midwife"))
    again = await stack.http.post("/signals", json=doc, headers=stack.auth("demo-partner-midwife"))
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.headers["Location"] == again.headers["Location"]
    receipt = await stack.receipt(first.headers["Location"])
    assert receipt["status"] == "accepted"
    case = stack.engine.referrals.get_case(UUID(receipt["case_id"]))
    assert len(case.signals) == 1


async def test_an_unknown_reference_answers_404(stack: Stack) -> None:
    response = await stack.http.get(
        f"/signals/{uuid4()}", headers=stack.auth("demo-partner-midwife")
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_signal_over_http_reaches_the_work_queue_and_the_operations_endpoints(
    stack: Stack,
) -> None:
    doc = example_signal("111222333", source=MIDWIFE, event_id=str(uuid4()))
    posted = await stack.http.post("/signals", json=doc, headers=stack.auth("demo-partner-midwife"))
    case_id = (await stack.receipt(posted.headers["Location"]))["case_id"]
    kerkrade = stack.auth("demo-coordinator-kerkrade")
    queue: list[str] = []
    for _ in range(200):  # the relay and projectors bring it to the work queue (bounded)
        answer = await stack.http.get("/cases", headers=kerkrade)
        queue = [item["case_id"] for item in answer.json()["items"]]
        if queue:
            break
        await asyncio.sleep(0.05)
    assert queue == [case_id]
    landgraaf = await stack.http.get("/cases", headers=stack.auth("demo-coordinator-landgraaf"))
    assert landgraaf.json()["items"] == []
    ready = await stack.http.get("/ready")
    assert ready.json() == {
        "status": "ready",
        "checks": {"event_store": "ok", "nats": "ok", "read_models": "ok"},
        "components": {},
    }
    bad = example_signal("111222334", source=MIDWIFE, event_id=str(uuid4()))  # fails the elfproef
    door = await stack.http.post("/signals", json=bad, headers=stack.auth("demo-partner-midwife"))
    assert door.status_code == 422
    decided = 'ks_signals_total{outcome="accepted"} 1.0'  # counted from the intake's receipt
    for _ in range(100):
        metrics = (await stack.http.get("/metrics")).text
        if decided in metrics:
            break
        await asyncio.sleep(0.05)
    assert decided in metrics
    assert 'ks_http_signals_total{outcome="submitted"} 1.0' in metrics
    assert 'ks_http_signals_total{outcome="rejected"} 1.0' in metrics
    assert 'ks_projection_lag_events{projection="work_queue"} 0.0' in metrics


async def test_bodies_that_break_the_json_parser_are_refused_in_words_and_lose_nothing(
    stack: Stack,
) -> None:
    partner = {**stack.auth("demo-partner-midwife"), "Content-Type": "application/json"}
    valid = example_signal("111222333", source=MIDWIFE, event_id=str(uuid4()))
    text = json.dumps(valid)
    poisons = {
        b"[" * 100_000 + b"]" * 100_000: "nested too deeply",
        text.replace('"soon"', "[" * 50_000 + "]" * 50_000).encode(): "nested too deeply",
        text.replace('"soon"', "9" * 20_000).encode(): "number too long",
        text.replace('"soon"', "NaN").encode(): "NaN",
        text.replace("Verbrede", "\\ud800").encode(): "surrogate",
        b'{"id": "\xff"}': "UTF-8",
    }
    for body, words in poisons.items():
        refused = await stack.http.post("/signals", content=body, headers=partner)
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert problem["code"] == "not_json"
        assert words in problem["detail"]
    # The service is whole: a valid signal right after is taken and becomes a case.
    posted = await stack.http.post("/signals", content=text.encode(), headers=partner)
    assert posted.status_code == 202, posted.text
    receipt = await stack.receipt(posted.headers["Location"])
    assert receipt["status"] == "accepted"


async def test_a_partner_lists_its_own_signals_with_the_feedback_the_consent_allows(
    stack: Stack,
) -> None:
    doc = example_signal("111222333", source=MIDWIFE, event_id=f"fb-{uuid4()}")
    posted = await stack.http.post("/signals", json=doc, headers=stack.auth("demo-partner-midwife"))
    assert posted.status_code == 202, posted.text
    receipt = await stack.receipt(posted.headers["Location"])

    async def listed() -> dict[str, Any]:
        for _ in range(200):
            answer = await stack.http.get("/signals", headers=stack.auth("demo-partner-midwife"))
            assert answer.status_code == 200, answer.text
            found = [s for s in answer.json()["signals"] if s["reference"] == receipt["reference"]]
            if found:
                return found[0]
            await asyncio.sleep(0.05)
        raise AssertionError("the signal was never listed")

    mine = await listed()
    assert (mine["signal_id"], mine["case_id"], mine["status"], mine["case"]) == (
        doc["id"],
        receipt["case_id"],
        "accepted",
        "new",
    )
    # The family declines: the midwife hears that answer (only that), the case stays hers.
    app = stack.engine.referrals
    ctx = c.Context(
        actor=Actor(organisation="gemeente-kerkrade", role=ActorRole.COORDINATOR, user_ref="c"),
        causation_id="t",
    )
    case_id = UUID(receipt["case_id"])
    app.request_consent(c.RequestConsent(case_id=case_id), ctx)
    app.record_consent(c.RecordConsent(case_id=case_id, given=False), ctx)
    for _ in range(200):
        if (await listed())["status"] == "consent_declined":
            break
        await asyncio.sleep(0.05)
    assert (await listed())["status"] == "consent_declined"
    # A coordinator has no signals of its own to list.
    coordinator = await stack.http.get("/signals", headers=stack.auth("demo-coordinator-kerkrade"))
    assert coordinator.status_code == 403
