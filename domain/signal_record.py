"""Idempotency record of one partner signal: the engine's own memory of what it processed.

Its id derives from the signal's key (source + id), so the same signal processed twice, long
after NATS' duplicate window, finds the record and has no second effect.
"""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

_NAMESPACE = UUID("7d1f6a0e-2c4b-4e8e-b7f3-3b1e2d9c6a40")


def signal_record_id(signal_key: str) -> UUID:
    """Deterministic id of the record of the signal with this key."""
    return uuid5(_NAMESPACE, f"signal:{signal_key}")


class SignalRecord(Aggregate):
    """A processed signal and its effect: which case it opened or was added to."""

    @staticmethod
    def create_id(signal_key: str) -> UUID:
        return signal_record_id(signal_key)

    @event("Processed")
    def __init__(self, signal_key: str, case_id: UUID, matched_existing: bool) -> None:
        self.case_id = case_id
        self.matched_existing = matched_existing
