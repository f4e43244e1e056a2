"""`ks run`'s components under its supervisor, on a real nats-server and real SQLite files.

A failure is injected into one component (the relay's publishes, or the API's server); the
supervisor's pause is held shut by the test, so the component stays ``restarting`` for as long
as the test looks. Meanwhile the other components carry on: signals are taken in and receipted,
the API answers, ``/ready`` names the component that is down. Once let go, the component is
up again and has done its work without loss or duplicate.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, cast

import httpx
import nats
import pytest
from fastapi.testclient import TestClient
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from adapters.http import create_app
from adapters.nats.embedded import EmbeddedNatsServer, free_port
from adapters.nats.events_stream import ensure_events_stream
from adapters.nats.intake import Intake
from adapters.nats.projectors import run_projectors
from adapters.nats.relay import run_relay
from adapters.nats.streams import ensure_intake_streams
from entrypoints.processes.api import ApiNotStartedError, serve_api
from entrypoints.processes.builds import components
from ks_engine.audit.summary import is_case_event
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.principals import PrincipalRegistry, create_demo_principals
from ks_engine.runtime import NatsLink
from ks_engine.settings import Settings
from ks_engine.supervision import StatusBoard
from ks_engine.supervisor import Component, Supervisor
from projections.event import REFERRAL_SUBJECTS, STREAM, event_id
from tests.faults.checks import (
    Plan,
    eventually,
    publish,
    read_stream,
    receipts,
    verify_every_signal_took_effect_once,
    verify_views_converge,
)

ALL = {"intake", "relay", "projectors", "api", "sealer", "expiry"}


class Gate:
    """The supervisor's pause here: it waits until the test opens it (or the engine stops)."""

    def __init__(self) -> None:
        self.opened = asyncio.Event()
        self.delays: list[float] = []

    async def __call__(self, seconds: float, stop: asyncio.Event) -> None:
        self.delays.append(seconds)
        waiters = {asyncio.ensure_future(self.opened.wait()), asyncio.ensure_future(stop.wait())}
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()


class FlakyPublishes:
    """The relay's JetStream context, whose publishes numbered ``fail_on`` raise an error no
    component expects (everything else goes to the real server). The relay publishes its
    windows on the context's connection (``adapters.nats.ordered_publish``), so the count is
    kept there too."""

    def __init__(self, js: JetStreamContext, fail_on: set[int]) -> None:
        self._js = js
        self._nc = _FlakyConnection(self, js._nc)
        self.fail_on = fail_on
        self.publishes = 0
        self.failed = 0

    def count(self) -> None:
        self.publishes += 1
        if self.publishes in self.fail_on:
            self.failed += 1
            raise RuntimeError("injected failure")

    async def publish(self, *args: Any, **kwargs: Any) -> Any:
        self.count()
        return await self._js.publish(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._js, name)


class _FlakyConnection:
    """The connection under ``FlakyPublishes``: its publishes are counted with the context's."""

    def __init__(self, owner: FlakyPublishes, nc: Any) -> None:
        self._owner, self._real = owner, nc

    async def publish(self, *args: Any, **kwargs: Any) -> Any:
        self._owner.count()
        return await self._real.publish(*args, **kwargs)

    async def _send_command(self, cmd: bytes, priority: bool = False) -> None:
        if cmd.startswith(b"HPUB "):  # a message framed by the relay (ordered_publish)
            self._owner.count()
        await self._real._send_command(cmd, priority)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@dataclass
class Running:
    """`ks run`'s components on the test's servers, the board, the gate and an HTTP client."""

    settings: Settings
    engine: Engine
    link: NatsLink
    board: StatusBoard
    gate: Gate
    http: httpx.AsyncClient
    tokens: dict[str, str]

    async def ready(self) -> tuple[int, dict[str, Any]]:
        answer = await self.http.get("/ready")
        body: dict[str, Any] = answer.json()
        return answer.status_code, body

    async def until(self, check: Callable[[], bool], what: str) -> None:
        async def holds() -> bool:
            return check()

        await eventually(holds, what)


Override = Callable[[Engine, NatsLink, StatusBoard], dict[str, Component]]


async def start(
    tmp_path: Path, server: EmbeddedNatsServer, override: Override, *, api_workers: int = 1
) -> AsyncIterator[Running]:
    """Start `ks run`'s components, with ``override``'s in place of some, until the test ends.
    The API answers in this process (``api_workers``=1) unless the API is the failing one:
    each worker process imports the engine, seconds of CPU per test."""
    settings = Settings(
        data_dir=tmp_path / "data",
        store="sqlite",
        api_host="127.0.0.1",
        api_port=free_port(),
        api_workers=api_workers,
        intake_ack_wait_seconds=1,  # a signal an intake took and did not ack comes back soon
    )
    engine = bootstrap(settings, configure_logs=False)
    registry = PrincipalRegistry(settings.principals_file)
    tokens = {i.principal.id: i.token for i in create_demo_principals(registry)}
    nc: Client = await nats.connect(server.url)
    js = nc.jetstream()
    await ensure_intake_streams(js, settings)
    await ensure_events_stream(js, settings.nats_replicas)
    link = NatsLink(nc=nc, js=js, url=server.url, server=None)
    board, gate, stop = StatusBoard(), Gate(), asyncio.Event()
    parts = components(engine, link, board) | override(engine, link, board)
    supervisor = Supervisor(parts, board, fatal=(ApiNotStartedError,), pause=gate)
    running = asyncio.create_task(supervisor.run(stop))
    base = f"http://127.0.0.1:{settings.api_port}"
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        stack = Running(settings, engine, link, board, gate, http, tokens)

        async def answers() -> bool:
            try:
                return (await stack.ready())[0] == 200
            except httpx.TransportError:
                return False

        await eventually(answers, "the engine ready")
        yield stack
        stop.set()
        await asyncio.wait_for(running, timeout=60)  # a guard; every component drains
    assert {s.state.value for s in board.snapshot().values()} == {"down"}
    await nc.close()
    engine.close()


@pytest.fixture
async def with_flaky_relay(
    tmp_path: Path, nats_server: EmbeddedNatsServer
) -> AsyncIterator[tuple[Running, FlakyPublishes]]:
    made: list[FlakyPublishes] = []

    def override(engine: Engine, link: NatsLink, _: StatusBoard) -> dict[str, Component]:
        # The 25th publish fails, and the 40th (counted on, after the first restart). The first
        # 20 signals give 20 feedback messages and 20 events, each window's feedback before its
        # events: by the 25th publish some events are out, whatever the windows were.
        made.append(FlakyPublishes(link.js, fail_on={25, 40}))
        return {"relay": partial(run_relay, engine, cast(JetStreamContext, made[0]))}

    async for stack in start(tmp_path, nats_server, override):
        yield stack, made[0]


async def test_a_failing_relay_restarts_while_the_others_carry_on_and_it_loses_nothing(
    with_flaky_relay: tuple[Running, FlakyPublishes],
) -> None:
    stack, relay_js = with_flaky_relay
    js = stack.link.js
    status, body = await stack.ready()
    assert status == 200
    assert set(body["components"]) == ALL
    assert {c["state"] for c in body["components"].values()} == {"up"}
    plan = Plan.of(persons=25, signals=40, prefix="supervised", seed=15)
    before, during = Plan(plan.signals[:20]), Plan(plan.signals[20:])

    # Signals come in; the relay's 25th publish fails: it waits to restart (the gate is shut).
    await publish(stack.link.nc, before)
    await stack.until(lambda: stack.board.snapshot()["relay"].restarts == 1, "the relay failed")
    status, body = await stack.ready()
    assert status == 503
    assert body["status"] == "not ready"
    assert body["components"]["relay"] == {
        "state": "restarting",
        "required": True,
        "restarts": 1,
        "last_error": "RuntimeError",
    }
    assert {n: c["state"] for n, c in body["components"].items() if n != "relay"} == dict.fromkeys(
        ALL - {"relay"}, "up"
    )

    # The others carry on: every signal sent while the relay is down is taken in and receipted,
    # and the API answers coordinators.
    relayed_before = await last_relayed_position(js)
    await publish(stack.link.nc, during)

    async def all_receipted() -> bool:
        return len(await receipts(js)) == len(plan.signals)

    await eventually(all_receipted, "a receipt for every signal while the relay is down")
    coordinator = {"Authorization": f"Bearer {stack.tokens['demo-coordinator-kerkrade']}"}
    queue = await stack.http.get("/cases", headers=coordinator)
    assert queue.status_code == 200
    assert await last_relayed_position(js) == relayed_before  # the relay really was down
    assert stack.gate.delays == [pytest.approx(0.5, rel=0.2)]

    # Let go: the relay starts again, fails once more on its 40th publish, restarts at once.
    stack.gate.opened.set()

    async def relay_back() -> bool:
        status, body = await stack.ready()
        return status == 200 and body["components"]["relay"]["restarts"] == 2

    await eventually(relay_back, "the relay up again after two restarts")
    assert relay_js.failed == 2

    await verify_nothing_lost_or_doubled(stack, plan)


async def verify_nothing_lost_or_doubled(stack: Running, plan: Plan) -> None:
    """Receipts, event store and work queue hold every signal once, and KS_EVENTS holds every
    event of a case exactly once, in the order of the log."""
    js = stack.link.js
    summary = await verify_every_signal_took_effect_once(js, stack.settings, plan)
    await verify_views_converge(stack.settings, summary)
    expected = await asyncio.to_thread(case_events, stack.engine)

    async def all_relayed() -> bool:
        return await last_relayed_position(js) == expected[-1][1]

    await eventually(all_relayed, "every event of a case published")
    relayed = await read_stream(js, STREAM, REFERRAL_SUBJECTS)
    ids = [(m.headers or {})["Nats-Msg-Id"] for m in relayed]
    assert Counter(ids).most_common(1)[0][1] == 1, "an event was published twice"
    assert ids == [ident for ident, _ in expected]
    positions = [json.loads(m.data)["position"] for m in relayed]
    assert positions == [position for _, position in expected]


async def last_relayed_position(js: JetStreamContext) -> int:
    """The log position of the newest event of a case in KS_EVENTS."""
    last = await js.get_msg(STREAM, subject=REFERRAL_SUBJECTS)
    return int(json.loads(last.data or b"{}")["position"])


def case_events(engine: Engine) -> list[tuple[str, int]]:
    """Every event of a case in the log: its message id and position, in log order."""
    found: list[tuple[str, int]] = []
    start = 1
    recorder, mapper = engine.referrals.recorder, engine.referrals.mapper
    while section := recorder.select_notifications(start, limit=500):
        for n in section:
            if is_case_event(n.topic):
                event = mapper.to_domain_event(n)
                found.append((event_id(event.originator_id, event.originator_version), n.id))
        start = section[-1].id + 1
    return found


class FlakyAcks:
    """The projectors' JetStream context: the first acknowledgement of a delivery from the
    ``fail_on``-th on raises an error no component expects, after its batch was committed to
    the view; every other acknowledgement is made. (A batch is acknowledged once, by its last
    delivery applied, which may come from a later fetch than the ``fail_on``-th; the one
    consumer feeds every view, so the failure leaves all three views ahead of its acks.)"""

    def __init__(self, js: JetStreamContext, fail_on: int) -> None:
        self._js = js
        self.fail_on = fail_on
        self.deliveries = 0
        self.failed = 0

    @property
    def _nc(self) -> _MarkedDeliveries:
        """The connection the projectors' consumer reads on (``adapters.nats.fetching``)."""
        return _MarkedDeliveries(self._js._nc, self)  # the real one, wrapped

    def mark(self, msg: Msg) -> None:
        self.deliveries += 1
        if self.deliveries >= self.fail_on and not self.failed:
            msg.ack = self._once(msg.ack)  # type: ignore[method-assign, assignment]
            msg.ack_sync = self._once(msg.ack_sync)  # type: ignore[method-assign, assignment]

    def _once(self, real: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        """``real``, except that the first call of any of them fails instead."""

        async def ack(*args: Any, **kwargs: Any) -> Any:
            if self.failed:
                return await real(*args, **kwargs)
            self.failed += 1
            raise RuntimeError("injected failure")

        return ack

    def __getattr__(self, name: str) -> Any:
        return getattr(self._js, name)


class _MarkedDeliveries:
    """A NATS connection whose subscriptions' deliveries ``flaky`` marks before they are taken."""

    def __init__(self, nc: Client, flaky: FlakyAcks) -> None:
        self._nc = nc
        self._flaky = flaky

    async def subscribe(
        self, subject: str, cb: Callable[[Msg], Awaitable[None]], **kwargs: Any
    ) -> Any:
        async def marked(msg: Msg) -> None:
            if msg.reply:  # a delivery, not the server's word on a request
                self._flaky.mark(msg)
            await cb(msg)

        return await self._nc.subscribe(subject, cb=marked, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._nc, name)


class FailingCommits:
    """The intake's hook after a batch was stored: raises an error no component expects, before
    any of the batch is receipted or acknowledged, the first ``times`` times."""

    def __init__(self, times: int) -> None:
        self.times = times
        self.failed = 0

    async def __call__(self) -> None:
        if self.failed < self.times:
            self.failed += 1
            raise RuntimeError("injected failure")


def flaky_part(name: str) -> tuple[Override, Callable[[], int]]:
    """An override making component ``name`` fail once mid-work, and its count of failures."""
    if name == "intake":
        hook = FailingCommits(times=1)

        def intake(engine: Engine, link: NatsLink, _: StatusBoard) -> dict[str, Component]:
            return {"intake": Intake(engine, link.js, after_commit=hook).run}

        return intake, lambda: hook.failed
    made: list[FlakyAcks] = []

    def projectors(engine: Engine, link: NatsLink, _: StatusBoard) -> dict[str, Component]:
        made.append(FlakyAcks(link.js, fail_on=7))
        return {"projectors": partial(run_projectors, engine, cast(JetStreamContext, made[0]))}

    return projectors, lambda: made[0].failed


@pytest.fixture(params=["intake", "projectors"])
async def with_failing_part(
    request: pytest.FixtureRequest, tmp_path: Path, nats_server: EmbeddedNatsServer
) -> AsyncIterator[tuple[Running, str, Callable[[], int]]]:
    override, failures = flaky_part(request.param)
    async for stack in start(tmp_path, nats_server, override):
        yield stack, request.param, failures


async def test_a_component_failing_mid_work_resumes_without_loss_or_duplicate(
    with_failing_part: tuple[Running, str, Callable[[], int]],
) -> None:
    stack, failing, failures = with_failing_part
    plan = Plan.of(persons=20, signals=30, prefix=f"{failing}-fails", seed=15)
    await publish(stack.link.nc, Plan(plan.signals[:15]))
    await stack.until(lambda: stack.board.snapshot()[failing].restarts == 1, f"{failing} failed")
    # It waits to restart (the gate is shut); /ready names it, the rest is up and answers.
    status, body = await stack.ready()
    assert status == 503
    assert body["components"][failing]["state"] == "restarting"
    assert body["components"][failing]["last_error"] == "RuntimeError"
    others = {n: c["state"] for n, c in body["components"].items() if n != failing}
    assert others == dict.fromkeys(ALL - {failing}, "up")
    coordinator = {"Authorization": f"Bearer {stack.tokens['demo-coordinator-kerkrade']}"}
    assert (await stack.http.get("/cases", headers=coordinator)).status_code == 200
    await publish(stack.link.nc, Plan(plan.signals[15:]))
    # Let go: it starts again and picks up where its last commit left it.
    stack.gate.opened.set()

    async def back() -> bool:
        return (await stack.ready())[0] == 200

    await eventually(back, f"the {failing} up again")
    await verify_nothing_lost_or_doubled(stack, plan)
    assert failures() == 1
    assert stack.board.snapshot()[failing].restarts == 1


@pytest.fixture
async def with_crashing_api(
    tmp_path: Path, nats_server: EmbeddedNatsServer
) -> AsyncIterator[tuple[Running, asyncio.Event]]:
    crash = asyncio.Event()

    def override(engine: Engine, link: NatsLink, board: StatusBoard) -> dict[str, Component]:
        runs = 0

        async def api(stop: asyncio.Event) -> None:
            nonlocal runs
            runs += 1
            if runs > 1:
                await serve_api(engine, link, stop, components=board)
                return
            # The first run serves until the test crashes it: the server stops and the
            # component raises, as an API whose server failed would.
            inner = asyncio.Event()
            serving = asyncio.create_task(serve_api(engine, link, inner, components=board))
            await asyncio.wait(
                [serving, asyncio.ensure_future(crash.wait())],
                return_when=asyncio.FIRST_COMPLETED,
            )
            inner.set()
            await serving
            raise RuntimeError("injected failure")

        return {"api": api}

    # The API on its worker processes, as `ks run` serves it: they end and start with it.
    async for stack in start(tmp_path, nats_server, override, api_workers=2):
        yield stack, crash


async def test_a_crashed_api_restarts_and_signals_are_taken_in_meanwhile(
    with_crashing_api: tuple[Running, asyncio.Event],
) -> None:
    stack, crash = with_crashing_api
    js = stack.link.js
    crash.set()
    await stack.until(lambda: stack.board.snapshot()["api"].restarts == 1, "the API failed")
    # While the API is down nobody can ask it: connections are refused (a probe sees that as
    # not ready); the rest of the engine takes signals in and receipts them.
    with pytest.raises(httpx.TransportError):
        await stack.ready()
    plan = Plan.of(persons=10, signals=10, prefix="api-down", seed=21)
    await publish(stack.link.nc, plan)
    summary = await verify_every_signal_took_effect_once(js, stack.settings, plan)
    await verify_views_converge(stack.settings, summary)
    # Let go: the API serves again and reports its own restart.
    stack.gate.opened.set()

    async def api_back() -> bool:
        try:
            status, _ = await stack.ready()
        except httpx.TransportError:
            return False
        return status == 200

    await eventually(api_back, "the API answering again")
    status, body = await stack.ready()
    assert status == 200
    assert body["components"]["api"] == {
        "state": "up",
        "required": True,
        "restarts": 1,
        "last_error": "RuntimeError",
    }
    metrics = (await stack.http.get("/metrics")).text
    assert 'ks_component_restarts_total{component="api"} 1.0' in metrics
    assert 'ks_component_up{component="relay"} 1.0' in metrics


def test_ready_answers_503_naming_a_component_that_is_not_up(tmp_path: Path) -> None:
    engine = bootstrap(Settings(data_dir=tmp_path / "data", store="sqlite"), configure_logs=False)
    try:
        board = StatusBoard()
        board.track("relay")
        board.track("intake")
        client = TestClient(create_app(engine, components=board))
        assert client.get("/ready").status_code == 503  # nothing started yet
        board.up("relay")
        board.up("intake")
        ready = client.get("/ready")
        assert ready.status_code == 200
        assert ready.json()["components"]["intake"] == {
            "state": "up",
            "required": True,
            "restarts": 0,
            "last_error": None,
        }
        board.restarting("intake", "nats.errors.TimeoutError")
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["status"] == "not ready"
        assert ready.json()["components"]["intake"]["last_error"] == "nats.errors.TimeoutError"
    finally:
        engine.close()
