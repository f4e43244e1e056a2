"""The engine's own memory of which partner signals it processed, long after NATS' duplicate
window: the same signal delivered again finds it and has no second effect.

A signal that opens a case gives the case an id derived from the signal's key (source + id)
and a secret of the engine: the case itself is the memory. A signal added to an open case
leaves an idempotency record, whose id derives from the key alone (partners are told it as
their signal's reference).
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.uuid_text import uuid5_text

_NAMESPACE = UUID("7d1f6a0e-2c4b-4e8e-b7f3-3b1e2d9c6a40")
_NAMESPACE_BYTES = _NAMESPACE.bytes


@lru_cache(maxsize=4096)  # the intake derives it more than once per signal
def signal_record_id(signal_key: str) -> UUID:
    """Deterministic id of the record of the signal with this key."""
    return uuid5(_NAMESPACE, f"signal:{signal_key}")


@lru_cache(maxsize=4096)  # the intake's receipts and the relay's feedback name it
def signal_reference(signal_key: str) -> str:
    """The reference partners are told for the signal with this key (``source#id``): the
    text of ``signal_record_id``, made without the UUID class."""
    return uuid5_text(_NAMESPACE_BYTES, f"signal:{signal_key}")


@lru_cache(maxsize=4096)
def opened_case_id(signal_key: str, secret: bytes) -> UUID:
    """Deterministic id of the case the signal with this key opens (if it opens one). Keyed
    with the engine's ``secret`` (``case_id_secret``): a partner knows its own signal's key,
    and must not be able to work out the case's id from it."""
    digest = hmac.new(secret, f"case:{signal_key}".encode(), hashlib.sha256).digest()
    return UUID(bytes=digest[:16], version=4)


def case_id_secret(pseudonym_key: bytes) -> bytes:
    """The secret of ``opened_case_id``, derived from the pseudonym key (kept apart from the
    pseudonyms' own use of that key)."""
    return hmac.new(pseudonym_key, b"ks-engine opened case ids v1", hashlib.sha256).digest()


class SignalRecord(Aggregate):
    """A processed signal and its effect: which case it opened or was added to."""

    @staticmethod
    def create_id(signal_key: str) -> UUID:
        return signal_record_id(signal_key)

    @event("Processed")
    def __init__(self, signal_key: str, case_id: UUID, matched_existing: bool) -> None:
        self.case_id = case_id
        self.matched_existing = matched_existing
