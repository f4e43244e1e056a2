"""The status board of `ks run`'s processes, shared through a file in the data directory.

The parent process supervises the others and writes its board to the file on every change
(``SharedBoard``); the API process reads it for ``/ready`` and ``/metrics`` (``BoardFile``).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ks_engine.supervision import ComponentState, ComponentStatus, StatusBoard

UNREADABLE = "ks run"  # the entry reported down when the file cannot be read


class SharedBoard(StatusBoard):
    """A status board that writes itself to ``path`` (atomically) on every change."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def track(self, name: str, *, required: bool = True) -> None:
        super().track(name, required=required)
        self._write()

    def up(self, name: str) -> None:
        super().up(name)
        self._write()

    def restarting(self, name: str, error: str) -> None:
        super().restarting(name, error)
        self._write()

    def down(self, name: str, error: str | None = None) -> None:
        super().down(name, error)
        self._write()

    def _write(self) -> None:
        doc = {name: asdict(status) for name, status in self.snapshot().items()}
        partial = self.path.with_suffix(".partial")
        partial.write_text(json.dumps(doc), encoding="utf-8")
        os.replace(partial, self.path)


class BoardFile(StatusBoard):
    """The board another process writes to ``path``, read afresh on every look."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def snapshot(self) -> dict[str, ComponentStatus]:
        try:
            doc: dict[str, dict[str, Any]] = json.loads(self.path.read_text(encoding="utf-8"))
            return {
                name: ComponentStatus(
                    state=ComponentState(entry["state"]),
                    required=bool(entry["required"]),
                    restarts=int(entry["restarts"]),
                    last_error=entry["last_error"],
                )
                for name, entry in doc.items()
            }
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {UNREADABLE: ComponentStatus(last_error="StatusFileUnreadable")}
