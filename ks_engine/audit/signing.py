"""The engine's Ed25519 key: it signs the audit checkpoints; auditors verify with its public key."""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class SigningKeyError(ValueError):
    """The configured signing key or a given public key cannot be read."""


def load_signing_key(text: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM text, base64 of PEM, or base64 of the 32 raw bytes."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        return _from_pem(text.encode())
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SigningKeyError("the signing key is neither PEM nor base64") from None
    if len(raw) == 32:
        return Ed25519PrivateKey.from_private_bytes(raw)
    if raw.startswith(b"-----BEGIN"):
        return _from_pem(raw)
    raise SigningKeyError("the signing key is not an Ed25519 private key")


def _from_pem(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise SigningKeyError("the signing key's PEM cannot be read") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError("the signing key is not an Ed25519 private key")
    return key


def public_key_pem(key: Ed25519PublicKey) -> str:
    """The public key as PEM (SubjectPublicKeyInfo), what auditors are given."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_key(pem: str) -> Ed25519PublicKey:
    """An Ed25519 public key from its PEM; SigningKeyError if it is not one."""
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError):
        raise SigningKeyError("the public key's PEM cannot be read") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError("the public key is not an Ed25519 key")
    return key


def fingerprint(key: Ed25519PublicKey) -> str:
    """A short name of a public key: SHA-256 of its raw bytes, first 16 hex digits."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    """The signature of ``message``, base64."""
    return base64.b64encode(key.sign(message)).decode("ascii")


def is_valid_signature(key: Ed25519PublicKey, message: bytes, signature: str) -> bool:
    """Whether ``signature`` (base64) is ``key``'s signature of ``message``."""
    try:
        key.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
