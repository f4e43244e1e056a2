"""Supervision policy and status: when a failed component starts again, and where each stands.

Pure (no asyncio, no I/O): ``ks_engine.supervisor`` applies it to the components of `ks run`
as tasks of one process, and a supervisor of separate processes applies the same policy and
reports on the same board. ``/ready`` and ``/metrics`` read the board.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum


class CannotStartError(Exception):
    """A component cannot start, and no restart would cure it (its address is taken)."""


class ComponentState(StrEnum):
    """Where a supervised component stands."""

    UP = "up"  # running
    RESTARTING = "restarting"  # failed; waits for its next start
    DOWN = "down"  # not started yet, or stopped with the engine


@dataclass(frozen=True)
class RestartPolicy:
    """Exponential backoff, bounded, with jitter; a healthy run forgets earlier failures."""

    first_delay: float = 0.5  # seconds before the first restart
    max_delay: float = 30.0  # the delay never grows past this
    factor: float = 2.0  # each further consecutive failure multiplies the delay
    jitter: float = 0.2  # up to this fraction is taken off at random (restarts do not align)
    healthy_after: float = 60.0  # a run this long (seconds) resets the consecutive failures

    def __post_init__(self) -> None:
        if not 0 < self.first_delay <= self.max_delay:
            raise ValueError("a restart policy needs 0 < first_delay <= max_delay")
        if self.factor < 1 or not 0 <= self.jitter < 1 or self.healthy_after < 0:
            raise ValueError(
                "a restart policy needs factor >= 1, 0 <= jitter < 1, healthy_after >= 0"
            )

    def delay(self, failures: int, draw: float) -> float:
        """Seconds before restarting after ``failures`` consecutive failures (1 = the first);
        ``draw`` is a random number in [0, 1) that picks the jitter."""
        delay = self.first_delay
        for _ in range(max(failures, 1) - 1):  # no power: a long outage must not overflow
            delay *= self.factor
            if delay >= self.max_delay:
                break
        return min(delay, self.max_delay) * (1 - self.jitter * draw)


class Backoff:
    """One component's consecutive failures under a policy."""

    def __init__(self, policy: RestartPolicy, draw: Callable[[], float]) -> None:
        self.policy = policy
        self.draw = draw
        self.failures = 0

    def failed(self, ran_for: float) -> float:
        """Count a failure after a run of ``ran_for`` seconds; the delay before the restart."""
        if ran_for >= self.policy.healthy_after:
            self.failures = 0
        self.failures += 1
        return self.policy.delay(self.failures, self.draw())


@dataclass(frozen=True)
class ComponentStatus:
    """One component as ``/ready`` reports it; ``last_error`` is the class, never a message."""

    state: ComponentState = ComponentState.DOWN
    required: bool = True  # the engine is not ready while a required component is not up
    restarts: int = 0
    last_error: str | None = None


def error_name(exc: BaseException | None) -> str:
    """An error's class as logged and reported (messages may quote personal data)."""
    if exc is None:
        return "EndedUnexpectedly"
    cls = type(exc)
    return (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )


class StatusBoard:
    """Where each supervised component stands; safe to read from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._status: dict[str, ComponentStatus] = {}
        self._listeners: list[Callable[[], None]] = []

    def watch(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` after every change from now on; the function that stops it."""
        self._listeners.append(listener)

        def stop() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return stop

    def _changed(self) -> None:
        for listener in tuple(self._listeners):
            listener()

    def track(self, name: str, *, required: bool = True) -> None:
        """Report on ``name`` from now on (``down`` until it starts)."""
        with self._lock:
            self._status.setdefault(name, ComponentStatus(required=required))
        self._changed()

    def up(self, name: str) -> None:
        """``name`` (re)started."""
        self._set(name, state=ComponentState.UP)

    def restarting(self, name: str, error: str) -> None:
        """``name`` failed with ``error`` (a class name) and will start again."""
        with self._lock:
            old = self._status[name]
            self._status[name] = replace(
                old, state=ComponentState.RESTARTING, restarts=old.restarts + 1, last_error=error
            )
        self._changed()

    def down(self, name: str, error: str | None = None) -> None:
        """``name`` stopped (with ``error`` when it failed while stopping)."""
        with self._lock:
            old = self._status[name]
            self._status[name] = replace(
                old, state=ComponentState.DOWN, last_error=error or old.last_error
            )
        self._changed()

    def _set(self, name: str, *, state: ComponentState) -> None:
        with self._lock:
            self._status[name] = replace(self._status[name], state=state)
        self._changed()

    def snapshot(self) -> dict[str, ComponentStatus]:
        """Every component's status, as of now."""
        with self._lock:
            return dict(self._status)

    @property
    def ready(self) -> bool:
        """Every required component is up."""
        return all_required_up(self.snapshot())


def all_required_up(statuses: Mapping[str, ComponentStatus]) -> bool:
    """Whether every required component of ``statuses`` is up."""
    return all(s.state is ComponentState.UP for s in statuses.values() if s.required)
