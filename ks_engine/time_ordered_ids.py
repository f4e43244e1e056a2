"""Ids in time order: UUIDs of version 7 (RFC 9562), the milliseconds since 1970 followed by
74 random bits.

Used where many new rows land in an index keyed by the id (access-log entries, data keys): an
id made in a later millisecond sorts after one made earlier, as a number and as text, so each
new row joins the end of the index instead of a random page of it.
"""

from __future__ import annotations

import secrets
import time
from uuid import UUID

RANDOM_BITS = 74


def time_ordered_id(ms: int | None = None, random: int | None = None) -> UUID:
    """A version 7 UUID of millisecond ``ms`` (now by default) with ``random``'s low 74 bits
    (fresh random bits by default)."""
    ms = time.time_ns() // 1_000_000 if ms is None else ms
    bits = secrets.randbits(RANDOM_BITS) if random is None else random % 2**RANDOM_BITS
    return UUID(
        int=(ms & 0xFFFF_FFFF_FFFF) << 80
        | 0x7 << 76  # the version
        | (bits >> 62) << 64
        | 0b10 << 62  # the variant
        | bits & ((1 << 62) - 1)
    )
