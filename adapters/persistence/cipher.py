"""AES-GCM for the event store, on the ``cryptography`` package.

Byte-compatible with eventsourcing's ``AESCipher`` (a 12-byte nonce, the 16-byte tag, then
the ciphertext; the key is base64 in ``CIPHER_KEY``), so a store written by either reads with
the other. ``cryptography`` calls OpenSSL once per event where pycryptodome builds its GCM
mode in Python for every event; the intake encrypts several events per signal.
"""

from __future__ import annotations

import os
from base64 import b64decode
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Cipher

if TYPE_CHECKING:
    from eventsourcing.utils import Environment

NONCE_BYTES = 12
TAG_BYTES = 16
KEY_SIZES = (16, 24, 32)


class AesGcmCipher(Cipher):
    """The event store's cipher strategy (``CIPHER_TOPIC``)."""

    CIPHER_KEY = "CIPHER_KEY"

    def __init__(self, environment: Environment) -> None:
        text = environment.get(self.CIPHER_KEY)
        if not text:
            raise OSError(f"'{self.CIPHER_KEY}' not in env")
        key = b64decode(text.encode("utf8"))
        if len(key) not in KEY_SIZES:
            raise ValueError(f"Invalid key size: {len(key)} not in {KEY_SIZES}")
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext, None)  # ciphertext followed by the tag
        return nonce + sealed[-TAG_BYTES:] + sealed[:-TAG_BYTES]

    def decrypt(self, ciphertext: bytes) -> bytes:
        if len(ciphertext) < NONCE_BYTES + TAG_BYTES:
            raise ValueError("Damaged cipher text: too short for a nonce and a tag")
        nonce = ciphertext[:NONCE_BYTES]
        tag = ciphertext[NONCE_BYTES : NONCE_BYTES + TAG_BYTES]
        body = ciphertext[NONCE_BYTES + TAG_BYTES :]
        try:
            return self._aead.decrypt(nonce, body + tag, None)
        except InvalidTag:
            raise ValueError("Cipher text is damaged: MAC check failed") from None
