"""What ``ks audit verify`` found, and how it names events for an auditor."""

from __future__ import annotations

from dataclasses import dataclass, field

from ks_engine.audit.summary import is_case_event


@dataclass(frozen=True)
class Problem:
    """One finding: where, what kind (altered, removed, inserted, ...), and in words."""

    position: int | None
    kind: str
    message: str


@dataclass
class Report:
    """What a verification found."""

    verified: int = 0
    checkpoints: int = 0
    last_position: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

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
