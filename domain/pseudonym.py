"""Keyed pseudonyms of BSNs: the engine only ever knows a person by this."""

from __future__ import annotations

import hmac

from domain.values import check_bsn


def pseudonymise(bsn: str, key: bytes) -> str:
    """HMAC-SHA256 of a valid BSN under the engine's secret key, as hex.

    Without the key the pseudonym cannot be linked back to the BSN by trying all nine-digit
    numbers, which a plain hash would allow.
    """
    if len(key) < 16:
        raise ValueError("the pseudonym key must be at least 16 bytes")
    return hmac.digest(key, check_bsn(bsn).encode("ascii"), "sha256").hex()
