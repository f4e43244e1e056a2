"""The engine's long-lived processes run on uvloop (``ks_engine.runtime.run_event_loop``)."""

from __future__ import annotations

import asyncio

import uvloop

from ks_engine.runtime import run_event_loop


def test_run_event_loop_runs_the_coroutine_on_uvloop_and_returns_its_result() -> None:
    async def main() -> tuple[type, int]:
        await asyncio.sleep(0)
        worked = await asyncio.to_thread(sum, [1, 2, 3])  # the default executor is there too
        return type(asyncio.get_running_loop()), worked

    loop_type, worked = run_event_loop(main())

    assert issubclass(loop_type, uvloop.Loop)
    assert worked == 6
