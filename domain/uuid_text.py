"""Name-based ids (UUID version 5) as text, made without the UUID class.

The relay makes a few of these for every event it publishes (the event's id, each feedback's
id); ``str(uuid5(namespace, name))`` spends most of its time in the UUID class's checks.
"""

from __future__ import annotations

import hashlib
from uuid import UUID


def uuid5_text(namespace: UUID | bytes, name: str) -> str:
    """``str(uuid5(namespace, name))``, written out; ``namespace`` also as its 16 bytes (which
    callers keep, rather than have ``UUID.bytes`` made again for every id)."""
    prefix = namespace if isinstance(namespace, bytes) else namespace.bytes
    digest = bytearray(hashlib.sha1(prefix + name.encode(), usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
