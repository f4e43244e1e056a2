"""The supervisor's policy: restarts with bounded, jittered backoff, and the status board.

Time is the test's: an injected clock and an injected pause that records the delay it was
asked to wait and returns at once, so nothing here waits on or measures the wall clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from adapters.http.metrics import ApiMetrics
from ks_engine.supervision import (
    Backoff,
    ComponentState,
    ComponentStatus,
    RestartPolicy,
    StatusBoard,
)
from ks_engine.supervisor import Component, Supervisor

POLICY = RestartPolicy(first_delay=0.5, max_delay=30.0, factor=2.0, jitter=0.2, healthy_after=60)


class FakeClock:
    """Seconds that pass only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Pauses:
    """The supervisor's pause: records each delay and what the board showed, then returns."""

    def __init__(self, board: StatusBoard, then: Callable[[asyncio.Event], None] | None = None):
        self.board = board
        self.then = then
        self.delays: list[float] = []
        self.seen: list[dict[str, ComponentStatus]] = []

    async def __call__(self, seconds: float, stop: asyncio.Event) -> None:
        self.delays.append(seconds)
        self.seen.append(self.board.snapshot())
        if self.then is not None:
            self.then(stop)


def supervisor(
    components: dict[str, Component],
    pauses: Callable[[StatusBoard], Pauses] = Pauses,
    fatal: tuple[type[Exception], ...] = (),
) -> tuple[Supervisor, Pauses, FakeClock]:
    """A supervisor on the test's clock and pause, with no jitter drawn."""
    board, clock = StatusBoard(), FakeClock()
    pause = pauses(board)
    sup = Supervisor(components, board, POLICY, fatal, clock=clock, pause=pause, draw=lambda: 0.0)
    return sup, pause, clock


def test_the_delay_doubles_from_the_first_up_to_the_bound() -> None:
    delays = [POLICY.delay(n, draw=0.0) for n in range(1, 10)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


@given(
    failures=st.integers(min_value=1, max_value=100_000),
    draw=st.floats(min_value=0, max_value=1, exclude_max=True),
    first=st.floats(min_value=0.001, max_value=10),
    spread=st.floats(min_value=1, max_value=1000),
    factor=st.floats(min_value=1, max_value=100),
    jitter=st.floats(min_value=0, max_value=0.99),
)
def test_a_delay_stays_within_its_jitter_below_the_bound(
    failures: int, draw: float, first: float, spread: float, factor: float, jitter: float
) -> None:
    policy = RestartPolicy(
        first_delay=first, max_delay=first * spread, factor=factor, jitter=jitter
    )
    full = policy.delay(failures, draw=0.0)
    assert first <= full <= policy.max_delay
    assert full * (1 - jitter) <= policy.delay(failures, draw) <= full
    assert policy.delay(failures + 1, draw=0.0) >= full  # never shrinks while failures go on


def test_a_healthy_run_forgets_earlier_failures() -> None:
    backoff = Backoff(POLICY, draw=lambda: 0.0)
    assert [backoff.failed(ran_for=1) for _ in range(3)] == [0.5, 1.0, 2.0]
    # The component then ran for a minute before failing: it starts again after the first delay.
    assert backoff.failed(ran_for=60) == 0.5
    assert backoff.failures == 1


@pytest.mark.parametrize(
    "bad",
    [
        {"first_delay": 0},
        {"first_delay": 5, "max_delay": 1},
        {"factor": 0.5},
        {"jitter": 1.0},
        {"healthy_after": -1},
    ],
)
def test_a_policy_that_makes_no_sense_is_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="restart policy"):
        RestartPolicy(**bad)


async def test_a_failing_component_restarts_with_backoff_while_the_others_run_on() -> None:
    starts = {"relay": 0, "intake": 0}
    relay_running, intake_running = asyncio.Event(), asyncio.Event()

    async def relay(stop: asyncio.Event) -> None:
        starts["relay"] += 1
        await intake_running.wait()
        if starts["relay"] <= 2:
            raise RuntimeError("publish failed for case of 111222333")  # a message with a BSN
        relay_running.set()
        await stop.wait()

    async def intake(stop: asyncio.Event) -> None:
        starts["intake"] += 1
        intake_running.set()
        await stop.wait()

    sup, pauses, _ = supervisor({"relay": relay, "intake": intake})
    stop = asyncio.Event()
    with capture_logs() as logs:
        running = asyncio.create_task(sup.run(stop))
        await asyncio.wait_for(relay_running.wait(), timeout=10)
        # Back up after two failures, the intake never stopped or started again.
        now = sup.board.snapshot()
        assert now["relay"] == ComponentStatus(ComponentState.UP, True, 2, "RuntimeError")
        assert now["intake"] == ComponentStatus(ComponentState.UP, True, 0, None)
        assert sup.board.ready
        stop.set()
        await asyncio.wait_for(running, timeout=10)
    assert starts == {"relay": 3, "intake": 1}
    assert pauses.delays == [0.5, 1.0]
    # While it waited, the board said so (and the engine was not ready).
    assert [s["relay"].state for s in pauses.seen] == [ComponentState.RESTARTING] * 2
    assert [s["relay"].restarts for s in pauses.seen] == [1, 2]
    assert [s["intake"].state for s in pauses.seen] == [ComponentState.UP] * 2
    failed = [e for e in logs if e["event"] == "component.failed"]
    assert [(e["component"], e["error"], e["consecutive"]) for e in failed] == [
        ("relay", "RuntimeError", 1),
        ("relay", "RuntimeError", 2),
    ]
    assert all(e["at"].startswith("test_supervision.py:") for e in failed)
    assert "111222333" not in repr(logs)  # the error's message is never logged
    assert {s.state for s in sup.board.snapshot().values()} == {ComponentState.DOWN}


async def test_a_component_that_ran_healthily_restarts_after_the_first_delay_again() -> None:
    clock_box: list[FakeClock] = []
    runs = 0

    async def sealer(stop: asyncio.Event) -> None:
        nonlocal runs
        runs += 1
        if runs == 3:  # the second restart ran for 90 seconds before it failed again
            clock_box[0].now += 90
        if runs == 4:
            stop.set()
            return
        raise OSError("disk")

    sup, pauses, clock = supervisor({"sealer": sealer})
    clock_box.append(clock)
    await asyncio.wait_for(sup.run(asyncio.Event()), timeout=10)
    assert pauses.delays == [0.5, 1.0, 0.5]
    assert sup.board.snapshot()["sealer"].restarts == 3


async def test_a_component_that_ends_before_the_stop_is_restarted() -> None:
    runs = 0

    async def projectors(stop: asyncio.Event) -> None:
        nonlocal runs
        runs += 1
        if runs == 2:
            await stop.wait()

    sup, pauses, _ = supervisor({"projectors": projectors})
    stop = asyncio.Event()
    running = asyncio.create_task(sup.run(stop))

    async def restarted() -> None:
        while runs < 2:
            await asyncio.sleep(0)

    await asyncio.wait_for(restarted(), timeout=10)
    stop.set()
    await asyncio.wait_for(running, timeout=10)
    assert pauses.seen[0]["projectors"].last_error == "EndedUnexpectedly"
    assert runs == 2


async def test_a_stop_during_the_backoff_starts_nothing_again() -> None:
    runs = 0

    async def relay(stop: asyncio.Event) -> None:
        nonlocal runs
        runs += 1
        raise RuntimeError

    sup, pauses, _ = supervisor({"relay": relay}, lambda b: Pauses(b, then=lambda s: s.set()))
    await asyncio.wait_for(sup.run(asyncio.Event()), timeout=10)
    assert runs == 1
    assert pauses.delays == [0.5]
    assert sup.board.snapshot()["relay"] == ComponentStatus(
        ComponentState.DOWN, True, 1, "RuntimeError"
    )


class AddressTakenError(Exception):
    """Stands for an error no restart can cure."""


async def test_a_fatal_error_stops_every_component_and_is_raised() -> None:
    drained: list[str] = []
    intake_running = asyncio.Event()

    async def api(stop: asyncio.Event) -> None:
        await intake_running.wait()
        raise AddressTakenError

    async def intake(stop: asyncio.Event) -> None:
        intake_running.set()
        await stop.wait()
        drained.append("intake")

    sup, pauses, _ = supervisor({"api": api, "intake": intake}, fatal=(AddressTakenError,))
    with pytest.raises(AddressTakenError):
        await asyncio.wait_for(sup.run(asyncio.Event()), timeout=10)
    assert drained == ["intake"]
    assert pauses.delays == []
    assert sup.board.snapshot()["api"].last_error == f"{__name__}.AddressTakenError"


async def test_a_failure_while_stopping_is_logged_and_not_restarted() -> None:
    runs = 0
    running_once = asyncio.Event()

    async def sealer(stop: asyncio.Event) -> None:
        nonlocal runs
        runs += 1
        running_once.set()
        await stop.wait()
        raise RuntimeError("last checkpoint failed")

    sup, pauses, _ = supervisor({"sealer": sealer})
    stop = asyncio.Event()
    with capture_logs() as logs:
        running = asyncio.create_task(sup.run(stop))
        await asyncio.wait_for(running_once.wait(), timeout=10)
        stop.set()
        await asyncio.wait_for(running, timeout=10)
    assert runs == 1
    assert pauses.delays == []
    assert [e["event"] for e in logs] == ["component.failed_while_stopping"]
    assert sup.board.snapshot()["sealer"].state is ComponentState.DOWN
    assert sup.board.snapshot()["sealer"].last_error == "RuntimeError"


async def test_cancelling_the_supervisor_cancels_the_components() -> None:
    cancelled, serving = asyncio.Event(), asyncio.Event()

    async def api(stop: asyncio.Event) -> None:
        serving.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    sup, _, _ = supervisor({"api": api})
    running = asyncio.create_task(sup.run(asyncio.Event()))
    await asyncio.wait_for(serving.wait(), timeout=10)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert cancelled.is_set()
    assert sup.board.snapshot()["api"].restarts == 0


def test_the_metrics_count_restarts_per_component_from_the_board() -> None:
    board = StatusBoard()
    for name in ("intake", "relay"):
        board.track(name)
        board.up(name)
    board.restarting("relay", "RuntimeError")
    board.up("relay")
    board.restarting("relay", "RuntimeError")
    text = ApiMetrics(components=board).render().decode()
    assert 'ks_component_restarts_total{component="relay"} 2.0' in text
    assert 'ks_component_restarts_total{component="intake"} 0.0' in text
    assert 'ks_component_up{component="relay"} 0.0' in text
    assert 'ks_component_up{component="intake"} 1.0' in text


def test_the_engine_is_ready_only_while_every_required_component_is_up() -> None:
    board = StatusBoard()
    board.track("api")
    board.track("sealer", required=False)
    assert not board.ready  # nothing started yet
    board.up("api")
    assert board.ready  # the sealer is not required
    board.restarting("api", "RuntimeError")
    assert not board.ready
