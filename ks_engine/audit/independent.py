"""Signed checkpoints kept outside the database: the copies ``ks audit verify`` compares with.

Someone with the database alone can remove the newest events together with their seals and
the stored checkpoints; a copy kept elsewhere still shows what the chain held. Two homes: the
messages the sealer publishes to ``KS_EVENTS`` (``published.py``) and a checkpoints file that
``ks audit checkpoints export`` appends to: JSON Lines, one checkpoint a line, exactly as
published (``{"format": "ks-checkpoint/1", "position", "head", "events", "signed_at",
"key_fingerprint", "signature"}``). Appending never rewrites a line, so the file can live on
append-only or write-once storage, or be copied off the machine after each export.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ks_engine.audit import signing
from ks_engine.audit.chain import Checkpoint, checkpoint_from_json


class CheckpointFileError(Exception):
    """A checkpoints file cannot be read or written."""


@dataclass
class CheckpointSource:
    """The checkpoints one independent home holds, and where it holds something else."""

    name: str  # "KS_EVENTS", "checkpoints file /backup/ks.jsonl"
    checkpoints: list[Checkpoint] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # "line 3 of checkpoints file ..."


def read_checkpoint_file(path: Path) -> CheckpointSource:
    """The checkpoints in ``path``; lines that are none are listed, not skipped silently."""
    source = CheckpointSource(f"checkpoints file {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise CheckpointFileError(f"cannot read checkpoints file {path}: {e}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            if not isinstance(doc, dict):
                raise ValueError("not an object")
            source.checkpoints.append(checkpoint_from_json(doc))
        except (ValueError, RecursionError):
            source.unreadable.append(f"line {number} of {source.name}")
    return source


@dataclass(frozen=True)
class Appended:
    """What an export added to a checkpoints file, and what it refused to add."""

    added: list[Checkpoint]
    already: int
    conflicting: list[Checkpoint]  # the store's, differing from the file's at that position
    missing: list[Checkpoint]  # in the file, no longer in the store
    invalid: list[Checkpoint]  # in the store without a valid signature of the engine
    unreadable: list[str]  # lines of the file that are no checkpoints


def append_checkpoints(path: Path, stored: Sequence[Checkpoint], key: Ed25519PublicKey) -> Appended:
    """Append the stored checkpoints ``path`` does not hold yet, each validly signed by
    ``key``; one that differs from the file's copy at its position is not appended."""
    kept = read_checkpoint_file(path) if path.exists() else CheckpointSource(str(path))
    by_position = {cp.position: cp for cp in kept.checkpoints}
    fingerprint = signing.fingerprint(key)
    added, conflicting, invalid, already = [], [], [], 0
    for cp in stored:
        if cp.key_fingerprint != fingerprint or not signing.is_valid_signature(
            key, cp.message(), cp.signature
        ):
            invalid.append(cp)
        elif (copy := by_position.get(cp.position)) is None:
            added.append(cp)
        elif copy == cp:
            already += 1
        else:
            conflicting.append(cp)
    in_store = {cp.position for cp in stored}
    missing = [cp for cp in kept.checkpoints if cp.position not in in_store]
    if added:
        lines = "".join(json.dumps(cp.as_json(), sort_keys=True) + "\n" for cp in added)
        try:
            if path.exists() and path.stat().st_size and not _ends_a_line(path):
                lines = "\n" + lines  # an append cut off earlier: never glue onto its line
            with path.open("a", encoding="ascii") as f:
                f.write(lines)
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            raise CheckpointFileError(f"cannot append to checkpoints file {path}: {e}") from None
    return Appended(added, already, conflicting, missing, invalid, kept.unreadable)


def _ends_a_line(path: Path) -> bool:
    with path.open("rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"
