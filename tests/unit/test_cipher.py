"""The event store's AES-GCM cipher: compatible with eventsourcing's, and tamper-evident."""

from __future__ import annotations

import pytest
from eventsourcing.cipher import AESCipher
from eventsourcing.utils import Environment

from adapters.persistence.cipher import AesGcmCipher

KEY = AESCipher.create_key(32)
PLAINTEXT = b'{"note": "zorgen over huisvesting"}'


def env(key: str = KEY) -> Environment:
    return Environment(env={"CIPHER_KEY": key})


def test_what_one_encrypts_the_other_decrypts() -> None:
    ours, theirs = AesGcmCipher(env()), AESCipher(env())

    assert theirs.decrypt(ours.encrypt(PLAINTEXT)) == PLAINTEXT
    assert ours.decrypt(theirs.encrypt(PLAINTEXT)) == PLAINTEXT


def test_each_encryption_uses_a_fresh_nonce() -> None:
    cipher = AesGcmCipher(env())

    first, second = cipher.encrypt(PLAINTEXT), cipher.encrypt(PLAINTEXT)

    assert first[:12] != second[:12]
    assert PLAINTEXT not in first


@pytest.mark.parametrize("position", [0, 12, 28, -1])
def test_a_changed_byte_is_detected(position: int) -> None:
    cipher = AesGcmCipher(env())
    sealed = bytearray(cipher.encrypt(PLAINTEXT))
    sealed[position] ^= 0x01

    with pytest.raises(ValueError, match="damaged"):
        cipher.decrypt(bytes(sealed))


def test_another_key_cannot_decrypt() -> None:
    sealed = AesGcmCipher(env()).encrypt(PLAINTEXT)

    with pytest.raises(ValueError, match="damaged"):
        AesGcmCipher(env(AESCipher.create_key(32))).decrypt(sealed)


def test_a_truncated_ciphertext_and_bad_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="too short"):
        AesGcmCipher(env()).decrypt(b"\x00" * 27)
    with pytest.raises(ValueError, match="key size"):
        AesGcmCipher(env(AESCipher.create_key(16)[:8]))
    with pytest.raises(OSError, match="CIPHER_KEY"):
        AesGcmCipher(Environment(env={}))
