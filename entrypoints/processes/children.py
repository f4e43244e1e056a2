"""`ks run`'s supervisor of processes: every component in a process of its own.

Promise (the same as for components in one process, ``ks_engine.supervisor``): a process that
ends before the engine stops is logged in one line (its name and how it ended), marked
``restarting`` on the board, and started again after the restart policy's delay; the others
are not touched. The stop event (Ctrl-C, SIGTERM) sends SIGTERM to every process, which drains
as it does alone; one still running after ``grace`` seconds is killed. The processes named
``last`` (the sealer) are asked only once the others have ended, so that the last checkpoint
covers everything they stored. A process that exits
with ``FATAL`` (the API's address is taken) stops all, and `ks run` exits with it. Should the
parent be killed outright, Linux ends its children (parent-death signal), so no process of a
killed `ks run` keeps running. Each process resumes where its store or durable consumer left
it, so a restart loses and repeats nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import structlog

from ks_engine.parent_death import end_with_parent
from ks_engine.supervision import Backoff, RestartPolicy, StatusBoard
from ks_engine.supervisor import pause_unless_stopped

log = structlog.get_logger("ks.supervisor")

FATAL = 2  # a process's exit status that no restart cures


def exit_name(code: int) -> str:
    """How a process ended, as the board and the log report it."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"KilledBy{signal.Signals(-code).name}"
        return f"KilledBySignal{-code}"
    return f"ExitedWith{code}"


@dataclass
class ChildProcesses:
    """Runs each command as a process until stopped, restarting one that ends."""

    commands: Mapping[str, Sequence[str]]
    board: StatusBoard
    env: Mapping[str, str] | None = None
    policy: RestartPolicy = field(default_factory=RestartPolicy)
    grace: float = 30.0
    last: frozenset[str] = frozenset()  # asked to stop once every other process has ended
    pids: dict[str, int] = field(default_factory=dict)
    _others_ended: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        for name in self.commands:
            self.board.track(name)

    async def run(self, stop: asyncio.Event) -> int:
        """Supervise every process until ``stop``; ``FATAL`` when one ended with it, else 0."""
        first = [
            asyncio.create_task(self._supervise(name, stop), name=name)
            for name in self.commands
            if name not in self.last
        ]
        later = [
            asyncio.create_task(self._supervise(name, stop), name=name)
            for name in self.commands
            if name in self.last
        ]

        async def mark_others_ended() -> None:
            await asyncio.gather(*first, return_exceptions=True)
            self._others_ended.set()

        marker = asyncio.create_task(mark_others_ended())
        codes = await asyncio.gather(*first, *later)
        await marker
        return FATAL if FATAL in codes else 0

    async def _supervise(self, name: str, stop: asyncio.Event) -> int:
        backoff = Backoff(self.policy, random.random)
        while not stop.is_set():
            started = time.monotonic()
            proc = await asyncio.create_subprocess_exec(
                *self.commands[name],
                env=None if self.env is None else dict(self.env),
                preexec_fn=end_with_parent,
                start_new_session=True,  # Ctrl-C reaches this process only: it stops them in order
            )
            self.pids[name] = proc.pid
            self.board.up(name)
            code = await self._until_ended(name, proc, stop)
            if stop.is_set():
                self.board.down(name)
                return 0
            if code == FATAL:
                self.board.down(name, exit_name(code))
                log.error("component.fatal", component=name, error=exit_name(code))
                stop.set()  # the others drain; `ks run` exits with the same status
                return FATAL
            delay = backoff.failed(time.monotonic() - started)
            self.board.restarting(name, exit_name(code))
            log.error(
                "component.failed",
                component=name,
                error=exit_name(code),
                consecutive=backoff.failures,
                restart_in=round(delay, 3),
            )
            await pause_unless_stopped(delay, stop)
            if not stop.is_set():
                log.info("component.restarting", component=name)
        self.board.down(name)
        return 0

    async def _until_ended(
        self, name: str, proc: asyncio.subprocess.Process, stop: asyncio.Event
    ) -> int:
        """The process's exit status; on ``stop`` it is asked to stop, then killed after
        ``grace`` seconds."""
        ended = asyncio.ensure_future(proc.wait())
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({ended, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not ended.done() and name in self.last:
            others = asyncio.ensure_future(self._others_ended.wait())
            try:
                await asyncio.wait({ended, others}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                others.cancel()
        if not ended.done():
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.shield(ended), self.grace)
            except TimeoutError:
                log.error("component.killed", component=name, after_seconds=self.grace)
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
        return await ended
