"""`ks run`'s supervisor of processes, on real processes; its board as the API reads it."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from entrypoints.processes.children import FATAL, ChildProcesses, exit_name
from entrypoints.processes.status_file import UNREADABLE, BoardFile, SharedBoard
from ks_engine.supervision import ComponentState, RestartPolicy

QUICK = RestartPolicy(first_delay=0.05, max_delay=0.1, jitter=0)


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


async def test_a_process_that_ends_is_started_again_and_the_others_are_left_alone(
    tmp_path: Path,
) -> None:
    starts = tmp_path / "starts"
    crashing = python(
        f"import pathlib, sys; p = pathlib.Path({str(starts)!r}); "
        "p.write_text(p.read_text() + 'x' if p.exists() else 'x'); sys.exit(3)"
    )
    steady = python("import time; time.sleep(60)")
    board = SharedBoard(tmp_path / "run" / "components.json")
    kids = ChildProcesses({"crashing": crashing, "steady": steady}, board, policy=QUICK)
    stop = asyncio.Event()
    running = asyncio.create_task(kids.run(stop))

    async def started_three_times() -> None:
        while not starts.exists() or len(starts.read_text()) < 3:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(started_three_times(), 60)
    steady_pid = kids.pids["steady"]
    seen = BoardFile(board.path).snapshot()
    stop.set()
    assert await asyncio.wait_for(running, 30) == 0
    assert kids.pids["steady"] == steady_pid, "the steady process was never restarted"
    assert seen["crashing"].restarts >= 2
    assert seen["crashing"].last_error == exit_name(3) == "ExitedWith3"
    assert seen["steady"].state is ComponentState.UP
    after = BoardFile(board.path).snapshot()
    assert {s.state for s in after.values()} == {ComponentState.DOWN}


async def test_stopping_asks_each_process_to_stop_and_kills_one_that_does_not(
    tmp_path: Path,
) -> None:
    polite = python(
        "import signal, sys, time; "
        "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); time.sleep(60)"
    )
    stubborn = python(
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    )
    board = SharedBoard(tmp_path / "components.json")
    kids = ChildProcesses({"polite": polite, "stubborn": stubborn}, board, grace=1.0)
    stop = asyncio.Event()
    running = asyncio.create_task(kids.run(stop))
    await asyncio.sleep(1.0)
    stop.set()
    started = asyncio.get_running_loop().time()
    assert await asyncio.wait_for(running, 30) == 0
    assert asyncio.get_running_loop().time() - started < 20  # the kill came; no 60 s sleep


async def test_a_process_that_cannot_start_stops_every_process_with_its_status(
    tmp_path: Path,
) -> None:
    board = SharedBoard(tmp_path / "components.json")
    kids = ChildProcesses(
        {
            "api": python(f"import sys, time; time.sleep(0.5); sys.exit({FATAL})"),
            "other": python("import time; time.sleep(60)"),
        },
        board,
        policy=QUICK,
    )
    assert await asyncio.wait_for(kids.run(asyncio.Event()), 30) == FATAL
    found = BoardFile(board.path).snapshot()
    assert found["api"].last_error == f"ExitedWith{FATAL}"
    assert {s.state for s in found.values()} == {ComponentState.DOWN}


@pytest.mark.parametrize("content", [None, "", "{", '{"intake": {"state": "sideways"}}', "[]"])
def test_a_board_file_that_cannot_be_read_is_not_ready(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "components.json"
    if content is not None:
        path.write_text(content)
    board = BoardFile(path)
    assert not board.ready
    assert board.snapshot()[UNREADABLE].state is ComponentState.DOWN


def test_the_shared_board_is_read_back_as_written(tmp_path: Path) -> None:
    shared = SharedBoard(tmp_path / "run" / "components.json")
    shared.track("intake")
    shared.track("expiry", required=False)
    shared.up("intake")
    shared.restarting("intake", "KilledBySIGKILL")
    assert BoardFile(shared.path).snapshot() == shared.snapshot()
    assert not BoardFile(shared.path).ready
    shared.up("intake")
    assert BoardFile(shared.path).ready  # expiry is not required
    assert json.loads(shared.path.read_text())["intake"]["restarts"] == 1


async def test_a_process_named_last_is_asked_to_stop_only_after_the_others_ended(
    tmp_path: Path,
) -> None:
    ended, asked = tmp_path / "first-ended", tmp_path / "last-asked"
    slow_to_stop = python(
        "import pathlib, signal, sys, time\n"
        "def bye(*_):\n"
        "    time.sleep(1.0)\n"
        f"    pathlib.Path({str(ended)!r}).write_text(str(time.time()))\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, bye)\n"
        "time.sleep(60)\n"
    )
    last = python(
        "import pathlib, signal, sys, time\n"
        "def bye(*_):\n"
        f"    pathlib.Path({str(asked)!r}).write_text(str(time.time()))\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, bye)\n"
        "time.sleep(60)\n"
    )
    board = SharedBoard(tmp_path / "components.json")
    kids = ChildProcesses(
        {"sealer": last, "intake": slow_to_stop}, board, last=frozenset({"sealer"})
    )
    stop = asyncio.Event()
    running = asyncio.create_task(kids.run(stop))
    await asyncio.sleep(1.0)
    stop.set()
    assert await asyncio.wait_for(running, 30) == 0
    assert float(asked.read_text()) >= float(ended.read_text())
