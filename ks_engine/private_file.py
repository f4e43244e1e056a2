"""A small private file (mode 0600) changed by several processes: locked, replaced atomically.

Read-modify-write of the principals file happens in ``ks principals``, ``ks run --demo`` and
the API (dating tokens of an older file) alike; the lock keeps one change from undoing another,
the atomic replace keeps a reader from ever seeing half a file.
"""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the exclusive lock of ``path`` (a sibling ``.name.lock`` file) between processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(f".{path.name}.lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def replace(path: Path, text: str) -> None:
    """Write ``text`` to a new 0600 file and move it over ``path`` in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def stamp(path: Path) -> tuple[int, int] | None:
    """Modification time and size of ``path``: changes whenever it is replaced."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return (found.st_mtime_ns, found.st_size)
