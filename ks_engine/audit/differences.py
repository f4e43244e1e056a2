"""What differs between a seal and the stored event it sealed, or between two copies of a
checkpoint, named for an auditor: the field in words with the column in brackets.

Values are shown only where they say something and hold no personal data (ids, versions,
event types); hashes, stored bytes and signatures are only said to differ.
"""

from __future__ import annotations

from dataclasses import dataclass

from eventsourcing.persistence import Notification

from ks_engine.audit.chain import Checkpoint, Link


@dataclass(frozen=True)
class Difference:
    """One field whose sealed and stored values differ."""

    what: str  # "event type"
    sealed_column: str  # its column in the seal (audit_chain)
    stored_column: str  # its column in the stored event
    sealed: str | None = None  # shown when it says something
    stored: str | None = None

    def as_stored(self) -> str:
        """Said of the stored event: 'its event type (topic) is now X, sealed as Y'."""
        what = f"{self.what} ({self.stored_column})"
        if self.sealed is None or self.stored is None:
            return f"its {what} changed"
        return f"its {what} is now {self.stored}, sealed as {self.sealed}"

    def as_sealed(self) -> str:
        """Said of the seal: 'it records event type (topic) Y where the stored event has X'."""
        what = f"{self.what} ({self.sealed_column})"
        if self.sealed is None or self.stored is None:
            return f"its {what} does not match the stored event's"
        return f"it records {what} {self.sealed} where the stored event has {self.stored}"


def event_type(topic: str) -> str:
    """A stored topic as an auditor reads it: 'Referral.ConsentGiven'."""
    return topic.rsplit(":", 1)[-1][:80]


def identity_differences(link: Link, n: Notification) -> list[Difference]:
    """The columns naming the event (id, version, type) that differ from its seal."""
    found = []
    if str(n.originator_id) != link.aggregate:
        found.append(
            Difference(
                "case or record id",
                "aggregate",
                "originator_id",
                link.aggregate,
                str(n.originator_id),
            )
        )
    if n.originator_version != link.version:
        found.append(
            Difference(
                "version",
                "version",
                "originator_version",
                str(link.version),
                str(n.originator_version),
            )
        )
    if n.topic != link.topic:
        found.append(
            Difference("event type", "topic", "topic", event_type(link.topic), event_type(n.topic))
        )
    return found


STATE = Difference("stored bytes", "state_hash", "state")
SUMMARY = Difference("pseudonymised summary, derived from it", "summary_hash", "summary_hash")


def joined(parts: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


CHECKPOINT_FIELDS = (
    ("head", "head hash (head)"),
    ("events", "count of events (events)"),
    ("signed_at", "signing time (signed_at)"),
    ("key_fingerprint", "signing key (key_fingerprint)"),
    ("signature", "signature (signature)"),
)


def checkpoint_differences(kept: Checkpoint, stored: Checkpoint) -> list[str]:
    """The fields of a stored checkpoint that differ from an independently kept copy."""
    found = []
    for field, what in CHECKPOINT_FIELDS:
        was, now = getattr(kept, field), getattr(stored, field)
        if was != now:
            shown = field in ("events", "signed_at")
            found.append(f"its {what} is {now}, kept as {was}" if shown else f"its {what}")
    return found
