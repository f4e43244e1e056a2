"""The status board copied for the API's worker processes, read back as `ks run`'s status file."""

from __future__ import annotations

from pathlib import Path

from entrypoints.processes.api_workers import write_board
from entrypoints.processes.status_file import BoardFile
from ks_engine.supervision import ComponentState, StatusBoard


def test_a_worker_reads_the_board_as_it_stands_after_every_change(tmp_path: Path) -> None:
    path = tmp_path / "board.json"
    board = StatusBoard()
    copy = BoardFile(path)
    assert not copy.ready  # nothing written yet
    board.watch(lambda: write_board(board, path))
    board.track("relay")
    board.track("expiry", required=False)
    assert copy.snapshot() == board.snapshot()
    board.up("relay")
    board.up("expiry")
    assert copy.snapshot() == board.snapshot()
    assert copy.ready
    board.restarting("relay", "RuntimeError")
    assert copy.snapshot() == board.snapshot()
    assert copy.snapshot()["relay"].state is ComponentState.RESTARTING
    assert copy.snapshot()["relay"].restarts == 1
    assert not copy.ready
    board.down("relay", "OSError")
    assert copy.snapshot()["relay"].last_error == "OSError"


def test_a_watch_that_stopped_is_not_called_again(tmp_path: Path) -> None:
    board = StatusBoard()
    calls: list[str] = []
    stop = board.watch(lambda: calls.append("changed"))
    board.track("api")
    stop()
    board.up("api")
    assert calls == ["changed"]
