"""The id of a case a signal opens follows from the signal's key and the engine's secret: the
same for every delivery (how a redelivery is recognised), different under another secret (a
partner, who knows its signal's key but not the secret, cannot work the id out)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.signal_record import case_id_secret, opened_case_id, signal_record_id

keys = st.text(min_size=1, max_size=80)
secrets = st.binary(min_size=16, max_size=64)


@given(keys, secrets, secrets)
def test_the_id_is_stable_per_secret_and_differs_between_secrets(
    key: str, one: bytes, other: bytes
) -> None:
    assert opened_case_id(key, one) == opened_case_id(key, one)
    if one != other:
        assert opened_case_id(key, one) != opened_case_id(key, other)
    assert opened_case_id(key, one) != signal_record_id(key)  # the reference partners are told


@given(keys, keys, secrets)
def test_two_keys_give_two_ids(key: str, other: str, secret: bytes) -> None:
    if key != other:
        assert opened_case_id(key, secret) != opened_case_id(other, secret)


def test_the_secret_is_not_the_pseudonym_key_itself() -> None:
    pseudonym_key = b"k" * 32
    assert case_id_secret(pseudonym_key) != pseudonym_key
    assert case_id_secret(pseudonym_key) == case_id_secret(pseudonym_key)
    assert opened_case_id("a#1", case_id_secret(pseudonym_key)).version == 4
