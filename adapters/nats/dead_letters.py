"""Sealed dead letters: KS_DLQ keeps rejected signals for repair, never personal data in clear.

Before a rejected message is published to KS_DLQ, its body (which carries a BSN) and its
original subject and headers (a partner's Nats-Msg-Id may name a person too) are sealed with
AES-256-GCM under a key derived from the engine's cipher key, and bound to the letter's
original stream sequence: a sealed body moved to another letter does not open. What an
administrator needs to sort the letters stays in clear headers that hold no personal data (the
reason code, the reason with BSN-like numbers redacted, the municipality's subject, the
partner, the number of deliveries). Only `open`, with the engine's key, gives back the original
message, for `ks dlq show` (repair) and `ks dlq replay` (publish it again, as it was sent).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ks_engine.log import redact_text
from ks_engine.settings import Settings

DLQ_SUBJECT = "ks.dlq.signals"
SEALED_FORMAT = "aes-256-gcm/v1"
_AAD = b"ks-engine dead letter v1:"
_NONCE_BYTES = 12
_LONG_NUMBER = re.compile(r"\d(?:[ .\-]?\d){8,}")


class DeadLetterError(Exception):
    """A dead letter cannot be opened: damaged, moved, or sealed under another key."""


def dead_letter_key(cipher_key: bytes) -> bytes:
    """The dead letters' key: derived from (never equal to) the event store's cipher key."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"ks-engine dead letters v1"
    ).derive(cipher_key)


def dead_letter_seal(settings: Settings) -> DeadLetterSeal:
    """The seal under this engine's key (KS_CIPHER_KEY, or the development one)."""
    return DeadLetterSeal(dead_letter_key(base64.b64decode(settings.cipher_key_text())))


@dataclass(frozen=True)
class Original:
    """A message as a partner sent it: subject, headers and body, byte for byte."""

    subject: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Rejected:
    """Why and where a message was rejected: what the clear headers of its letter say."""

    stream: str
    sequence: int
    code: str
    reason: str
    deliveries: int
    reference: str
    partner: str
    original_subject: str

    @property
    def letter_id(self) -> str:
        """``<stream>:<sequence>`` of the original message: the letter's Nats-Msg-Id suffix."""
        return f"{self.stream}:{self.sequence}"

    def headers(self) -> dict[str, str]:
        """The clear headers; free text is redacted, the subject too (a partner chooses it)."""
        return {
            "Nats-Msg-Id": f"dlq:{self.letter_id}",
            "Ks-Error-Code": self.code,
            "Ks-Error-Reason": _in_clear(self.reason)[:1000],
            "Ks-Original-Stream": self.stream,
            "Ks-Original-Subject": _in_clear(self.original_subject)[:200],
            "Ks-Original-Sequence": str(self.sequence),
            "Ks-Deliveries": str(self.deliveries),
            "Ks-Reference": self.reference,
            "Ks-Partner": _in_clear(self.partner)[:100],
            "Ks-Sealed": SEALED_FORMAT,
        }


def _in_clear(text: str) -> str:
    """``text`` fit for a clear header: BSNs redacted, and any other run of nine or more digits
    too, whatever surrounds it (the sealed original keeps every detail for repair)."""
    return _LONG_NUMBER.sub("[number]", redact_text(text))


class DeadLetterSeal:
    """Seals originals for KS_DLQ and opens them again with the same key."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, letter_id: str, original: Original) -> bytes:
        """The sealed form of ``original``: a nonce, then the ciphertext with its tag."""
        plain = json.dumps(
            {
                "subject": original.subject,
                "headers": original.headers,
                "body": base64.b64encode(original.body).decode(),
            },
            sort_keys=True,
        ).encode()
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plain, _AAD + letter_id.encode())

    def open(self, letter_id: str, sealed: bytes) -> Original:
        """The original sealed for ``letter_id``; DeadLetterError when it does not open."""
        try:
            nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
            doc = json.loads(self._aead.decrypt(nonce, ciphertext, _AAD + letter_id.encode()))
            return Original(
                subject=str(doc["subject"]),
                headers={str(k): str(v) for k, v in doc["headers"].items()},
                body=base64.b64decode(doc["body"], validate=True),
            )
        except (InvalidTag, ValueError, KeyError, TypeError, AttributeError, binascii.Error):
            raise DeadLetterError(
                f"dead letter {letter_id} does not open: it is damaged, belongs to another "
                "letter, or was sealed under another KS_CIPHER_KEY"
            ) from None


@dataclass(frozen=True)
class DeadLetter:
    """One message of KS_DLQ as an administrator sees it: metadata, and the sealed original."""

    seq: int
    time: datetime | None
    headers: dict[str, str] = field(default_factory=dict)
    data: bytes = b""

    @property
    def sealed(self) -> bool:
        return self.headers.get("Ks-Sealed") == SEALED_FORMAT

    @property
    def letter_id(self) -> str:
        stream = self.headers.get("Ks-Original-Stream", "KS_SIGNALS")
        return f"{stream}:{self.headers.get('Ks-Original-Sequence', '')}"

    def metadata(self) -> dict[str, str]:
        """What `ks dlq list` shows: never the body, never an original header."""
        return {
            "seq": str(self.seq),
            "time": self.time.isoformat() if self.time else "",
            "subject": self.headers.get("Ks-Original-Subject", ""),
            "partner": self.headers.get("Ks-Partner", ""),
            "code": self.headers.get("Ks-Error-Code", ""),
            "reason": self.headers.get("Ks-Error-Reason", ""),
            "deliveries": self.headers.get("Ks-Deliveries", ""),
            "sealed": "yes" if self.sealed else "no",
        }

    def original(self, seal: DeadLetterSeal) -> Original:
        """The message as sent. Letters from before sealing hold the body in clear (and no
        original headers): they are returned as they are."""
        if self.sealed:
            return seal.open(self.letter_id, self.data)
        return Original(self.headers.get("Ks-Original-Subject", ""), {}, self.data)
