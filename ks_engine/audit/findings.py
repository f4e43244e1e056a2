"""What ``ks audit verify`` found, and how it names events for an auditor."""

from __future__ import annotations

from dataclasses import dataclass, field

from ks_engine.audit.chain import Checkpoint, Link
from ks_engine.audit.summary import is_case_event


@dataclass(frozen=True)
class Problem:
    """One finding: where, what kind (altered, removed, inserted, ...), and in words."""

    position: int | None
    kind: str
    message: str


@dataclass
class Report:
    """What a verification found, and which checkpoints kept elsewhere it compared with."""

    verified: int = 0
    checkpoints: int = 0
    last_position: int = 0
    problems: list[Problem] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)  # where -> checkpoints held
    independent: int = 0  # checkpoints kept elsewhere found in the store as kept
    newest_independent: Checkpoint | None = None

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def compared(self) -> bool:
        """Whether any checkpoint kept outside the database was compared with the store."""
        return self.independent > 0

    def add(self, position: int | None, kind: str, message: str) -> None:
        self.problems.append(Problem(position, kind, message))


def owner(topic: str, aggregate: str) -> str:
    """Whose history an event belongs to: 'case 4f2e…', 'access-log entry …'."""
    if is_case_event(topic):
        return f"case {aggregate}"
    for marker, name in (
        (":PersonIndex.", "matching-index entry"),
        (":SignalRecord.", "signal record"),
        (":AccessRecord.", "access-log entry"),
    ):
        if marker in topic:
            return f"{name} {aggregate}"
    return f"record {aggregate}"


def describe(topic: str, aggregate: str, version: int, position: int) -> str:
    """An event named for an auditor: 'event 3 of case 4f2e… (position 17)'."""
    return f"event {version} of {owner(topic, aggregate)} (position {position})"


def capital(text: str) -> str:
    """The text with its first letter a capital, to start a sentence."""
    return text[:1].upper() + text[1:]


def named(link: Link) -> str:
    """The sealed event named for an auditor (built only when there is something to say)."""
    return describe(link.topic, link.aggregate, link.version, link.position)


def sealed_words(link: Link) -> str:
    """' at <time>' when the seal's hash covers its time (chain format 2); else nothing."""
    return f" at {link.sealed_time}" if link.sealed_time else ""
