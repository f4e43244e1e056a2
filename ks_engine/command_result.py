"""What a command on a case returns: the case's version and the log position of its last event."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class CommandResult:
    """The case's version after a command and the log position of its last event."""

    case_id: UUID
    version: int
    position: int
