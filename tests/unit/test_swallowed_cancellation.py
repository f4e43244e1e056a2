"""A long-running loop of the engine stops when its task is cancelled, even where the NATS
client catches the cancellation and goes on (nats-py does so in places): the intake's and the
sealer's loops re-raise it, as the relay's and the projectors' do. Otherwise a process being
stopped waits for ever on a loop that keeps running."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import nats.errors

from adapters.nats.intake import Intake
from adapters.persistence.store_turns import NoTurns
from ks_engine.audit.sealer import _seal_until_stopped
from ks_engine.settings import Settings

GUARD = 5.0  # seconds: against hanging, never a speed requirement


async def _swallowing_wait() -> None:
    """A NATS call that catches its task's cancellation and reports a timeout instead."""
    try:
        await asyncio.sleep(0.05)
    except asyncio.CancelledError:
        raise nats.errors.TimeoutError from None


class _Subscription:
    async def unsubscribe(self) -> None:
        return None


class _Connection:
    """The NATS connection a pull consumer asks for its next messages on."""

    def new_inbox(self) -> str:
        return "_INBOX.test"

    async def subscribe(self, *_: Any, **__: Any) -> _Subscription:
        return _Subscription()

    async def publish(self, *_: Any, **__: Any) -> None:
        await _swallowing_wait()
        raise nats.errors.TimeoutError  # nothing arrived, as an idle consumer answers


class _JetStream:
    _nc = _Connection()

    async def consumer_info(self, *_: Any, **__: Any) -> None:
        return None  # it exists


class _Host:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.referrals = None

    def signal_rules(self) -> None:
        return None

    def pseudonymise(self, bsn: str) -> str:
        return bsn

    def store_turns(self) -> NoTurns:
        return NoTurns()


class _Sealer:
    def seal_pending(self) -> None:
        return None

    def checkpoint(self) -> None:
        return None

    async def publish_checkpoints(self, js: Any) -> int:
        await _swallowing_wait()
        return 0


async def _cancelled_while_running(loop: Any, stop: asyncio.Event) -> None:
    task = asyncio.create_task(loop)
    await asyncio.sleep(0.2)  # it runs, mostly inside the NATS call that swallows cancellation
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=GUARD)
    if task not in done:
        stop.set()  # end it the other way, so that a failing test does not hang the suite
        await asyncio.wait({task}, timeout=GUARD)
    assert task in done, "the loop went on after its task was cancelled"
    assert task.cancelled()


async def test_a_cancelled_intake_stops(tmp_path: Path) -> None:
    intake = Intake(_Host(Settings(data_dir=tmp_path)), _JetStream())  # type: ignore[arg-type]
    stop = asyncio.Event()
    await _cancelled_while_running(intake.run(stop), stop)


async def test_a_cancelled_sealer_stops() -> None:
    stop = asyncio.Event()
    loop = _seal_until_stopped(
        _Sealer(),  # type: ignore[arg-type]
        stop,
        asyncio.Event(),
        _JetStream(),  # type: ignore[arg-type]
        checkpoint_seconds=3600,
        poll_seconds=0.01,
    )
    await _cancelled_while_running(loop, stop)
