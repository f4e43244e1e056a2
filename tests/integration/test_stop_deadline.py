"""A process whose graceful stop hangs ends anyway at its deadline, with status 1, so that a
process of a killed `ks run` (its NATS server gone with it) cannot keep running; one that stops
in time ends as it would have."""

from __future__ import annotations

import signal
import subprocess
import sys

GUARD = 60.0  # seconds: against hanging, never a speed requirement

HANGS = """
import asyncio, sys
from ks_engine.runtime import stop_on_signals

async def main() -> None:
    stop = stop_on_signals(deadline=float(sys.argv[1]))
    print("ready", flush=True)
    await stop.wait()
    if sys.argv[2] == "hang":
        await asyncio.sleep(3600)  # a stop that never finishes

asyncio.run(main())
"""


def _stopped(mode: str) -> int:
    proc = subprocess.Popen(
        [sys.executable, "-c", HANGS, "0.5", mode], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=GUARD)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_stop_that_hangs_ends_the_process_at_its_deadline() -> None:
    assert _stopped("hang") == 1


def test_a_stop_in_time_ends_as_usual() -> None:
    assert _stopped("return") == 0
