"""The supervised components' status board, handed to other processes through a file.

The HTTP API's worker processes answer ``/ready`` and ``/metrics`` for the whole engine, but
the board lives in the process that supervises the components. That process writes the board
to a small file at every change (replaced in one step, so a reader never sees half of it); each
worker reads it back whenever ``/ready`` or ``/metrics`` asks (a few hundred bytes).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from ks_engine.private_file import replace
from ks_engine.supervision import ComponentState, ComponentStatus, StatusBoard


def write_board(board: StatusBoard, path: Path) -> None:
    """Write ``board``'s snapshot to ``path`` (only when it differs from what is there)."""
    text = json.dumps({name: asdict(s) for name, s in sorted(board.snapshot().items())})
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except FileNotFoundError:
        pass
    replace(path, text)


def _status(fields: dict[str, object]) -> ComponentStatus:
    restarts = fields.get("restarts", 0)
    error = fields.get("last_error")
    return ComponentStatus(
        state=ComponentState(str(fields.get("state", ComponentState.DOWN))),
        required=bool(fields.get("required", True)),
        restarts=restarts if isinstance(restarts, int) else 0,
        last_error=error if isinstance(error, str) else None,
    )


class BoardFile(StatusBoard):
    """A read-only board whose snapshot is the one last written to ``path``.

    While the file cannot be read every component is reported as it was last read (nothing
    before the first read): ``/ready`` then decides by its own checks alone.
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def snapshot(self) -> dict[str, ComponentStatus]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raw = None
        if isinstance(raw, dict):
            statuses = {str(k): _status(v) for k, v in raw.items() if isinstance(v, dict)}
            with self._lock:
                self._status = statuses
        return super().snapshot()
