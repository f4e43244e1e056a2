"""A keyed blind index of family names and birth dates (*zoeken op naam en geboortedatum*).

A name is never stored in clear, nor indexed in clear: the index keeps, per name part, an
HMAC of the normalised part and the birth date under a secret key. Finding a case by name
needs the key and the exact (normalised) name part and date; the index itself reveals
neither. Normalising lower-cases, strips accents and leaves out Dutch name prefixes
(*tussenvoegsels*), so "Van der Berg" and "van den Bérg" find the same "berg".
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date

PREFIXES = frozenset(
    [
        "van",
        "de",
        "der",
        "den",
        "het",
        "ten",
        "ter",
        "te",
        "in",
        "op",
        "'t",
        "d",
        "l",
        "la",
        "le",
        "du",
        "des",
        "del",
        "della",
        "von",
        "zu",
        "am",
        "aan",
        "bij",
        "uit",
    ]
)
_PARTS = re.compile(r"[a-z]+")
_CONTEXT = b"ks-engine name index v1"


def name_parts(name: str) -> list[str]:
    """The normalised parts of a name a search can match: no accents, no prefixes."""
    plain = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    parts = [p for p in _PARTS.findall(plain) if p not in PREFIXES]
    return list(dict.fromkeys(parts))


class NameIndex:
    """Blind keys of (name part, birth date) under a key derived from the engine's secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the name-index secret must be at least 16 bytes")
        self._key = hmac.new(secret, _CONTEXT, hashlib.sha256).digest()

    def keys(self, name: str, born: date) -> list[str]:
        """One blind key per name part of ``name`` born on ``born``."""
        return [self._key_of(part, born) for part in name_parts(name)]

    def _key_of(self, part: str, born: date) -> str:
        message = f"{part}|{born.isoformat()}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()
