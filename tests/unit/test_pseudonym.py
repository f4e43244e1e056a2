"""Keyed pseudonyms: the engine knows a person only by an HMAC of the BSN under its key."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidValueError
from domain.pseudonym import pseudonymise
from ks_engine.bootstrap import bootstrap
from ks_engine.settings import Settings
from tests.referral_builders import BSN_A, BSN_B, KEY

OTHER_KEY = b"another-key-of-at-least-16-bytes"


def test_the_same_bsn_and_key_give_the_same_pseudonym() -> None:
    assert pseudonymise(BSN_A, KEY) == pseudonymise(BSN_A, bytes(KEY))


def test_different_people_get_different_pseudonyms() -> None:
    assert pseudonymise(BSN_A, KEY) != pseudonymise(BSN_B, KEY)


def test_the_pseudonym_depends_on_the_key() -> None:
    assert pseudonymise(BSN_A, KEY) != pseudonymise(BSN_A, OTHER_KEY)


def test_the_pseudonym_is_not_a_plain_hash_of_the_bsn() -> None:
    pseudonym = pseudonymise(BSN_A, KEY)

    assert len(pseudonym) == 64
    assert int(pseudonym, 16) >= 0
    assert pseudonym != hashlib.sha256(BSN_A.encode()).hexdigest()
    assert BSN_A not in pseudonym


@given(st.binary(min_size=16, max_size=64), st.sampled_from([BSN_A, BSN_B, "123456782"]))
def test_the_pseudonym_is_the_hex_hmac_sha256_of_the_bsn(key: bytes, bsn: str) -> None:
    assert pseudonymise(bsn, key) == hmac.new(key, bsn.encode(), hashlib.sha256).hexdigest()


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        pseudonymise(BSN_A, b"short")


@pytest.mark.parametrize("bad", ["123456789", "12345678", "١١١٢٢٢٣٣٣"])
def test_an_invalid_bsn_is_refused_before_pseudonymising(bad: str) -> None:
    with pytest.raises(InvalidValueError) as refused:
        pseudonymise(bad, KEY)
    assert bad not in str(refused.value)


def test_the_engine_keeps_its_development_key_per_data_directory(tmp_path: Path) -> None:
    def engine_pseudonym(data_dir: Path) -> str:
        engine = bootstrap(Settings(store="memory", data_dir=data_dir), configure_logs=False)
        try:
            return engine.pseudonymise(BSN_A)
        finally:
            engine.close()

    first = engine_pseudonym(tmp_path / "one")

    assert engine_pseudonym(tmp_path / "one") == first  # after a restart
    assert engine_pseudonym(tmp_path / "two") != first  # another installation
    assert (tmp_path / "one" / "development-secrets.json").stat().st_mode & 0o077 == 0


def test_a_configured_key_is_used(tmp_path: Path) -> None:
    settings = Settings(store="memory", data_dir=tmp_path, pseudonym_key=KEY.decode())
    engine = bootstrap(settings, configure_logs=False)
    try:
        assert engine.pseudonymise(BSN_A) == pseudonymise(BSN_A, KEY)
    finally:
        engine.close()
