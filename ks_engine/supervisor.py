"""The supervisor of `ks run`: a component that fails starts again; the others keep running.

Promise: a component that raises, or ends before the engine stops, is logged in one line (its
name, the error's class and where it was raised, never the message, which may quote personal
data), marked ``restarting`` on the status board, and started again after a growing, bounded,
jittered delay (``RestartPolicy``); the other components are not touched. Only the stop event
(Ctrl-C, SIGTERM) ends them all, each draining as it does alone; a component that fails while
stopping is logged, not restarted. An error no restart can cure (``fatal``: the API's address
is taken) stops the engine as before and is raised.

Each component keeps its own guarantee across a restart: its position lives in a store or a
durable consumer, so a restarted relay, intake or projector resumes where the last commit left
it, without gap or duplicate.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import structlog

from adapters.nats.stopping import sleep_or_stop
from ks_engine.supervision import Backoff, RestartPolicy, StatusBoard, error_name

log = structlog.get_logger("ks.supervisor")

Component = Callable[[asyncio.Event], Awaitable[None]]
"""A long-lived part of the engine: runs until the event is set, then drains and returns."""

Pause = Callable[[float, asyncio.Event], Awaitable[None]]
"""Wait the given seconds, or less when the event (stop) is set."""


async def pause_unless_stopped(seconds: float, stop: asyncio.Event) -> None:
    """Wait ``seconds`` or until ``stop``; never swallows a cancellation (``sleep_or_stop``
    in the argument order of a ``Pause``)."""
    await sleep_or_stop(stop, seconds)


def raised_at(exc: BaseException | None) -> str | None:
    """Where ``exc`` was raised (file:line in function), without its message or values."""
    if exc is None or exc.__traceback__ is None:
        return None
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    return f"{os.path.basename(frame.filename)}:{frame.lineno} in {frame.name}"


@dataclass
class Supervisor:
    """Runs components until stopped, restarting each after an unexpected error."""

    components: Mapping[str, Component]
    board: StatusBoard
    policy: RestartPolicy = field(default_factory=RestartPolicy)
    fatal: tuple[type[Exception], ...] = ()
    clock: Callable[[], float] = time.monotonic
    pause: Pause = pause_unless_stopped
    draw: Callable[[], float] = random.random

    def __post_init__(self) -> None:
        for name in self.components:
            self.board.track(name)

    async def run(self, stop: asyncio.Event) -> None:
        """Supervise every component until ``stop``; a fatal error stops all and is raised."""
        tasks = [
            asyncio.create_task(self._supervise(name, component, stop), name=name)
            for name, component in self.components.items()
        ]
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _supervise(self, name: str, component: Component, stop: asyncio.Event) -> None:
        backoff = Backoff(self.policy, self.draw)
        while not stop.is_set():
            self.board.up(name)
            started = self.clock()
            error: Exception | None = None
            try:
                await component(stop)
            except self.fatal as exc:
                self.board.down(name, error_name(exc))
                log.error("component.fatal", component=name, error=error_name(exc))
                stop.set()  # the others drain; the error ends `ks run`
                raise
            except Exception as exc:  # supervision: any error restarts the component
                error = exc
            if stop.is_set():
                if error is not None:
                    log.error(
                        "component.failed_while_stopping",
                        component=name,
                        error=error_name(error),
                        at=raised_at(error),
                    )
                self.board.down(name, error_name(error) if error else None)
                return
            delay = backoff.failed(self.clock() - started)
            self.board.restarting(name, error_name(error))
            log.error(
                "component.failed",
                component=name,
                error=error_name(error),
                at=raised_at(error),
                consecutive=backoff.failures,
                restart_in=round(delay, 3),
            )
            await self.pause(delay, stop)
            if not stop.is_set():
                log.info("component.restarting", component=name)
        self.board.down(name)
