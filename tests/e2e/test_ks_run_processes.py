"""`ks run` as an operator starts it: each component a process of its own, supervised.

A process killed outright (SIGKILL) is started again, ``/ready`` says so, and the signals sent
meanwhile still reach the work queue, each once; when `ks run` itself is killed outright, no
process of it keeps running, its embedded nats-server included.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from adapters.nats.embedded import free_port
from entrypoints.processes import PROCESSES
from ks_engine.demo import demo_bsn
from tests.e2e.engine_process import (
    output,
    signals_and_receipts,
    start,
    wait_for_work_queue,
)
from tests.e2e.test_http_demo_process import wait_until_serving


def children(pid: int) -> dict[str, list[int]]:
    """The processes `ks run` (``pid``) started, by module (``nats-server`` for its embedded
    server), each module's process ids in ascending order."""
    found: dict[str, list[int]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            for part in cmdline:
                if part.startswith(b"entrypoints.processes."):
                    module = part.decode().removeprefix("entrypoints.processes.")
                    found.setdefault(module, []).append(int(child))
            if Path(cmdline[0].decode()).name == "nats-server":
                found.setdefault("nats-server", []).append(int(child))
    return {module: sorted(pids) for module, pids in found.items()}


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def until(check: Callable[[], bool], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


async def test_a_killed_process_of_ks_run_is_restarted_and_loses_nothing(tmp_path: Path) -> None:
    nats_port, api_port = free_port(), free_port()
    base = f"http://127.0.0.1:{api_port}"
    env = {"KS_EMBEDDED_NATS_PORT": str(nats_port), "KS_API_PORT": str(api_port)}
    proc = start(["run"], tmp_path, **env, KS_INTAKE_PROCESSES="2")
    try:
        await asyncio.to_thread(wait_until_serving, base, proc)
        first = children(proc.pid)
        modules = {module: 1 for module in PROCESSES} | {"intake": 2, "nats-server": 1}
        assert {module: len(pids) for module, pids in first.items()} == modules, first
        ready = httpx.get(f"{base}/ready").json()
        assert set(ready["components"]) == {*PROCESSES, "intake-2"}
        assert {c["state"] for c in ready["components"].values()} == {"up"}

        os.kill(first["relay"][0], signal.SIGKILL)
        bsns = [demo_bsn(random.Random(seed)) for seed in (3, 4)]
        got = await signals_and_receipts(f"nats://127.0.0.1:{nats_port}", bsns * 2, "kill")
        queue = await wait_for_work_queue(tmp_path, {r["case_id"] for r in got})
        assert [(e.signal_count, e.state) for e in queue] == [(2, "signalled")] * 2

        again = children(proc.pid)
        assert again["relay"] != first["relay"]
        assert {k: v for k, v in again.items() if k != "relay"} == {
            k: v for k, v in first.items() if k != "relay"
        }, "only the killed process was started again"
        relay = httpx.get(f"{base}/ready").json()["components"]["relay"]
        assert (relay["state"], relay["restarts"], relay["last_error"]) == (
            "up",
            1,
            "KilledBySIGKILL",
        )
    finally:
        running = children(proc.pid) if proc.poll() is None else {}
        proc.kill()  # outright: the processes it started must end with it
        proc.wait(timeout=30)
    assert "nats-server" in running, "ks run had no processes left to end"
    pids = [pid for module_pids in running.values() for pid in module_pids]
    assert until(lambda: not any(alive(pid) for pid in pids)), [pid for pid in pids if alive(pid)]
    log = output(tmp_path, "run")
    assert "component.failed" in log
    for bsn in bsns:
        assert bsn not in log, "a BSN reached the engine's log"
