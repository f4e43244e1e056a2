"""Unit tests: production refuses missing keys; the vault seals, opens and shreds; signing keys."""

from __future__ import annotations

import base64
import secrets

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.values import PersonalDetails
from ks_engine.audit import chain, signing
from ks_engine.keystore import KeyStoreError, MemoryKeyStore, PersonalDataVault, UnknownKeyError
from ks_engine.settings import Settings, SettingsError, new_secrets

PSEUDONYM = "p" * 40
AES = base64.b64encode(secrets.token_bytes(32)).decode()
ED25519 = base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.mark.parametrize(
    ("cipher", "signing_key", "named"),
    [
        (None, ED25519, "KS_CIPHER_KEY"),
        ("not-a-key", ED25519, "KS_CIPHER_KEY"),
        (base64.b64encode(b"short").decode(), ED25519, "KS_CIPHER_KEY"),
        (AES, None, "KS_SIGNING_KEY"),
        (AES, "bm90IGEga2V5", "KS_SIGNING_KEY"),
    ],
    ids=[
        "no-cipher-key",
        "cipher-key-not-base64",
        "cipher-key-short",
        "no-signing-key",
        "signing-key-unusable",
    ],
)
def test_production_refuses_a_missing_or_unusable_key(
    cipher: str | None, signing_key: str | None, named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings(
            environment="production",
            pseudonym_key=PSEUDONYM,  # type: ignore[arg-type]
            cipher_key=cipher,  # type: ignore[arg-type]
            signing_key=signing_key,  # type: ignore[arg-type]
        )


def test_production_starts_with_every_key_set() -> None:
    settings = Settings(
        environment="production",
        pseudonym_key=PSEUDONYM,  # type: ignore[arg-type]
        cipher_key=AES,  # type: ignore[arg-type]
        signing_key=ED25519,  # type: ignore[arg-type]
        nats_store_key=new_secrets()["nats_store_key"],  # type: ignore[arg-type]
    )
    assert settings.cipher_key_text() == AES


def test_sealed_details_open_until_their_key_is_destroyed() -> None:
    vault = PersonalDataVault(MemoryKeyStore())
    details = PersonalDetails(name="Test Ouder", note="vrije tekst")
    sealed, key_id = vault.seal(details, None)
    assert sealed is not None
    assert "Test Ouder" not in str(sealed)
    more, same = vault.seal(PersonalDetails(note="tweede"), key_id)
    assert same == key_id
    assert more is not None
    assert vault.view([sealed, more], None).details == PersonalDetails(
        name="Test Ouder", note="tweede"
    )
    vault.destroy([key_id])  # type: ignore[list-item]
    assert vault.open(sealed) is None
    assert vault.view([sealed], None).status == "erased"
    with pytest.raises(KeyStoreError, match="was destroyed"):
        vault.seal(details, key_id)


def test_nothing_to_seal_creates_no_key_and_unknown_keys_are_refused() -> None:
    keys = MemoryKeyStore()
    vault = PersonalDataVault(keys)
    assert vault.seal(PersonalDetails(), None) == (None, None)
    with pytest.raises(UnknownKeyError):
        keys.get("never-made")


def test_a_ciphertext_moved_to_another_key_id_does_not_open() -> None:
    vault = PersonalDataVault(MemoryKeyStore())
    sealed, _ = vault.seal(PersonalDetails(name="A"), None)
    other, _ = vault.seal(PersonalDetails(name="B"), None)
    assert sealed is not None
    assert other is not None
    with pytest.raises(KeyStoreError, match="cannot be opened"):
        vault.open({"key_id": other["key_id"], "ciphertext": sealed["ciphertext"]})


def test_checkpoint_signatures_and_canonical_hashes() -> None:
    key = Ed25519PrivateKey.generate()
    loaded = signing.load_signing_key(ED25519)
    message = chain.checkpoint_message(5, "ab" * 32, 5, "2026-11-02T09:30:00+00:00")
    signature = signing.sign(loaded, message)
    assert signing.is_valid_signature(loaded.public_key(), message, signature)
    assert not signing.is_valid_signature(key.public_key(), message, signature)
    assert not signing.is_valid_signature(loaded.public_key(), message + b" ", signature)
    assert chain.canonical({"b": 1, "a": "é"}) == b'{"a":"\\u00e9","b":1}'
    assert chain.link_hash(1, chain.GENESIS, "x") != chain.link_hash(2, chain.GENESIS, "x")
    with pytest.raises(signing.SigningKeyError):
        signing.load_signing_key("not base64 !")
